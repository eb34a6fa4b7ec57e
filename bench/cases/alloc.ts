/**
 * Bytes allocated per delivery in fan-out (bursts of 100, each handled before the next): V8's
 * sampling heap profiler, counting the objects already collected too, over `--bursts` bursts after
 * a warm-up. The same subjects as the fan-out case; the node's figure includes its per-publish
 * work (the validated, stamped copy and the receipt) spread over N deliveries. A synchronous
 * delivery itself allocates nothing (test/node/allocation.test.ts checks it).
 *
 *   npx tsx bench/one.ts alloc --impl node --n 10
 */
import { Session } from 'node:inspector/promises';
import { parseArgs } from '../lib/args.js';
import { runCase } from '../lib/report.js';
import { macrotask, type Subject } from '../lib/subject.js';
import { BURST, publishMany, until } from '../lib/workloads.js';
import { pickModactor } from '../lib/impls.js';
import { NODE_SKIPPED } from '../subjects/node.js';

interface SampleNode {
  readonly selfSize: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children: readonly SampleNode[];
}

runCase(async () => {
  const args = parseArgs();
  const n = args.number('n', 10);
  const bursts = args.number('bursts', 2000);
  const picked = await pickModactor(args);
  if (picked === null) return { metrics: {}, skipped: NODE_SKIPPED };
  const { impl, factory } = picked;
  let handled = 0;
  const subject: Subject = await factory({
    n,
    capacity: 100,
    handler: () => {
      handled++;
    },
  });
  const yieldFn = subject.yield ?? macrotask;
  let seq = 0;
  const run = async (count: number): Promise<number> => {
    const start = handled;
    let accepted = 0;
    for (let b = 0; b < count; b++) {
      const r = publishMany(subject, BURST, () => seq++);
      accepted += typeof r === 'number' ? r : await r; // no await for a number: it would allocate
      await until(yieldFn, () => handled - start >= accepted, () => handled);
    }
    return accepted;
  };
  await run(bursts); // warm-up: the code is optimized before the count starts
  const session = new Session();
  session.connect();
  const sampling = { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };
  await session.post('HeapProfiler.startSampling', sampling);
  const deliveries = await run(bursts);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
  session.disconnect();
  // Where the bytes were allocated: self bytes by function, per delivery.
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (node: SampleNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName === '' ? '(anonymous)' : functionName} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`${impl}, N=${n}: ${(total / deliveries).toFixed(1)} bytes allocated per delivery over ${deliveries} deliveries; by function:`);
  for (const [where, bytes] of top) console.log(`  ${(bytes / deliveries).toFixed(1).padStart(7)}  ${where}`);
  return { metrics: { bytesPerDelivery: total / deliveries }, info: { impl, n, deliveries, top: Object.fromEntries(top) } };
});
