/**
 * `modactor simulate scenarios/cluster.json`: three nodes of one process sharing a bus over a real
 * nats-server (the one at `--nats URL`, or one the CLI starts), each running its own scenario; the
 * report has the nodes as well as each node's modules.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ClusterReport } from '../../src/cli/cluster-run.js';
import { EXIT, main } from '../../src/cli/main.js';
import { useNatsServer } from './support.js';

const SCENARIO = fileURLToPath(new URL('../../scenarios/cluster.json', import.meta.url));
const nats = useNatsServer();

/** Runs the CLI in this process; what it wrote. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), progress: false, env: {}, onSignal: () => () => undefined };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('modactor simulate on a cluster scenario', () => {
  it('runs every node joined to the bus at --nats: each sees the others\' modules, durable events reach every other node, every node passes', async () => {
    const run = await cli('simulate', SCENARIO, '--nats', nats.server.url, '--json', '--log-level', 'silent');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    const report = JSON.parse(run.stdout) as ClusterReport;
    expect(report.cluster).toEqual({ name: 'cluster', servers: nats.server.url, nodes: 3 });
    const node = (id: string) => report.nodes.find((n) => n.id === id) as ClusterReport['nodes'][number];
    expect(report.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    // Remote modules are <node>/<module>, announced to every other node (the simulator's own left out).
    expect(new Set(node('a').remoteModules)).toEqual(new Set(['b/indexer', 'b/peer-monitor', 'c/indexer', 'c/maintenance-coordinator']));
    expect(new Set(node('b').remoteModules)).toEqual(new Set(['a/indexer', 'a/governance-webhook', 'a/mempool-watcher', 'c/indexer', 'c/maintenance-coordinator']));
    // a's chain events are durable: every one a's stream took reached b and c, none missed.
    expect(node('a').bus.durable.sent).toBeGreaterThan(0);
    for (const id of ['b', 'c']) expect(node(id).bus.durable).toMatchObject({ received: node('a').bus.durable.sent, missed: 0 });
    // b's transactions reach a's mempool-watcher: a received core events.
    expect(node('a').bus.core.received).toBeGreaterThan(0);
    expect(report.nodes.every((n) => n.report.passed)).toBe(true);
    expect(report.passed).toBe(true);
  }, 60_000);

  it('starts a nats-server of its own without --nats, and prints the nodes, then each node\'s report', async () => {
    const run = await cli('simulate', SCENARIO, '--log-level', 'silent');
    expect(run.code).toBe(EXIT.ok);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^cluster cluster: 3 nodes on nats:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[2]).toMatch(/^node +modules +remote modules seen +core sent\/received\/missed +durable sent\/received\/missed +invariants$/);
    expect(lines.slice(3, 6).map((l) => l.split(/ +/)[0])).toEqual(['a', 'b', 'c']);
    expect(lines.slice(3, 6).every((l) => l.endsWith('passed'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('==== node '))).toEqual(['==== node a ====', '==== node b ====', '==== node c ====']);
    expect(lines.at(-2)).toBe('cluster PASSED');
  }, 60_000);

  it('says which node could not join the bus when the server cannot be reached, and exits 3', async () => {
    const run = await cli('simulate', SCENARIO, '--nats', 'nats://127.0.0.1:1', '--log-level', 'silent');
    expect(run.code).toBe(EXIT.internal);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^modactor simulate: node [abc] could not join the bus at nats:\/\/127\.0\.0\.1:1: .+\n$/);
  }, 60_000);

  it('refuses the single-node options with a cluster scenario, before anything runs', async () => {
    const run = await cli('simulate', SCENARIO, '--seed', '3');
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^modactor simulate: --seed: expected a single-node scenario, got the cluster scenario .*cluster\.json/);
  });
});
