/**
 * The node (or kernel) against the ring baseline in ONE process, in alternating repetitions: each
 * repetition publishes `--bursts` bursts of 100 to N subscribers and waits until every accepted
 * offer was handled; the metric is the median over the pairs of (ring time / subject time) per
 * delivery. Machine drift (this 2-core machine's speed moves by 1.5x between minutes) hits both
 * sides of a pair alike, so a change of a few percent shows here when it cannot in a full run.
 * Not one of the driver's targets: the full run keeps each configuration in its own process.
 *
 *   npx tsx bench/one.ts paired --impl node --n 100 --reps 60
 */
import { parseArgs } from '../lib/args.js';
import { median, runCase } from '../lib/report.js';
import { macrotask, type Subject } from '../lib/subject.js';
import { BURST, publishMany, until } from '../lib/workloads.js';
import { ringSubject } from '../baselines/ring-mailbox.js';
import { pickModactor } from '../lib/impls.js';
import { NODE_SKIPPED } from '../subjects/node.js';

runCase(async () => {
  const args = parseArgs();
  const n = args.number('n', 100);
  const reps = args.number('reps', 60);
  const bursts = args.number('bursts', 20);
  const warmupReps = args.number('warmup-reps', 5);
  const picked = await pickModactor(args);
  if (picked === null) return { metrics: {}, skipped: NODE_SKIPPED };
  const { impl, factory } = picked;

  let handled = 0;
  const handler = (): void => {
    handled++;
  };
  const ring = await ringSubject({ n, capacity: 100, handler });
  const subject = await factory({ n, capacity: 100, handler });
  let seq = 0;
  /** ns per delivery of one repetition. */
  const repetition = async (s: Subject): Promise<number> => {
    const yieldFn = s.yield ?? macrotask;
    const start = handled;
    let accepted = 0;
    const t0 = performance.now();
    for (let b = 0; b < bursts; b++) {
      const r = publishMany(s, BURST, () => seq++);
      accepted += typeof r === 'number' ? r : await r; // no await for a number: it would allocate
      await yieldFn();
    }
    await until(yieldFn, () => handled - start >= accepted, () => handled);
    return ((performance.now() - t0) * 1e6) / accepted;
  };
  const ringNs: number[] = [];
  const subjectNs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < warmupReps + reps; r++) {
    const a = await repetition(ring);
    const b = await repetition(subject);
    if (r < warmupReps) continue;
    ringNs.push(a);
    subjectNs.push(b);
    ratios.push(a / b);
  }
  const result = {
    metrics: { pairedRatio: median(ratios), ringNsPerDelivery: median(ringNs), nsPerDelivery: median(subjectNs) },
    info: { impl, n, reps, bursts, minRingNs: Math.min(...ringNs), minNs: Math.min(...subjectNs) },
  };
  console.log(
    `${impl} vs ring, N=${n}, ${reps} pairs of ${bursts} bursts: ${result.metrics.nsPerDelivery.toFixed(1)} vs ${result.metrics.ringNsPerDelivery.toFixed(1)} ns per delivery (medians); ` +
      `median of the pairwise ratios ${result.metrics.pairedRatio.toFixed(3)}x the ring`,
  );
  return result;
});
