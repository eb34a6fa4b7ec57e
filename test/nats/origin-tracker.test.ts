/**
 * Per-origin order on a path: whatever the network does to an origin's messages (drops,
 * duplicates, reorders, a restart of the origin), the receiver delivers its events in strictly
 * increasing order, once each, and counts every event it skipped as missed.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { OriginTracker, type Admission } from '../../src/nats/origin-tracker.js';

interface Message {
  readonly epoch: string;
  readonly first: number;
  readonly count: number;
}

/** The messages one incarnation sends: consecutive numbers from 1. */
const incarnation = (epoch: string): fc.Arbitrary<Message[]> =>
  fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 12 }).map((counts) => {
    let next = 1;
    return counts.map((count) => {
      const message = { epoch, first: next, count };
      next += count;
      return message;
    });
  });

/** What the network delivers of them: any order, some lost, some twice. */
const delivered = (sent: Message[]): fc.Arbitrary<Message[]> => fc.array(fc.constantFrom(...sent), { maxLength: 20 });

/** Several incarnations of one origin, each delivered in its own mangled way, one after another. */
const traffic: fc.Arbitrary<Message[]> = fc
  .array(fc.constant(null), { minLength: 1, maxLength: 3 })
  .chain((epochs) => fc.tuple(...epochs.map((_, i) => incarnation(`e${i}`).chain(delivered))))
  .map((parts) => parts.flat());

interface Tracker {
  admit(origin: string, epoch: string, first: number, count: number): Admission;
}

/** Runs `traffic` through `tracker`; the events delivered (epoch:number) and the counts. */
function run(tracker: Tracker, messages: readonly Message[]): { delivered: string[]; missed: number; stale: number; segments: Map<string, { start: number; delivered: number[]; missed: number }> } {
  const out: string[] = [];
  const segments = new Map<string, { start: number; delivered: number[]; missed: number }>();
  let missed = 0;
  let stale = 0;
  for (const m of messages) {
    const admission = tracker.admit('origin', m.epoch, m.first, m.count);
    missed += admission.missed;
    stale += admission.stale;
    let segment = segments.get(m.epoch);
    if (segment === undefined) segments.set(m.epoch, (segment = { start: m.first, delivered: [], missed: 0 }));
    segment.missed += admission.missed;
    for (let i = admission.stale; i < m.count; i++) {
      out.push(`${m.epoch}:${m.first + i}`);
      segment.delivered.push(m.first + i);
    }
  }
  return { delivered: out, missed, stale, segments };
}

/** The property: per incarnation, strictly increasing, once each, every skipped number counted. */
function holds(tracker: Tracker, messages: readonly Message[]): boolean {
  const { segments, stale } = run(tracker, messages);
  let deliveredTotal = 0;
  for (const { start, delivered, missed } of segments.values()) {
    deliveredTotal += delivered.length;
    for (let i = 1; i < delivered.length; i++) if ((delivered[i] as number) <= (delivered[i - 1] as number)) return false;
    const last = delivered.at(-1);
    if (last !== undefined && delivered.length + missed !== last - start + 1) return false;
  }
  const offered = messages.reduce((sum, m) => sum + m.count, 0);
  return deliveredTotal + stale === offered;
}

/** Broken: forgets to drop what it has already delivered. */
class NoStaleTracker extends OriginTracker {
  override admit(origin: string, epoch: string, first: number, count: number): Admission {
    const admission = super.admit(origin, epoch, first, count);
    return { stale: 0, missed: admission.missed };
  }
}

/** Broken: delivers across a gap without counting it. */
class SilentGapTracker extends OriginTracker {
  override admit(origin: string, epoch: string, first: number, count: number): Admission {
    return { ...super.admit(origin, epoch, first, count), missed: 0 };
  }
}

describe('OriginTracker', () => {
  it('delivers in order, drops copies, counts gaps, and follows a restarted origin', () => {
    const t = new OriginTracker();
    expect(t.admit('a', 'e1', 5, 2)).toEqual({ stale: 0, missed: 0 }); // first sight: 5, 6
    expect(t.admit('a', 'e1', 7, 1)).toEqual({ stale: 0, missed: 0 });
    expect(t.admit('a', 'e1', 6, 3)).toEqual({ stale: 2, missed: 0 }); // 6, 7 again; 8 new
    expect(t.admit('a', 'e1', 12, 1)).toEqual({ stale: 0, missed: 3 }); // 9, 10, 11 lost
    expect(t.admit('a', 'e1', 10, 1)).toEqual({ stale: 1, missed: 0 }); // late: already counted missed
    expect(t.admit('a', 'e2', 1, 1)).toEqual({ stale: 0, missed: 0 }); // restarted
    expect(t.admit('b', 'x', 1, 1)).toEqual({ stale: 0, missed: 0 }); // origins are independent
    expect(t.positions().get('a')).toEqual({ epoch: 'e2', next: 2 });
  });

  test.prop([traffic])('whatever the network does, delivers each origin in order, once, and counts every gap', (messages) => {
    expect(holds(new OriginTracker(), messages)).toBe(true);
  });

  it('the property catches a tracker that redelivers copies, and one that hides gaps', () => {
    expect(fc.check(fc.property(traffic, (messages) => holds(new NoStaleTracker(), messages)), { numRuns: 2000 }).failed).toBe(true);
    expect(fc.check(fc.property(traffic, (messages) => holds(new SilentGapTracker(), messages)), { numRuns: 2000 }).failed).toBe(true);
  });
});
