/**
 * The oracle of the malformed-frames torture campaign, shown to catch what it is for (the campaign
 * itself runs quick in campaigns.test.ts, full in `npm run torture`).
 */
import { describe, expect, it } from 'vitest';
import { checkModule, type FrameCounters } from '../../torture/campaigns/frames.js';

describe('torture campaign (b): malformed frames from real children', () => {
  it('its oracle catches a frame read but counted nowhere, an uncounted refusal, and an incarnation that ended otherwise', () => {
    const good: FrameCounters = {
      spawned: 3,
      crashes: 2,
      protocolViolations: 2,
      heartbeatTimeouts: 0,
      notReading: 0,
      framesReceived: 110,
      framesAccepted: 10,
      framesRefused: 99,
      framesViolating: 1,
      refusedNotPermitted: 60,
      refusedRateLimited: 20,
      refusedInvalid: 15,
      refusedSubscriptions: 4,
    };
    expect(checkModule('m', good, 2, 200)).toEqual([]);
    expect(checkModule('m', { ...good, framesReceived: 111 }, 2, 200)).toEqual(['m: frames read 111 != accepted 10 + refused 99 + violating 1']);
    expect(checkModule('m', { ...good, refusedInvalid: 14 }, 2, 200)).toEqual(['m: frames refused 99 != refused by code 98']);
    expect(checkModule('m', { ...good, heartbeatTimeouts: 1, crashes: 3 }, 2, 200)).toEqual([
      'm: 3 crashes for 2 misbehaving incarnations and 0 killed before they were announced (another kind of end)',
      'm: an incarnation ended otherwise than by a violation',
    ]);
    // A child killed before it was announced (startup timeout) is one crash more and no violation...
    expect(checkModule('m', { ...good, crashes: 3, spawned: 4 }, 2, 200, 3)).toEqual([]);
    // ...but one announced incarnation too few, or a crash for nothing, is caught.
    expect(checkModule('m', { ...good, crashes: 3, spawned: 4 }, 2, 200, 4)).toEqual([
      'm: 4 incarnations announced, expected 3',
      'm: 3 crashes for 2 misbehaving incarnations and 0 killed before they were announced (another kind of end)',
    ]);
    expect(checkModule('m', { ...good, spawned: 4 }, 2, 200, 2)).toEqual([
      'm: 2 incarnations announced, expected 3',
      'm: 2 crashes for 2 misbehaving incarnations and 2 killed before they were announced (another kind of end)',
    ]);
    expect(checkModule('m', good, 2, 50)).toEqual(['m: 100 malformed frames counted, more than the 50 written']);
  });
});
