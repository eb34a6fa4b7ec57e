/**
 * Fan-out at the kernel level (or a baseline): one publisher, N subscribers, bursts of 100 between
 * yields or a yield after every publish. Prints delivered events per second.
 *
 *   node --import tsx bench/cases/fanout.ts --impl kernel|ring|emitter|xstate --n 100 --mode burst|yield
 */
import { parseArgs } from '../lib/args.js';
import { pickImpl, pickMode, timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runThroughput } from '../lib/workloads.js';

runCase(async () => {
  const args = parseArgs();
  return runThroughput(await pickImpl(args), { n: args.number('n', 100), mode: pickMode(args), ...timing(args) });
});
