/**
 * Actor lifecycle rates at the kernel level.
 *
 *   node --import tsx bench/cases/lifecycle.ts --what spawn-stop --batch 1000 --rounds 5 [--warmup-rounds 1]
 *     spawns `batch` top-level actors and waits until each has started, then stops them all
 *     (`system.stop`, awaited); reports spawns/s and stops/s (median over rounds).
 *   node --import tsx bench/cases/lifecycle.ts --what restart --restarts 50000
 *     a supervisor (one-for-one, maxRestarts = MAX_SAFE_INTEGER within 1000 ms) with one child
 *     that throws on every message and sends itself a message on every start, so it crashes and
 *     is restarted back to back; reports restarts/s. Also reports how long a setImmediate queued
 *     at the start of the storm had to wait (the event loop's longest stall).
 */
import type { ActorContext, ActorRef, BehaviorFactory, BehaviorObject } from '../../src/kernel/behavior.js';
import { createActorSystem } from '../../src/kernel/system.js';
import { parseArgs, type Args } from '../lib/args.js';
import { median, runCase, type CaseResult } from '../lib/report.js';
import { macrotask } from '../lib/subject.js';

async function spawnStop(args: Args): Promise<CaseResult> {
  const batch = args.number('batch', 1000);
  const rounds = args.number('rounds', 5);
  const warmupRounds = args.number('warmup-rounds', 1);
  const system = createActorSystem();
  let started = 0;
  const idle: BehaviorObject<unknown> = {
    receive: () => undefined,
    onStart: () => {
      started++;
    },
  };
  const spawnRates: number[] = [];
  const stopRates: number[] = [];
  for (let r = -warmupRounds; r < rounds; r++) {
    // Rounds below 0 warm up.
    started = 0;
    const refs: ActorRef<unknown>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) refs.push(system.spawn(idle));
    while (started < batch) await macrotask();
    const t1 = performance.now();
    await Promise.all(refs.map((ref) => system.stop(ref)));
    const t2 = performance.now();
    if (r >= 0) {
      spawnRates.push((batch / (t1 - t0)) * 1000);
      stopRates.push((batch / (t2 - t1)) * 1000);
    }
  }
  return { metrics: { spawnPerSec: median(spawnRates), stopPerSec: median(stopRates) }, info: { batch, spawnRates, stopRates } };
}

async function restart(args: Args): Promise<CaseResult> {
  const target = args.number('restarts', 50_000);
  const warmup = Math.floor(target / 5);
  const system = createActorSystem();
  let starts = 0;
  let t0 = 0;
  let t1 = 0;
  let stormOver: () => void = () => undefined;
  const over = new Promise<void>((resolve) => {
    stormOver = resolve;
  });
  const crasher: BehaviorFactory<'boom'> = {
    create: () => ({
      onStart(ctx: ActorContext<'boom'>) {
        starts++;
        if (starts === warmup) t0 = performance.now();
        if (starts === warmup + target) {
          t1 = performance.now();
          stormOver();
          return; // no more crashing: the storm ends here
        }
        ctx.self.tell('boom');
      },
      receive() {
        throw new Error('boom');
      },
    }),
  };
  const supervisor: BehaviorObject<unknown> = {
    receive: () => undefined,
    onStart: (ctx: ActorContext<unknown>) => {
      ctx.spawn(crasher, { name: 'crasher' });
    },
  };
  await macrotask();
  const stormStart = performance.now();
  let stallMs = Number.NaN;
  setImmediate(() => {
    stallMs = performance.now() - stormStart;
  });
  system.spawn(supervisor, { name: 'sup', supervision: { maxRestarts: Number.MAX_SAFE_INTEGER, withinMs: 1000 } });
  await over;
  await macrotask();
  return {
    metrics: { restartsPerSec: (target / (t1 - t0)) * 1000, eventLoopStallMs: stallMs },
    info: { restarts: target, warmup },
  };
}

runCase(async () => {
  const args = parseArgs();
  const what = args.string('what', 'spawn-stop');
  if (what === 'spawn-stop') return spawnStop(args);
  if (what === 'restart') return restart(args);
  throw new Error(`Expected --what spawn-stop or restart, got "${what}"`);
});
