/**
 * The oracles of the crash-cycles and soak campaigns and the accounting law they share, each
 * shown to catch what it is for (the campaigns themselves run quick in campaigns.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { DeliveryStats } from '../../src/index.js';
import { lawFailures } from '../../torture/lib/campaign.js';
import { membershipFailures } from '../../torture/campaigns/crash-cycles.js';
import { memoryVerdict, receiptFailures, type MemorySample } from '../../torture/campaigns/soak.js';

describe('the membership oracle of the crash cycles', () => {
  const good = ['Loaded', 'Crashed', 'Unloaded', 'Loaded', 'Crashed', 'Unloaded', 'Loaded'] as const;

  it('passes exactly Loaded, then Crashed, Unloaded, Loaded per cycle', () => {
    expect(membershipFailures('w', 's', good, 2)).toEqual([]);
  });

  it('catches an event seen twice, one missing, two out of order, a cycle too many', () => {
    expect(membershipFailures('w', 's', [...good.slice(0, 4), 'Loaded', ...good.slice(4)], 2)).toEqual([
      'w saw s: 4 Loaded, 2 Crashed, 2 Unloaded for 2 cycles (expected 3 Loaded, 2 Crashed, 2 Unloaded); first difference at event 4: Loaded where Crashed was expected',
    ]);
    expect(membershipFailures('w', 's', good.filter((_, i) => i !== 5), 2)).toHaveLength(1);
    expect(membershipFailures('w', 's', ['Loaded', 'Unloaded', 'Crashed', 'Loaded'], 1)).toHaveLength(1);
    expect(membershipFailures('w', 's', good, 1)).toEqual([
      'w saw s: 3 Loaded, 2 Crashed, 2 Unloaded for 1 cycles (expected 2 Loaded, 1 Crashed, 1 Unloaded); first difference at event 4: Crashed where nothing was expected',
    ]);
  });
});

describe('the memory oracle of the soak', () => {
  const samples = (rss: readonly number[]): MemorySample[] => rss.map((mib, at) => ({ at, rss: mib * 1024 * 1024, heapUsed: 1 }));

  it('ignores what grows during the warm-up and passes a flat RSS after it', () => {
    expect(memoryVerdict(samples([80, 110, 120, 121, 125, 131]), 2).failures).toEqual([]);
  });

  it('catches RSS growing more than 10% after the warm-up, and a soak with nothing after it', () => {
    expect(memoryVerdict(samples([80, 110, 120, 126, 132.1]), 2).failures).toEqual([
      'RSS grew 10.1% from 120 MiB at 2 s to 132.1 MiB at 4 s (at most 10%)',
    ]);
    expect(memoryVerdict(samples([80, 110]), 2).failures).toHaveLength(1);
  });

  it('measures from the lowest sample after the warm-up: a peak when the warm-up ends hides no growth', () => {
    expect(memoryVerdict(samples([80, 150, 100, 105, 112]), 1).failures).toEqual(['RSS grew 12.0% from 100 MiB at 2 s to 112 MiB at 4 s (at most 10%)']);
  });
});

describe('the receipts against the statistics', () => {
  const totals = { enqueued: 10, dropped: 5, failed: 1, filtered: 0, serializationFailed: 0 };

  it('pass when every offer reported is counted, and catch a drop nobody counted', () => {
    expect(receiptFailures(totals, { ...totals })).toEqual([]);
    expect(receiptFailures(totals, { ...totals, dropped: 4 })).toEqual(["receipts say 5 dropped, the modules' statistics 4"]);
  });
});

describe('the accounting law', () => {
  const stats = (over: Partial<DeliveryStats>): DeliveryStats => ({
    successful: 10,
    failed: 1,
    channelFull: 2,
    handled: 9,
    handlerFailed: 0,
    lostOnCrash: 1,
    serializationFailed: 0,
    filtered: 3,
    membershipDropped: 0,
    incarnations: 1,
    replayGap: 0,
    ...over,
  });

  it('holds when every offer ended in one outcome', () => {
    expect(lawFailures('m', stats({}), true)).toEqual([]);
    expect(lawFailures('m', stats({ handled: 5 }), false)).toEqual([]);
  });

  it('catches an offer in no outcome once drained, and outcomes that were never offered', () => {
    expect(lawFailures('m', stats({ handled: 8 }), true)).toEqual(['m: 1 of 16 offers in no outcome after the module drained']);
    expect(lawFailures('m', stats({ lostOnCrash: 3 }), false)).toEqual(['m: 18 outcomes counted for 16 offers']);
  });
});
