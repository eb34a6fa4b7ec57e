/** Publish -> handler latency through the node layer. Same workload and arguments as latency.ts. */
import { parseArgs } from '../lib/args.js';
import { pickMode } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runLatency } from '../lib/workloads.js';
import { loadNodeApi, nodeSubject, NODE_SKIPPED } from '../subjects/node.js';

runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  return runLatency(nodeSubject(api), {
    n: args.number('n', 100),
    mode: pickMode(args),
    warmupEvents: args.number('warmup-events', 2000),
    events: args.number('events', 10_000),
  });
});
