/**
 * A deliberately broken death watch inside the kernel: the watcher handles every queued
 * Terminated as if it were still watching, so an unwatch no longer suppresses a pending one and
 * two watches of a dead target deliver twice. The death-watch property must catch it.
 */
import { ActorCell } from '../../../src/kernel/actor.js';

interface Internals {
  watching: Set<unknown> | null;
}

export async function withTerminatedAlwaysDelivered<T>(body: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(ActorCell.prototype, 'handleSystem') as PropertyDescriptor;
  const handleSystem = original.value as (this: ActorCell<unknown>, message: { kind: string; target?: unknown }) => void;
  Object.defineProperty(ActorCell.prototype, 'handleSystem', {
    ...original,
    value(this: ActorCell<unknown>, message: { kind: string; target?: unknown }): void {
      if (message.kind === 'terminated') {
        const internals = this as unknown as Internals;
        (internals.watching ??= new Set()).add(message.target);
      }
      handleSystem.call(this, message);
    },
  });
  try {
    return await body();
  } finally {
    Object.defineProperty(ActorCell.prototype, 'handleSystem', original);
  }
}
