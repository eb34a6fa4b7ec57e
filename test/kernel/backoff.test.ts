import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/kernel/supervision.js';
import { shutdown, simulated, traceOf } from './support.js';

describe('Backoff', () => {
  it('grows by the factor up to maxMs, and starts over after a quiet period', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 5000 });
    const none = (): number => 0.5;
    expect([0, 1, 2, 3, 4, 5].map((t) => backoff.next(t, none))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoff.next(5004, none)).toBe(1000); // 4999 ms after the last one: not quiet yet
    expect(backoff.next(10_004, none)).toBe(100);
  });

  it('spreads each delay by at most the jitter fraction', () => {
    const backoff = (): Backoff => new Backoff({ minMs: 1000, maxMs: 10_000, jitter: 0.2 });
    expect(backoff().next(0, () => 0)).toBe(800);
    expect(backoff().next(0, () => 0.999_999)).toBe(1200);
    expect(backoff().next(0, () => 0.5)).toBe(1000);
  });

  it('jitters by 0.2 and starts over after twice maxMs when not told otherwise', () => {
    expect(new Backoff({ minMs: 1000, maxMs: 10_000 }).next(0, () => 0)).toBe(800);
    expect(new Backoff({ minMs: 1000, maxMs: 10_000, jitter: 0.5 }).next(0, () => 0)).toBe(500);
    const backoff = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    const none = (): number => 0.5;
    expect(backoff.next(0, none)).toBe(100);
    expect(backoff.next(1999, none)).toBe(200); // 1999 ms later: not quiet for 2 x maxMs yet
    expect(backoff.next(3999, none)).toBe(100); // 2000 ms later: starts over
  });

  it('accepts a factor of 1: the same delay every time', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1000, factor: 1, jitter: 0 });
    expect([0, 1, 2].map((t) => backoff.next(t, () => 0.5))).toEqual([100, 100, 100]);
  });

  it('rejects inconsistent options with invalid-argument', () => {
    for (const options of [{ minMs: -1, maxMs: 10 }, { minMs: 10, maxMs: 5 }, { minMs: 1, maxMs: 5, factor: 0.5 }]) {
      expect(() => new Backoff(options)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
  });
});

describe('restart backoff', () => {
  it('delays restarts in virtual time, growing, and resets after a quiet period', async () => {
    const sim = simulated({
      supervision: { maxRestarts: 100, withinMs: 1000, backoff: { minMs: 100, maxMs: 1000, jitter: 0, resetAfterMs: 5000 } },
    });
    const { scheduler, system } = sim;
    const trace = traceOf(system, true);
    system.spawn<'boom'>(() => {
      throw new Error('flaky');
    }, { name: 'flaky' });

    /** Crashes /flaky and checks that it is back after exactly `delayMs` of virtual time. */
    const crashAndExpectBackAfter = async (delayMs: number): Promise<void> => {
      system.lookup<'boom'>('/flaky')?.tell('boom');
      await scheduler.runUntilIdle();
      await scheduler.advanceBy(delayMs - 1);
      expect(system.lookup('/flaky'), `still waiting ${delayMs - 1} ms after the crash`).toBeUndefined();
      await scheduler.advanceBy(1);
      expect(system.lookup('/flaky')?.isAlive, `back ${delayMs} ms after the crash`).toBe(true);
    };

    await crashAndExpectBackAfter(100);
    await crashAndExpectBackAfter(200);
    await crashAndExpectBackAfter(400);
    await scheduler.advanceBy(5000); // a quiet period: the next delay starts from minMs again
    await crashAndExpectBackAfter(100);
    expect(trace.filter((l) => l.includes('restarted'))).toEqual([
      '100 restarted /flaky after 100 ms',
      '300 restarted /flaky after 200 ms',
      '700 restarted /flaky after 400 ms',
      '5800 restarted /flaky after 100 ms',
    ]);
    await shutdown(sim);
  });

  it('cancels a pending backoff restart when the supervisor stops', async () => {
    const sim = simulated({ supervision: { backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } });
    const { scheduler, system } = sim;
    system.spawn<'boom'>(() => {
      throw new Error('once');
    }, { name: 'flaky' });
    system.lookup<'boom'>('/flaky')?.tell('boom');
    await scheduler.runUntilIdle();
    await shutdown(sim);
    expect(scheduler.now()).toBe(0); // nothing was waiting on the clock
    expect(scheduler.pendingTimers).toBe(0);
    expect(system.lookup('/flaky')).toBeUndefined();
  });
});
