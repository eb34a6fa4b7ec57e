/**
 * A deliberately broken kill: it abandons the handler in flight without accounting for the message
 * in hand (the kernel's own bug before it was fixed). The accounting property must catch it.
 */
import { ActorCell } from '../../../src/kernel/actor.js';
import type { Failure } from '../../../src/index.js';

export async function withKillForgettingTheMessageInHand<T>(body: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(ActorCell.prototype, 'kill') as PropertyDescriptor;
  const kill = original.value as (this: ActorCell<unknown>, failure: Failure) => void;
  Object.defineProperty(ActorCell.prototype, 'kill', {
    ...original,
    value(this: ActorCell<unknown>, failure: Failure): void {
      (this as unknown as { inFlight: unknown }).inFlight = null;
      kill.call(this, failure);
    },
  });
  try {
    return await body();
  } finally {
    Object.defineProperty(ActorCell.prototype, 'kill', original);
  }
}
