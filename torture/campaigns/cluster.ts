/**
 * Torture campaign: nodes joined over a real nats-server (issue #12), for longer than `npm test`.
 *
 * Many runs of the scale-out model (test/nats/cluster/model.ts): three real nodes in processes of
 * their own, random sequences of load, unload, crash, publish, kill node (SIGKILL), start node and
 * restart the server. Each run checks, as events come, per-origin FIFO on both paths and
 * membership exactly once per appearance; after its commands, that membership converges to the
 * model on every live node, and the accounting law on every live node once everything published
 * has arrived and been handled. A failure is reported with fast-check's seed and path (replay them
 * with `fc.check(..., { seed, path })`) and the shrunk command list.
 */
import fc from 'fast-check';
import { startNatsServer } from '../../src/nats/server.js';
import { clusterCommands, runClusterModel } from '../../test/nats/cluster/model.js';

/** What the campaign driver gets back. */
export interface CampaignResult {
  readonly name: string;
  readonly figures: Record<string, number | string>;
  readonly failures: string[];
}

export async function run(options: { quick: boolean; log: (line: string) => void }): Promise<CampaignResult> {
  const runs = options.quick ? 4 : 40;
  const maxCommands = options.quick ? 12 : 30;
  const server = await startNatsServer();
  const executed: Record<string, number> = {};
  const failures: string[] = [];
  const started = performance.now();
  let count = 0;
  try {
    const property = fc.asyncProperty(clusterCommands({ maxCommands, restartServer: true }), async (commands) => {
      const prefix = `torture${++count}`;
      const t0 = performance.now();
      const result = await runClusterModel(commands, { url: server.url, prefix, restartServer: () => server.restart() });
      let n = 0;
      for (const [kind, times] of Object.entries(result.executed)) {
        executed[kind] = (executed[kind] ?? 0) + times;
        n += times;
      }
      options.log(`cluster: run ${count}: ${n} commands in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    });
    const report = await fc.check(property, { numRuns: runs, endOnFailure: true });
    if (report.failed) {
      const error = report.errorInstance instanceof Error ? report.errorInstance.message : String(report.errorInstance);
      failures.push(`${error}\n${fc.defaultReportMessage(report) ?? ''}`);
    }
  } finally {
    await server.dispose();
  }
  const figures: Record<string, number | string> = {
    runs: count,
    seconds: Math.round((performance.now() - started) / 1000),
    ...Object.fromEntries(Object.entries(executed).map(([kind, times]) => [`commands.${kind}`, times])),
  };
  options.log(`cluster: ${JSON.stringify(figures)}`);
  return { name: 'cluster', figures, failures };
}
