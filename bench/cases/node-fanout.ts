/**
 * Fan-out through the node layer: N modules subscribed to NewBlock, `node.events.publish`.
 * Same workload and arguments as fanout.ts (without --impl); `--store` gives the node a store in a
 * temporary directory (removed at exit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../lib/args.js';
import { pickMode, timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runThroughput } from '../lib/workloads.js';
import { loadNodeApi, nodeSubject, NODE_SKIPPED } from '../subjects/node.js';

runCase(async () => {
  const args = parseArgs();
  const api = await loadNodeApi();
  if (api === null) return { metrics: {}, skipped: NODE_SKIPPED };
  let storeDir: string | undefined;
  if (args.flag('store')) {
    const dir = mkdtempSync(join(tmpdir(), 'modactor-bench-store-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    storeDir = join(dir, 'store');
  }
  return runThroughput(nodeSubject(api, storeDir === undefined ? {} : { storeDir }), { n: args.number('n', 100), mode: pickMode(args), ...timing(args) });
});
