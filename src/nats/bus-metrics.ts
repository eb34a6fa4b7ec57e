/**
 * Prometheus metrics of a node's bus, read from `bus.stats()` at scrape time (nothing is added to
 * the path of an event), in the same registry as the node's own metrics if given one.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { BusPathStats, BusStats } from './bus-stats.js';

/** What the metrics read: a {@link Bus} is one. */
export interface BusMetricsSource {
  stats(): BusStats;
}

/** Options of {@link createBusMetrics}. */
export interface BusMetricsOptions {
  /** The registry the metrics are registered in (e.g. the one `createNodeMetrics` returned); default a new one. */
  readonly registry?: Registry;
}

const PATHS = ['core', 'durable'] as const;

/** The `outcome` label of `modactor_bus_sent_events_total` and the counter it reads. */
const SENT = {
  sent: 'sent',
  bus_unavailable: 'busUnavailable',
  overflow: 'overflow',
  too_large: 'tooLarge',
  unconfirmed: 'unconfirmed',
} as const satisfies Record<string, keyof BusPathStats>;

/** The `outcome` label of `modactor_bus_received_events_total` and the counter it reads. */
const RECEIVED = {
  received: 'received',
  refused: 'refused',
  invalid: 'invalid',
  stale: 'stale',
  missed: 'missed',
} as const satisfies Record<string, keyof BusPathStats>;

/**
 * Registers a bus's metrics in a prom-client registry and returns it:
 *
 * - `modactor_bus_sent_events_total{path,outcome}`: local events given to the bus, by path (`core`,
 *   `durable`) and outcome: `sent`, `bus_unavailable` (no connection), `overflow` (its bounded
 *   buffer full), `too_large`, `unconfirmed` (durable, no acknowledgement after retries)
 * - `modactor_bus_pending_events{path}`: durable events queued or awaiting acknowledgement
 * - `modactor_bus_received_events_total{path,outcome}`: remote events by outcome: `received`
 *   (offered to local subscribers), `refused` (by the node), `invalid`, `stale` (copies dropped),
 *   `missed` (gaps in an origin's numbering: lost on the way)
 * - `modactor_bus_messages_sent_total{path}`, `modactor_bus_publish_retries_total{path}`
 * - `modactor_bus_garbage_messages_total`: messages refused at the boundary
 * - `modactor_bus_connected` (1 or 0), `modactor_bus_disconnects_total`,
 *   `modactor_bus_reconnects_total`, `modactor_bus_server_restarts_total`
 * - `modactor_bus_remote_modules`, `modactor_bus_nodes_alive`, `modactor_bus_nodes_joined_total`,
 *   `modactor_bus_nodes_gone_total`, `modactor_bus_membership_garbage_total`,
 *   `modactor_bus_membership_write_failures_total`
 *
 * @example
 * ```ts
 * import { createNodeMetrics, serveMetrics } from 'modactor/metrics';
 * import { connectBus, createBusMetrics } from 'modactor/nats';
 * const bus = await connectBus(node, { servers, nodeId: 'eu-1' });
 * const registry = createBusMetrics(bus, { registry: createNodeMetrics(node) });
 * await serveMetrics(node, { port: 9464, registry, ready: () => bus.stats().connection.connected });
 * ```
 */
export function createBusMetrics(bus: BusMetricsSource, options: BusMetricsOptions = {}): Registry {
  const registry = options.registry ?? new Registry();
  const registers = [registry];

  const byOutcome = (name: string, help: string, outcomes: Readonly<Record<string, keyof BusPathStats>>): void => {
    new Counter({
      name,
      help,
      labelNames: ['path', 'outcome'],
      registers,
      collect() {
        const stats = bus.stats();
        this.reset();
        for (const path of PATHS) for (const [outcome, field] of Object.entries(outcomes)) this.inc({ path, outcome }, stats[path][field]);
      },
    });
  };
  const byPath = (name: string, help: string, field: keyof BusPathStats, kind: 'counter' | 'gauge'): void => {
    const config = { name, help, labelNames: ['path'], registers };
    if (kind === 'counter') {
      new Counter({
        ...config,
        collect() {
          const stats = bus.stats();
          this.reset();
          for (const path of PATHS) this.inc({ path }, stats[path][field]);
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          const stats = bus.stats();
          for (const path of PATHS) this.set({ path }, stats[path][field]);
        },
      });
    }
  };
  const single = (name: string, help: string, read: (stats: BusStats) => number, kind: 'counter' | 'gauge'): void => {
    if (kind === 'counter') {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(bus.stats()));
        },
      });
    } else {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(bus.stats()));
        },
      });
    }
  };

  byOutcome('modactor_bus_sent_events_total', 'Local events given to the bus, by path and outcome.', SENT);
  byOutcome('modactor_bus_received_events_total', 'Remote events from the bus, by path and outcome.', RECEIVED);
  byPath('modactor_bus_pending_events', 'Durable events queued or awaiting the stream\'s acknowledgement.', 'pending', 'gauge');
  byPath('modactor_bus_messages_sent_total', 'Messages sent (a durable batch is one).', 'messages', 'counter');
  byPath('modactor_bus_publish_retries_total', 'Durable publishes retried after a failure.', 'retries', 'counter');
  single('modactor_bus_garbage_messages_total', 'Messages refused at the boundary (oversize, too deep, not JSON, malformed).', (s) => s.garbage, 'counter');
  single('modactor_bus_connected', '1 while connected to the NATS server, else 0.', (s) => (s.connection.connected ? 1 : 0), 'gauge');
  single('modactor_bus_disconnects_total', 'Connections to the server lost.', (s) => s.connection.disconnects, 'counter');
  single('modactor_bus_reconnects_total', 'Reconnections to the server.', (s) => s.connection.reconnects, 'counter');
  single('modactor_bus_server_restarts_total', 'Reconnections that found another server instance.', (s) => s.connection.serverRestarts, 'counter');
  single('modactor_bus_remote_modules', 'Modules of other nodes announced here now.', (s) => s.membership.remoteModules, 'gauge');
  single('modactor_bus_nodes_alive', 'Other nodes alive now.', (s) => s.membership.nodesAlive, 'gauge');
  single('modactor_bus_nodes_joined_total', 'Incarnations of other nodes seen joining.', (s) => s.membership.nodesJoined, 'counter');
  single('modactor_bus_nodes_gone_total', 'Other nodes declared gone (deadline passed or goodbye).', (s) => s.membership.nodesGone, 'counter');
  single('modactor_bus_membership_garbage_total', 'Heartbeats or membership entries refused at the boundary.', (s) => s.membership.garbage, 'counter');
  single('modactor_bus_membership_write_failures_total', 'Membership writes that failed (retried).', (s) => s.membership.writeFailures, 'counter');
  return registry;
}
