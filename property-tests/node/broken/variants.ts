/**
 * Deliberately broken variants of the node, each applied by patching one method for the duration
 * of a test (vi.restoreAllMocks undoes it). The model-based property must fail on every one.
 */
import { vi } from 'vitest';
import { Mailbox, type OfferResult } from '../../../src/kernel/mailbox.js';
import { EventRouter, type ModuleIncarnation } from '../../../src/node/event-router.js';
import type { EventMap } from '../../../src/index.js';

type Router = EventRouter<EventMap>;
/** The router's private parts a variant patches. */
type RouterInternals = { kindOf(channel: unknown, event: { type: string }): string };

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
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = Mailbox.prototype.offer;
    vi.spyOn(Mailbox.prototype, 'offer').mockImplementation(function (this: Mailbox<unknown>, message: unknown): OfferResult {
      if (this.routineSize !== this.capacity || this.closed) return original.call(this, message);
      // One more than the bound: a `>` where `>=` was meant.
      const self = this as unknown as { user: { push(item: unknown): boolean }; routine: number };
      self.user.push(message);
      self.routine++;
      return 'enqueued';
    });
  },
  'membership events overtake routine ones (the priority lane)': () => {
    const prototype = EventRouter.prototype as unknown as RouterInternals;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = prototype.kindOf;
    vi.spyOn(prototype, 'kindOf').mockImplementation(function (this: RouterInternals, channel: unknown, event: { type: string }) {
      const kind = original.call(this, channel, event);
      return kind === 'membership' ? 'critical' : kind;
    });
  },
  'the replay is truncated to what fits in one turn': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = EventRouter.prototype.pull;
    vi.spyOn(EventRouter.prototype, 'pull').mockImplementation(function (this: Router, incarnation: ModuleIncarnation) {
      original.call(this, incarnation);
      // Whatever did not fit is forgotten instead of fed as the mailbox drains.
      const backlog = incarnation.backlog as { next: number; replay: readonly unknown[] } | null;
      if (backlog !== null) backlog.next = backlog.replay.length;
    });
  },
  'events lost with a crashed module are not counted (the law)': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = EventRouter.prototype.retire;
    vi.spyOn(EventRouter.prototype, 'retire').mockImplementation(function (this: Router, incarnation: ModuleIncarnation, crash: string | null) {
      const before = incarnation.stats.lostOnCrash;
      const announced = original.call(this, incarnation, crash);
      incarnation.stats.lostOnCrash = before;
      return announced;
    });
  },
  'modules that do not subscribe to ModuleLoaded are never announced': () => {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with an explicit this below
    const original = EventRouter.prototype.announce;
    vi.spyOn(EventRouter.prototype, 'announce').mockImplementation(function (this: Router, incarnation: ModuleIncarnation) {
      if (!incarnation.types.includes('ModuleLoaded')) return true;
      return original.call(this, incarnation);
    });
  },
};
