/**
 * The oracle of the node-kill torture campaign (node processes with a store on real files,
 * SIGKILLed mid-stream), shown to catch what it is for. The campaign itself runs quick with the
 * others in test/torture/campaigns.test.ts, full in `npm run torture`.
 */
import { describe, expect, it } from 'vitest';
import { checkLog, checkReplay } from '../../torture/campaigns/node-kill.js';

describe('torture campaign: SIGKILL a node with a store', () => {
  it('its oracle catches a hole in the log, an acknowledged event lost, an event never handled, and a redelivery below the saved position', () => {
    expect(checkLog([1, 2, 3, 4], 4)).toEqual([]);
    expect(checkLog([1, 2, 4], 3)).toEqual(["the log's heights break at index 2: 4 where 3 was due"]);
    expect(checkLog([1, 2, 3], 5)).toEqual(['the log ends at height 3, below the acknowledged 5']);

    const kills = [{ cycle: 0, position: 10, ahead: [14] }];
    const once = [
      { cycle: 0, seq: 10, event: '0:1' },
      { cycle: 0, seq: 12, event: '0:2' },
      { cycle: 0, seq: 14, event: '0:3' },
    ];
    expect(checkReplay(once, kills, ['0:1', '0:2', '0:3'])).toEqual({ failures: [], redelivered: 0 });
    // Handled again after the kill, above the saved position: the window a crash opens.
    expect(checkReplay([...once, { cycle: 1, seq: 12, event: '0:2' }], kills, ['0:1', '0:2', '0:3'])).toEqual({ failures: [], redelivered: 1 });
    expect(checkReplay([...once, { cycle: 1, seq: 10, event: '0:1' }], kills, ['0:1', '0:2', '0:3']).failures).toEqual([
      'event 0:1 (seq 10) handled again in cycle 1 after cycle 0, though saved as handled',
    ]);
    expect(checkReplay([...once, { cycle: 1, seq: 14, event: '0:3' }], kills, ['0:1', '0:2', '0:3']).failures).toHaveLength(1);
    expect(checkReplay([...once, { cycle: 0, seq: 12, event: '0:2' }], kills, ['0:1', '0:2', '0:3']).failures).toHaveLength(1);
    expect(checkReplay(once.slice(0, 2), kills, ['0:1', '0:2', '0:3']).failures).toEqual(['1 logged events never handled (first: 0:3)']);
  });
});
