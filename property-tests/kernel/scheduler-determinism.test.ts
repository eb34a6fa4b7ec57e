/**
 * The simulated scheduler is deterministic: the same seed and program give the same inspection
 * trace, byte for byte (times, ids, order, failures), while different seeds explore different
 * interleavings of the same program.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActorSystem, type ActorRef } from '../../src/index.js';
import { seedIgnoringScheduler, seededScheduler, unseededScheduler, type SchedulerFactory } from './broken/schedulers.js';
import { propertySeed, runs } from './support.js';

/** What the driver does between sends: a few turns, all work, or virtual time. */
type Drive = { readonly type: 'turns'; readonly n: number } | { readonly type: 'idle' } | { readonly type: 'advance'; readonly ms: number };
type Program = readonly { readonly send: number; readonly then: Drive }[];

/**
 * A hub forwards numbers round-robin to three workers; a worker fails on some numbers (and is
 * restarted), waits on virtual time for others, and reports each to a sink, which may ask the
 * hub for more. Enough concurrency for the scheduler's choices to show.
 */
async function trace(make: SchedulerFactory, seed: number, program: Program): Promise<{ json: string; order: string }> {
  const scheduler = make(seed);
  const system = createActorSystem({ scheduler, supervision: { maxRestarts: 1000, withinMs: 1 } });
  const events: string[] = [];
  const order: string[] = [];
  system.inspect((event, time) => {
    events.push(
      JSON.stringify({ time, ...event }, (_key, value: unknown) => (value instanceof Error ? { error: value.message } : value)),
    );
    if (event.type === 'handled') order.push(`${event.actor}:${String(event.message)}`);
  });
  const sink = system.spawn<number>(
    (n) => {
      if (n % 4 === 1 && n < 200) system.lookup<number>('/hub')?.tell(n + 100);
    },
    { name: 'sink' },
  );
  let next = 0;
  system.spawn<number>(
    (n) => {
      system.lookup<number>(`/w${next++ % 3}`)?.tell(n);
    },
    { name: 'hub' },
  );
  for (const name of ['w0', 'w1', 'w2']) {
    system.spawn<number>(
      async (n, ctx) => {
        if (n % 7 === 3) throw new Error(`worker ${ctx.name} fails on ${n}`);
        if (n % 5 === 0) await ctx.delay((n % 3) * 10);
        sink.tell(n);
      },
      { name },
    );
  }
  const hub = system.lookup<number>('/hub') as ActorRef<number>;
  for (const { send, then } of program) {
    hub.tell(send);
    if (then.type === 'turns') await scheduler.runUntilIdle({ maxTurns: then.n });
    else if (then.type === 'idle') await scheduler.runUntilIdle();
    else await scheduler.advanceBy(then.ms);
  }
  const done = system.shutdown();
  await scheduler.runAll();
  await done;
  return { json: events.join('\n'), order: order.join(' ') };
}

const drive: fc.Arbitrary<Drive> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('turns' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'idle' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
);
const program: fc.Arbitrary<Program> = fc.array(fc.record({ send: fc.nat(99), then: drive }), { minLength: 1, maxLength: 25, size: 'max' });

const sameSeedSameTrace = (make: SchedulerFactory) =>
  fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), program, async (seed, p) => {
    const first = await trace(make, seed, p);
    const second = await trace(make, seed, p);
    expect(second.json).toBe(first.json);
  });

/** A fixed program with plenty to interleave: ten sends, then let everything run. */
const busyProgram: Program = Array.from({ length: 10 }, (_, i) => ({
  send: i * 11 + 1,
  then: i === 9 ? ({ type: 'idle' } as const) : ({ type: 'turns', n: 1 } as const),
}));
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

async function distinctInterleavings(make: SchedulerFactory): Promise<number> {
  const orders = new Set<string>();
  for (const seed of SEEDS) orders.add((await trace(make, seed, busyProgram)).order);
  return orders.size;
}

const seed = propertySeed();

describe('simulated scheduler determinism', () => {
  it(`gives the same seed the same trace, byte for byte (seed ${seed})`, async () => {
    await fc.assert(sameSeedSameTrace(seededScheduler), { seed, numRuns: runs(40) });
  });

  it.each(SEEDS)('replays the busy program under scheduler seed %i identically', async (s) => {
    const first = await trace(seededScheduler, s, busyProgram);
    expect((await trace(seededScheduler, s, busyProgram)).json).toBe(first.json);
  });

  it(`explores different interleavings under different seeds (${SEEDS.join(', ')})`, async () => {
    expect(await distinctInterleavings(seededScheduler)).toBeGreaterThanOrEqual(2);
  });

  it(`catches a scheduler that draws its own seed instead of the given one (seed ${seed})`, async () => {
    const result = await fc.check(sameSeedSameTrace(unseededScheduler), { seed, numRuns: 40 });
    expect(result.failed).toBe(true);
  });

  it(`catches a scheduler that ignores its seed (${SEEDS.join(', ')})`, async () => {
    expect(await distinctInterleavings(seedIgnoringScheduler)).toBe(1);
  });
});
