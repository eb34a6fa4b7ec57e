/**
 * Deliberately broken variants of a node's store, each applied by patching one method for the
 * duration of a test (vi.restoreAllMocks undoes it). The node-durability property must fail on
 * every one; if one passes, the property is too weak to catch that bug.
 */
import { vi } from 'vitest';
import { NodeStore } from '../../../src/node/durable.js';
import { ReplayPosition } from '../../../src/node/replay-position.js';
import { EventRouter } from '../../../src/node/event-router.js';
import type { EventMap } from '../../../src/index.js';

/** The private parts a variant patches. */
type PositionInternals = { ahead: Set<number>; mark(): number; pending: Set<number> };
type RouterInternals = { defer(incarnation: unknown, cursor: unknown, seq: number): string };

export const breakages: Record<string, () => void> = {
  'flush acknowledges before the events are on disk': () => {
    vi.spyOn(NodeStore.prototype, 'flush').mockImplementation(function (this: NodeStore<EventMap>) {
      return this.opened;
    });
  },
  'the position passes events still queued (marked handled when enqueued)': () => {
    const prototype = ReplayPosition.prototype as unknown as PositionInternals;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = prototype.mark;
    vi.spyOn(prototype, 'mark').mockImplementation(function (this: PositionInternals) {
      const pending = [...this.pending];
      this.pending.clear();
      const mark = original.call(this);
      for (const seq of pending) this.pending.add(seq);
      return mark;
    });
  },
  'a replay gives again what was handled ahead of the position': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = ReplayPosition.prototype.attach;
    vi.spyOn(ReplayPosition.prototype, 'attach').mockImplementation(function (this: ReplayPosition<EventMap>, ...args) {
      (this as unknown as PositionInternals).ahead.clear();
      return original.apply(this, args);
    });
  },
  'a module behind drops live durable events instead of leaving them to its feed': () => {
    const prototype = EventRouter.prototype as unknown as RouterInternals;
    vi.spyOn(prototype, 'defer').mockImplementation(() => 'full');
  },
};
