/**
 * Fan-out through the node layer: N modules subscribed to NewBlock, `node.events.publish`.
 * Same workload and arguments as fanout.ts (without --impl).
 */
import { parseArgs } from '../lib/args.js';
import { pickMode, timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runThroughput } from '../lib/workloads.js';
import { loadNodeApi, nodeSubject, NODE_SKIPPED } from '../subjects/node.js';

runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  return runThroughput(nodeSubject(api), { n: args.number('n', 100), mode: pickMode(args), ...timing(args) });
});
