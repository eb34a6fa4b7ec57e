/**
 * The drop path: 9 of 10 subscribers stuck (async handler awaiting a promise that never resolves),
 * so 90% of offers are dropped. Prints publish time per drop in ns.
 *
 *   node --import tsx bench/cases/drop.ts --impl kernel|ring
 */
import { parseArgs } from '../lib/args.js';
import { pickImpl, timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runDrop } from '../lib/workloads.js';

runCase(async () => {
  const args = parseArgs();
  return runDrop(pickImpl(args), { n: 10, stuck: 9, ...timing(args) });
});
