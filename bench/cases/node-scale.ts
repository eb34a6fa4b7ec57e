/**
 * The node at scale. `--what load`: loads `--count` idle modules (subscribed to nothing, as most
 * modules of a large node are; 10 of them watching ModuleLoaded, so each load is announced to
 * them), in batches of 1,000 awaited in turn, and reports the time per load around the 1,000th,
 * the 10,000th and the last (each the mean over its batch), the total, and the heap per module.
 * Linear loading means the last batch costs about what the 10,000th's does (the first batches also
 * warm the JIT up). `--what fanout`: one
 * event type with `--count` subscribers (idle handlers), bursts of 10 publishes: deliveries per
 * second and CPU time per delivery. Needs --expose-gc for `load`.
 *
 *   node --expose-gc --import tsx bench/cases/node-scale.ts --what load --count 100000
 */
import { parseArgs } from '../lib/args.js';
import { runCase } from '../lib/report.js';
import { collectedHeap } from '../lib/heap.js';
import { loadNodeApi, NODE_SKIPPED } from '../subjects/node.js';

const BATCH = 1000;
const WATCHERS = 10;


runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  const count = args.number('count', 100_000);
  const what = args.string('what', 'load');
  const node = api.createNode({});
  const define = (i: number, subscribe: readonly string[]) =>
    api.defineModule({ name: `m${i}`, version: '1.0.0', subscribe, handle: () => undefined });

  if (what === 'fanout') {
    for (let start = 0; start < count; start += BATCH) {
      const batch: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) batch.push(node.load(define(i, [api.EventType.NewBlock])));
      await Promise.all(batch);
    }
    const publish = (h: number): void => {
      node.events.publish({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: h } });
    };
    const rounds = args.number('rounds', 20);
    let h = 0;
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 10; j++) publish(h++);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < 10; j++) publish(h++);
      // Let every subscriber take what it was given before the next burst (mailboxes of 100).
      for (let y = 0; y < 50; y++) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const deliveries = rounds * 10 * count;
    return {
      metrics: { deliveriesPerSec: (deliveries / ms) * 1000, cpuNsPerDelivery: ((cpu.user + cpu.system) * 1000) / deliveries },
      info: { subscribers: count, deliveries, ms },
    };
  }

  const before = collectedHeap();
  const perLoadUs: number[] = [];
  const t0 = performance.now();
  for (let start = 0; start < count; start += BATCH) {
    const b0 = performance.now();
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const watches = i % Math.max(1, Math.floor(count / WATCHERS)) === 0;
      batch.push(node.load(define(i, watches ? [api.EventType.ModuleLoaded] : [])));
    }
    await Promise.all(batch);
    perLoadUs.push(((performance.now() - b0) * 1000) / Math.min(BATCH, count - start));
  }
  const totalMs = performance.now() - t0;
  const after = collectedHeap();
  const at = (n: number): number => perLoadUs[Math.min(perLoadUs.length - 1, Math.max(0, Math.ceil(n / BATCH) - 1))] as number;
  return {
    metrics: {
      loadUsAt1k: at(1000),
      loadUsAt10k: at(10_000),
      loadUsAtLast: at(count),
      // Linear loading: the last batch costs about what a warm one does (the first batches warm the JIT up).
      loadGrowth: at(count) / at(10_000),
      totalLoadMs: totalMs,
      bytesPerModule: (after - before) / count,
    },
    info: { modules: count, perBatchUs: perLoadUs },
  };
});
