/**
 * Memory through the node layer: bytes of heap per idle loaded module (100-slot mailbox,
 * subscribed to NewBlock). Needs --expose-gc.
 *
 *   node --expose-gc --import tsx bench/cases/node-memory.ts --count 100000
 */
import { parseArgs } from '../lib/args.js';
import { runCase } from '../lib/report.js';
import { collectedHeap } from '../lib/heap.js';
import { loadNodeApi, nodeSubject, NODE_SKIPPED } from '../subjects/node.js';


runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  const count = args.number('count', 100_000);
  // A first small node warms up the code paths; the measured node's own fixed cost is amortized
  // over `count` modules.
  await nodeSubject(api)({ n: 1, capacity: 100, handler: () => undefined });
  const before = collectedHeap();
  const t0 = performance.now();
  const subject = await nodeSubject(api, { loadConcurrency: 1000 })({ n: count, capacity: 100, handler: () => undefined });
  const loadMs = performance.now() - t0;
  const after = collectedHeap();
  if (typeof subject.publish !== 'function') throw new Error('unreachable'); // keeps the node alive past collectedHeap()
  return { metrics: { bytesPerModule: (after - before) / count }, info: { modules: count, loadMs, heapDelta: after - before } };
});
