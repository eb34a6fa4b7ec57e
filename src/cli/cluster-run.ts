/**
 * `modactor simulate` on a cluster scenario: several nodes sharing one bus over a real NATS server.
 *
 * A cluster scenario is `{ name, description?, prefix?, durableTypes?, nodes: [{ id, scenario }] }`:
 * each node runs its own scenario (the single-node format: modules, traffic, faults, actions,
 * expectations) in real time, on a node of its own joined to the bus with `connectBus` before its
 * modules load, all at once in this process; no node's scenario starts before every node joined. The server is the one at `--nats URL`, or a
 * `nats-server` the CLI starts for the run (and stops after it). The report has a row per node
 * (its modules, the remote modules it saw, what its bus sent and received on each path) and each
 * node's own report; it passes when every node's does.
 */
import type { Logger } from 'pino';
import { arrayOf, jsonValue, nonEmptyString, object, optional, parse, string } from '../kernel/checks.js';
import { nodeInternals } from '../node/node.js';
import type { Bus } from '../nats/bus.js';
import type { BusStats } from '../nats/bus-stats.js';
import { connectBus } from '../nats/connect-bus.js';
import { startNatsServer } from '../nats/server.js';
import { parseScenario, type Scenario } from '../sim/scenario.js';
import { simulate } from '../sim/simulator.js';
import type { SimulationReport } from '../sim/report.js';
import { renderText } from '../sim/render-text.js';

/** A node could not join the bus (server unreachable, credentials refused). */
export class ClusterJoinError extends Error {
  override readonly name = 'ClusterJoinError';
}

/** A parsed cluster scenario. */
export interface ClusterScenario {
  readonly name: string;
  readonly description?: string;
  readonly prefix: string;
  readonly durableTypes: readonly string[];
  readonly nodes: readonly { readonly id: string; readonly scenario: Scenario }[];
}

const clusterFile = object({
  name: nonEmptyString,
  description: optional(string),
  prefix: optional(nonEmptyString),
  durableTypes: optional(arrayOf(nonEmptyString, { maxLength: 64 })),
  nodes: arrayOf(object({ id: nonEmptyString, scenario: jsonValue }), { maxLength: 16, unique: false }),
});

/** Parses a cluster scenario; throws `invalid-scenario` naming the field otherwise. */
export function parseClusterScenario(value: unknown, source: string): ClusterScenario {
  const file = parse(clusterFile, value, { code: 'invalid-scenario', what: `cluster scenario ${source}` });
  return {
    name: file.name,
    ...(file.description === undefined ? {} : { description: file.description }),
    prefix: file.prefix ?? `modactor-${file.name}`,
    durableTypes: file.durableTypes ?? [],
    nodes: file.nodes.map((n, i) => ({ id: n.id, scenario: parseScenario(n.scenario, `${source}: nodes[${i}].scenario`) })),
  };
}

/** One node of a cluster run. */
export interface ClusterNodeReport {
  readonly id: string;
  /** Remote modules seen announced (`<node>/<module>`), in order. */
  readonly remoteModules: readonly string[];
  readonly bus: Pick<BusStats, 'core' | 'durable'>;
  readonly report: SimulationReport;
}

/** What a cluster run reports. */
export interface ClusterReport {
  readonly version: 1;
  readonly cluster: { readonly name: string; readonly servers: string; readonly nodes: number };
  readonly nodes: readonly ClusterNodeReport[];
  readonly passed: boolean;
}

/** Options of {@link runCluster}. */
export interface ClusterRunOptions {
  readonly baseDir: string;
  /** The NATS server; default a `nats-server` started for the run. */
  readonly nats?: string;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly timeScale?: number;
}

/** Runs every node's scenario at once, each node joined to the bus. */
export async function runCluster(cluster: ClusterScenario, options: ClusterRunOptions): Promise<ClusterReport> {
  const server = options.nats === undefined ? await startNatsServer() : null;
  const servers = server === null ? (options.nats as string) : server.url;
  // No scenario starts before every node has joined: each node's durable consumer and
  // subscriptions are in place before anyone publishes.
  let joinedCount = 0;
  const barrier: { allJoined: () => void; failed: (error: unknown) => void } = { allJoined: () => undefined, failed: () => undefined };
  const everyoneJoined = new Promise<void>((resolve, reject) => Object.assign(barrier, { allJoined: resolve, failed: reject }));
  everyoneJoined.catch(() => undefined); // a node whose join failed rejects its own run; the others see it here
  try {
    const nodes = await Promise.all(
      cluster.nodes.map(async ({ id, scenario }): Promise<ClusterNodeReport> => {
        const joined: { bus?: Bus } = {};
        const remoteModules: string[] = [];
        const report = await simulate(scenario, {
          baseDir: options.baseDir,
          real: true,
          logger: options.logger.child({ node: id }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
          onNode: async (node) => {
            nodeInternals(node).router.tap((event) => {
              if (event.type === 'ModuleLoaded') remoteModules.push(String((event.payload as { moduleName?: unknown }).moduleName));
            });
            try {
              joined.bus = await connectBus(node, { servers, nodeId: id, prefix: cluster.prefix, durableTypes: cluster.durableTypes });
            } catch (error) {
              const failure = new ClusterJoinError(`node ${id} could not join the bus at ${servers}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
              barrier.failed(failure);
              throw failure;
            }
            if (++joinedCount === cluster.nodes.length) barrier.allJoined();
            // Another node could not join: this one leaves the bus, and its run fails with that.
            await everyoneJoined.catch(async (error: unknown) => {
              await joined.bus?.close();
              throw error;
            });
          },
        });
        if (joined.bus === undefined) throw new Error(`node ${id} never joined the bus`);
        const { core, durable } = joined.bus.stats();
        // Remote modules, the simulator's own (its recorder and bridge on every node) left out.
        return { id, remoteModules: remoteModules.filter((m) => m.includes('/') && !m.slice(m.lastIndexOf('/') + 1).startsWith('sim.')), bus: { core, durable }, report };
      }),
    );
    return { version: 1, cluster: { name: cluster.name, servers, nodes: nodes.length }, nodes, passed: nodes.every((n) => n.report.passed) };
  } finally {
    await server?.dispose();
  }
}

/** The cluster report as text: a row per node, then each node's own report. */
export function renderClusterText(report: ClusterReport): string {
  const rows = report.nodes.map((n) => [
    n.id,
    String(n.report.modules.length),
    String(new Set(n.remoteModules).size),
    `${n.bus.core.sent}/${n.bus.core.received}/${n.bus.core.missed}`,
    `${n.bus.durable.sent}/${n.bus.durable.received}/${n.bus.durable.missed}`,
    n.report.passed ? 'passed' : 'FAILED',
  ]);
  const header = ['node', 'modules', 'remote modules seen', 'core sent/received/missed', 'durable sent/received/missed', 'invariants'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  const parts = [
    `cluster ${report.cluster.name}: ${report.cluster.nodes} nodes on ${report.cluster.servers}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    ...report.nodes.flatMap((n) => [`==== node ${n.id} ====`, renderText(n.report)]),
    `cluster ${report.passed ? 'PASSED' : 'FAILED'}`,
    '',
  ];
  return parts.join('\n');
}
