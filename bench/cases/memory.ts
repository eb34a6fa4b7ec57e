/**
 * Memory: bytes of heap per idle actor with a 100-slot mailbox (kernel), or per bare subscriber
 * with a 100-slot ring buffer (baseline). Needs --expose-gc.
 *
 *   node --expose-gc --import tsx bench/cases/memory.ts --impl kernel|ring --count 100000 --parents 100
 *
 * Kernel actors are spawned as `parents` top-level actors with count/parents children each
 * (--parents 1: all under the root). The parents count as actors too. Flat spawning of 100,000
 * under one parent is quadratic in the current kernel (see the spawn/stop case), which is why the
 * default spreads them; the bytes per actor do not depend on the layout.
 */
import type { ActorContext, BehaviorObject } from '../../src/kernel/behavior.js';
import { createActorSystem } from '../../src/kernel/system.js';
import { RunQueue, BareSubscriber } from '../baselines/ring-mailbox.js';
import { parseArgs } from '../lib/args.js';
import { runCase, type CaseResult } from '../lib/report.js';
import { macrotask } from '../lib/subject.js';
import { collectedHeap } from '../lib/heap.js';


async function kernel(count: number, parents: number): Promise<CaseResult> {
  const system = createActorSystem();
  let started = 0;
  // One shared behaviour: an idle actor's own state is its user's business, not the runtime's.
  const idle: BehaviorObject<unknown> = {
    receive: () => undefined,
    onStart: () => {
      started++;
    },
  };
  const perParent = Math.floor(count / parents);
  const parent: BehaviorObject<unknown> = {
    receive: () => undefined,
    onStart: (ctx: ActorContext<unknown>) => {
      started++;
      for (let i = 0; i < perParent; i++) ctx.spawn(idle);
    },
  };
  await macrotask();
  const before = collectedHeap();
  const t0 = performance.now();
  if (parents === 1) for (let i = 0; i < count; i++) system.spawn(idle);
  else for (let p = 0; p < parents; p++) system.spawn(parent);
  const total = parents === 1 ? count : parents + parents * perParent;
  while (started < total) await macrotask();
  const spawnMs = performance.now() - t0;
  const after = collectedHeap();
  if (!system.isRunning) throw new Error('unreachable'); // keeps the system (and its actors) alive past collectedHeap()
  return { metrics: { bytesPerActor: (after - before) / total }, info: { actors: total, parents, spawnMs, heapDelta: after - before } };
}

async function ring(count: number): Promise<CaseResult> {
  const runQueue = new RunQueue();
  const handler = (): void => undefined;
  const subscribers = new Array<BareSubscriber<unknown>>(count);
  await macrotask();
  const before = collectedHeap();
  for (let i = 0; i < count; i++) subscribers[i] = new BareSubscriber<unknown>(runQueue, handler, 100);
  const after = collectedHeap();
  if (subscribers.length !== count) throw new Error('unreachable'); // keeps them alive past collectedHeap()
  return { metrics: { bytesPerActor: (after - before) / count }, info: { actors: count, heapDelta: after - before } };
}

runCase(async () => {
  const args = parseArgs();
  const impl = args.string('impl', 'kernel');
  const count = args.number('count', 100_000);
  if (impl === 'kernel') return kernel(count, args.number('parents', 100));
  if (impl === 'ring') return ring(count);
  throw new Error(`Expected --impl kernel or ring, got "${impl}"`);
});
