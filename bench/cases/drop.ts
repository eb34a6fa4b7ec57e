/**
 * The drop path: 9 of 10 (or 90 of 100) subscribers stuck (async handler awaiting a promise that
 * never resolves), so 90% of offers are dropped. Prints publish time per drop in ns.
 *
 *   node --import tsx bench/cases/drop.ts --impl kernel|ring --n 10 --stuck 9
 */
import { parseArgs } from '../lib/args.js';
import { pickImpl, timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runDrop } from '../lib/workloads.js';

runCase(async () => {
  const args = parseArgs();
  return runDrop(await pickImpl(args), { n: args.number('n', 10), stuck: args.number('stuck', 9), ...timing(args) });
});
