/**
 * Checks of delivered data: plain, deep-frozen, equal to what the oracle expects, sharing no object
 * with the input. Each returns a description of the first problem found, or null.
 */

/** A short form of a value for reports (never throws). */
export function show(value: unknown): string {
  try {
    if (typeof value === 'string') return value.length > 30 ? `string(${value.length})` : JSON.stringify(value);
    if (typeof value === 'bigint') return `${String(value)}n`;
    if (Object.is(value, -0)) return '-0';
    if (typeof value !== 'object' || value === null) return String(value);
    return Array.isArray(value) ? `array(${value.length})` : 'object';
  } catch {
    return 'an unreadable value';
  }
}

/**
 * `got` is plain data equal to `expected` (itself plain data): arrays with `Array.prototype`,
 * objects with `Object.prototype`, the same own string keys, data properties only, equal scalars
 * (`Object.is`: a `-0` where `0` is expected is a difference).
 */
export function dataDifference(expected: unknown, got: unknown, path = ''): string | null {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(expected, got) ? null : `${path || 'value'}: expected ${show(expected)}, got ${show(got)}`;
  }
  if (typeof got !== 'object' || got === null) return `${path || 'value'}: expected ${show(expected)}, got ${show(got)}`;
  const isArray = Array.isArray(expected);
  if (Array.isArray(got) !== isArray) return `${path || 'value'}: expected ${show(expected)}, got ${show(got)}`;
  const proto: unknown = Object.getPrototypeOf(got);
  if (proto !== (isArray ? Array.prototype : Object.prototype)) return `${path || 'value'}: not a plain ${isArray ? 'array' : 'object'}`;
  const keys = Reflect.ownKeys(got).filter((key) => !(isArray && key === 'length'));
  const wanted = Object.keys(expected);
  if (keys.length !== wanted.length || keys.some((key) => typeof key !== 'string' || !Object.hasOwn(expected, key))) {
    return `${path || 'value'}: keys [${keys.map(String).slice(0, 8).join(', ')}] where [${wanted.slice(0, 8).join(', ')}] were expected`;
  }
  for (const key of wanted) {
    const descriptor = Object.getOwnPropertyDescriptor(got, key);
    if (descriptor === undefined || !('value' in descriptor)) return `${path}.${key}: not a data property`;
    const difference = dataDifference((expected as Record<string, unknown>)[key], descriptor.value, `${path}.${key}`);
    if (difference !== null) return difference;
  }
  return null;
}

/** Every object reachable from `value` through data properties (itself included). */
export function objectsIn(value: unknown, into: Set<object> = new Set()): Set<object> {
  const stack = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next !== 'object' || next === null || into.has(next)) continue;
    into.add(next);
    for (const key of Reflect.ownKeys(next)) {
      const descriptor = Object.getOwnPropertyDescriptor(next, key);
      if (descriptor !== undefined && 'value' in descriptor) stack.push(descriptor.value);
    }
  }
  return into;
}

/** The first object reachable from `value` that is not frozen, or holds an accessor. */
export function frozenProblem(value: unknown): string | null {
  for (const object of objectsIn(value)) {
    if (!Object.isFrozen(object)) return `a ${show(object)} that is not frozen`;
    for (const key of Reflect.ownKeys(object)) {
      if (!('value' in (Object.getOwnPropertyDescriptor(object, key) as PropertyDescriptor))) return `an accessor at ${String(key)}`;
    }
  }
  return null;
}

/** An object reachable from `value` that is one of `inputs`. */
export function sharedObject(value: unknown, inputs: ReadonlySet<object>): string | null {
  for (const object of objectsIn(value)) if (inputs.has(object)) return `it shares a ${show(object)} with the input`;
  return null;
}

/** `value` comes back from a JSON round trip as the same data. */
export function jsonProblem(value: unknown): string | null {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return `JSON.stringify threw (${error instanceof Error ? error.message : 'a non-error'})`;
  }
  const difference = dataDifference(value, JSON.parse(text) as unknown);
  return difference === null ? null : `a JSON round trip changes it: ${difference}`;
}
