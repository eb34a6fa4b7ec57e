/**
 * Publish -> handler latency at N subscribers: p50 and p99 in microseconds.
 *
 *   node --import tsx bench/cases/latency.ts --impl kernel|ring|emitter|xstate --n 100 --mode yield|burst
 */
import { parseArgs } from '../lib/args.js';
import { pickImpl, pickMode } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runLatency } from '../lib/workloads.js';

runCase(async () => {
  const args = parseArgs();
  return runLatency(await pickImpl(args), {
    n: args.number('n', 100),
    mode: pickMode(args),
    warmupEvents: args.number('warmup-events', 2000),
    events: args.number('events', 10_000),
  });
});
