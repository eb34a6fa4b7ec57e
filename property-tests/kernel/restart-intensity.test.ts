/**
 * Restart intensity: at most maxRestarts restarts within any window of withinMs, and a restart is
 * refused only when the window is really full. Checked on RestartWindow against a one-line model,
 * and on a running supervisor under random crash schedules in virtual time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActorSystem, createSimulatedScheduler, type Failure } from '../../src/index.js';
import { RestartWindow } from '../../src/kernel/supervision.js';
import { NeverPruningWindow, SecondsForMillisWindow, withWindow } from './broken/restart-windows.js';
import { propertySeed, runs } from './support.js';

type WindowFactory = (maxRestarts: number, withinMs: number) => RestartWindow;

const countWithin = (times: readonly number[], now: number, withinMs: number): number => times.filter((t) => t > now - withinMs).length;

const requests = fc.record({
  maxRestarts: fc.integer({ min: 0, max: 4 }),
  withinMs: fc.integer({ min: 1, max: 100 }),
  gaps: fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 40, size: 'max' }),
});

/** RestartWindow agrees with the model: accept exactly when fewer than max in (now - W, now]. */
const windowMatchesModel = (make: WindowFactory) =>
  fc.property(requests, ({ maxRestarts, withinMs, gaps }) => {
    const window = make(maxRestarts, withinMs);
    const accepted: number[] = [];
    let now = 0;
    for (const gap of gaps) {
      now += gap;
      const expected = countWithin(accepted, now, withinMs) < maxRestarts;
      expect(window.tryRecord(now), `restart at ${now} after ${JSON.stringify(accepted)}`).toBe(expected);
      if (expected) accepted.push(now);
    }
    for (const t of accepted) expect(countWithin(accepted.filter((a) => a <= t), t, withinMs)).toBeLessThanOrEqual(maxRestarts);
  });

const crashes = fc.record({
  maxRestarts: fc.integer({ min: 1, max: 4 }),
  withinMs: fc.integer({ min: 10, max: 200 }),
  gaps: fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 25, size: 'max' }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

/** A running supervisor never restarts more than allowed, and gives up only when it must. */
const supervisorKeepsIntensity = () =>
  fc.asyncProperty(crashes, async ({ maxRestarts, withinMs, gaps, seed }) => {
    const scheduler = createSimulatedScheduler({ seed, autoRun: false });
    const system = createActorSystem({ scheduler });
    const restarts: number[] = [];
    const escalations: { at: number; failure: Failure }[] = [];
    system.inspect((event, time) => {
      if (event.type === 'restarted' && event.actor === '/top/sup/worker') restarts.push(time);
    });
    system.spawn<never>(
      {
        onStart: (ctx) =>
          void ctx.spawn<never>(
            {
              onStart: (c) =>
                void c.spawn<'crash'>(() => {
                  throw new Error('crash');
                }, { name: 'worker' }),
              receive: () => undefined,
            },
            { name: 'sup', supervision: { maxRestarts, withinMs } },
          ),
        receive: () => undefined,
      },
      {
        name: 'top',
        supervision: {
          decide: (failure) => {
            escalations.push({ at: scheduler.now(), failure });
            return 'stop';
          },
        },
      },
    );
    await scheduler.runUntilIdle();
    for (const gap of gaps) {
      await scheduler.advanceBy(gap);
      system.lookup<'crash'>('/top/sup/worker')?.tell('crash');
      await scheduler.runUntilIdle();
    }
    for (const t of restarts) {
      expect(countWithin(restarts.filter((r) => r <= t), t, withinMs), `restarts ${JSON.stringify(restarts)}`).toBeLessThanOrEqual(maxRestarts);
    }
    for (const { at, failure } of escalations) {
      expect(failure.kind).toBe('intensity-exceeded');
      expect(countWithin(restarts, at, withinMs), `gave up at ${at} after restarts ${JSON.stringify(restarts)}`).toBe(maxRestarts);
    }
    const done = system.shutdown();
    await scheduler.runAll();
    await done;
  });

const real: WindowFactory = (max, within) => new RestartWindow(max, within);
const seed = propertySeed();

describe('restart intensity', () => {
  it(`RestartWindow accepts exactly when the sliding window has room (seed ${seed})`, () => {
    fc.assert(windowMatchesModel(real), { seed, numRuns: runs(300) });
  });

  it(`catches a window that prunes with the wrong unit (seed ${seed})`, () => {
    const result = fc.check(windowMatchesModel((m, w) => new SecondsForMillisWindow(m, w)), { seed, numRuns: 300 });
    expect(result.failed).toBe(true);
  });

  it(`catches a window that never prunes (seed ${seed})`, () => {
    const result = fc.check(windowMatchesModel((m, w) => new NeverPruningWindow(m, w)), { seed, numRuns: 300 });
    expect(result.failed).toBe(true);
  });

  it(`a supervisor never restarts more than maxRestarts within withinMs (seed ${seed})`, async () => {
    await fc.assert(supervisorKeepsIntensity(), { seed, numRuns: runs(80) });
  });

  it(`catches a supervisor whose window prunes with the wrong unit (seed ${seed})`, async () => {
    const result = await withWindow(SecondsForMillisWindow, () => fc.check(supervisorKeepsIntensity(), { seed, numRuns: 80 }));
    expect(result.failed).toBe(true);
  });

  it(`catches a supervisor whose window never prunes (seed ${seed})`, async () => {
    const result = await withWindow(NeverPruningWindow, () => fc.check(supervisorKeepsIntensity(), { seed, numRuns: 80 }));
    expect(result.failed).toBe(true);
  });
});
