/**
 * Assertions about parsed values: deep-frozen plain data that shares no object with its input.
 */
import { expect } from 'vitest';

/** Every object reachable from `value` (itself included), each once. */
export function objectsIn(value: unknown, into: Set<object> = new Set()): Set<object> {
  if (typeof value !== 'object' || value === null || into.has(value)) return into;
  into.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && 'value' in descriptor) objectsIn(descriptor.value, into);
  }
  return into;
}

/** True when every object reachable from `value` is frozen and holds data properties only. */
export function isDeepFrozen(value: unknown): boolean {
  for (const object of objectsIn(value)) {
    if (!Object.isFrozen(object)) return false;
    for (const key of Reflect.ownKeys(object)) {
      if (!('value' in (Object.getOwnPropertyDescriptor(object, key) as PropertyDescriptor))) return false;
    }
  }
  return true;
}

export function expectDeepFrozen(value: unknown): void {
  expect(isDeepFrozen(value), 'deep-frozen plain data').toBe(true);
}
