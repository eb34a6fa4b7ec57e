/**
 * Deliberately broken variants of the node, each applied by patching one method for the duration
 * of a test (vi.restoreAllMocks undoes it). The model-based property must fail on every one.
 */
import { vi } from 'vitest';
import { BoundedQueue } from '../../../src/index.js';
import { EventRouter, type ModuleIncarnation } from '../../../src/node/event-router.js';
import type { EventMap } from '../../../src/index.js';

type Router = EventRouter<EventMap>;

export const breakages: Record<string, () => void> = {
  'the ModuleLoaded replay is duplicated': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = EventRouter.prototype.replayTo;
    vi.spyOn(EventRouter.prototype, 'replayTo').mockImplementation(function (this: Router, incarnation: ModuleIncarnation) {
      original.call(this, incarnation);
      original.call(this, incarnation);
    });
  },
  'a dead module is not removed from the subscriptions': () => {
    vi.spyOn(EventRouter.prototype, 'removeIncarnation').mockImplementation(() => undefined);
  },
  'the mailbox capacity is off by one': () => {
    vi.spyOn(BoundedQueue.prototype, 'push').mockImplementation(function (this: BoundedQueue<unknown>, item: unknown) {
      const self = this as unknown as { items: unknown[]; head: number; count: number; capacity: number };
      if (self.count > self.capacity) return false;
      if (self.count === self.items.length) {
        self.items = [...Array.from({ length: self.count }, (_, i) => self.items[(self.head + i) % self.items.length]), undefined];
        self.head = 0;
      }
      self.items[(self.head + self.count) % self.items.length] = item;
      self.count++;
      return true;
    });
  },
  'modules that do not subscribe to ModuleLoaded are never announced': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = EventRouter.prototype.announce;
    vi.spyOn(EventRouter.prototype, 'announce').mockImplementation(function (this: Router, incarnation: ModuleIncarnation) {
      if (!this.typesOf(incarnation.name).has('ModuleLoaded')) return true;
      return original.call(this, incarnation);
    });
  },
};
