/** The drop path through the node layer: 9 of 10 (or 90 of 100) modules stuck. Same workload and arguments as drop.ts. */
import { parseArgs } from '../lib/args.js';
import { timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runDrop } from '../lib/workloads.js';
import { loadNodeApi, nodeSubject, NODE_SKIPPED } from '../subjects/node.js';

runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  return runDrop(nodeSubject(api), { n: args.number('n', 10), stuck: args.number('stuck', 9), ...timing(args) });
});
