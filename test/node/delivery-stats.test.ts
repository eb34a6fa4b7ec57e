/**
 * The two derived counts of a module's delivery statistics: every offer counted once (enqueued or
 * refused for a reason), and the enqueued events not yet settled (handled, failed in the handler,
 * or lost with a crash).
 */
import { describe, expect, it } from 'vitest';
import { offeredCount, pendingCount } from '../../src/index.js';
import { emptyStats } from '../../src/node/delivery-stats.js';

// Each count a different power of two, so every sum names exactly which counts it took.
const stats = {
  ...emptyStats(),
  successful: 1_000,
  failed: 2,
  channelFull: 4,
  filtered: 8,
  serializationFailed: 16,
  handled: 32,
  handlerFailed: 64,
  lostOnCrash: 128,
  membershipDropped: 256,
  incarnations: 3,
};

describe('delivery statistics', () => {
  it('offeredCount: the enqueued offers plus the failed, full, filtered and unserializable ones', () => {
    expect(offeredCount(stats)).toBe(1_000 + 2 + 4 + 8 + 16);
    expect(offeredCount(emptyStats())).toBe(0);
  });

  it('pendingCount: the enqueued offers not yet handled, failed in the handler or lost with a crash', () => {
    expect(pendingCount(stats)).toBe(1_000 - 32 - 64 - 128);
    expect(pendingCount(emptyStats())).toBe(0);
  });
});
