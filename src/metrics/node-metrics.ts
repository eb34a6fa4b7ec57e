/**
 * Prometheus metrics of a node, collected at scrape time from the statistics the node already
 * keeps (delivery statistics, published counts, the module list): nothing is added to the path
 * of an event. Module labels are bounded: the first `maxModules` modules seen get a label of their
 * own, for good; the others are summed under `module="_other"`.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { ModactorError, describeValue } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { DeliveryStats } from '../node/delivery-stats.js';
import type { ModuleInfo } from '../node/module-supervisor.js';
import type { NodeStatus } from '../node/node.js';

/** What the metrics read from a node: a `ModactorNode` of any catalogue is one. */
export interface MetricsSource {
  readonly system: { readonly logger: Logger };
  readonly events: {
    getAllDeliveryStats(): Promise<ReadonlyMap<string, DeliveryStats>>;
    getPublishedCounts(): Promise<ReadonlyMap<string, number>>;
  };
  modules(): Promise<readonly ModuleInfo[]>;
  status(): NodeStatus;
}

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  /** The registry the metrics are registered in; default a new one. */
  readonly registry?: Registry;
  /** How many modules get a `module` label of their own (the rest: `_other`). Default 100. */
  readonly maxModules?: number;
}

/** Default of {@link NodeMetricsOptions.maxModules}. */
export const DEFAULT_MAX_MODULES = 100;

/** The `module` label of the modules past the cap, summed (counters, depth) or worst (health). */
export const OTHER_MODULES = '_other';

/** `modactor_module_health`: the value of each health. */
export const HEALTH_CODES: Readonly<Record<ModuleHealth, number>> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The `reason` label of `modactor_events_dropped_total`, and the delivery statistic it counts. */
const DROP_REASONS = {
  channel_full: 'channelFull',
  closed: 'failed',
  serialization: 'serializationFailed',
  lost_on_crash: 'lostOnCrash',
} as const satisfies Record<string, keyof DeliveryStats>;

type DropReason = keyof typeof DROP_REASONS;

/** One `module` label's values in a scrape. */
interface Row {
  delivered: number;
  handled: number;
  dropped: Record<DropReason, number>;
  depth: number;
  restarts: number;
  health: number;
}

/** What one scrape reads, already labelled. */
interface Snapshot {
  readonly rows: ReadonlyMap<string, Row>;
  readonly published: ReadonlyMap<string, number>;
  /** Loaded modules by state and health. */
  readonly census: readonly { readonly state: string; readonly health: string; count: number }[];
}

const emptyRow = (): Row => ({
  delivered: 0,
  handled: 0,
  dropped: { channel_full: 0, closed: 0, serialization: 0, lost_on_crash: 0 },
  depth: 0,
  restarts: 0,
  health: 0,
});

/**
 * Registers the node's metrics in a prom-client registry and returns it. Each scrape reads the
 * node once (three queries answered by its actors), whatever the number of metrics:
 *
 * - `modactor_events_delivered_total{module}`: events enqueued into the module's mailbox
 * - `modactor_events_handled_total{module}`: events its handler finished
 * - `modactor_events_dropped_total{module,reason}`: `channel_full` (mailbox full), `closed` (the
 *   module was dead), `serialization` (could not cross a process boundary), `lost_on_crash`
 *   (queued when an incarnation terminated)
 * - `modactor_events_published_total{type}`: accepted events by type (the catalogue bounds it)
 * - `modactor_mailbox_depth{module}`: events queued now
 * - `modactor_module_restarts_total{module}`: restarts after crashes
 * - `modactor_module_health{module}`: 0 healthy, 1 degraded, 2 unhealthy
 * - `modactor_modules{state,health}`: loaded modules by lifecycle state and health
 *
 * @example
 * ```ts
 * import { createNodeMetrics } from 'modactor/metrics';
 * const registry = createNodeMetrics(node);
 * const text = await registry.metrics(); // the Prometheus exposition
 * ```
 */
export function createNodeMetrics(node: MetricsSource, options: NodeMetricsOptions = {}): Registry {
  const maxModules = options.maxModules ?? DEFAULT_MAX_MODULES;
  if (!Number.isSafeInteger(maxModules) || maxModules < 0) {
    throw new ModactorError('invalid-argument', `expected maxModules to be a non-negative integer, got ${describeValue(maxModules)}`);
  }
  const registry = options.registry ?? new Registry();
  const labelled = new Set<string>();
  const labelOf = (name: string): string => {
    if (labelled.has(name)) return name;
    if (labelled.size >= maxModules) return OTHER_MODULES;
    labelled.add(name);
    return name;
  };

  const take = async (): Promise<Snapshot> => {
    const [stats, published, modules] = await Promise.all([
      node.events.getAllDeliveryStats(),
      node.events.getPublishedCounts(),
      // The module list goes with the node's actors: a node that has stopped lists none.
      node.modules().catch((error: unknown) => {
        if (node.status().state === 'running') throw error;
        return [];
      }),
    ]);
    const rows = new Map<string, Row>();
    const rowOf = (name: string): Row => {
      const label = labelOf(name);
      let row = rows.get(label);
      if (row === undefined) rows.set(label, (row = emptyRow()));
      return row;
    };
    const census: { state: string; health: string; count: number }[] = [];
    // Loaded modules first, in load order, so they are the ones that get labels.
    for (const info of modules) {
      const row = rowOf(info.name);
      row.depth += info.queued;
      row.restarts += info.restarts;
      row.health = Math.max(row.health, HEALTH_CODES[info.health]);
      const entry = census.find((c) => c.state === info.state && c.health === info.health);
      if (entry === undefined) census.push({ state: info.state, health: info.health, count: 1 });
      else entry.count++;
    }
    for (const [name, s] of stats) {
      const row = rowOf(name);
      row.delivered += s.successful;
      row.handled += s.handled;
      for (const reason of Object.keys(DROP_REASONS) as DropReason[]) row.dropped[reason] += s[DROP_REASONS[reason]];
    }
    return { rows, published, census };
  };

  // Every metric's collect() of one scrape starts in the same turn: they share one reading.
  let reading: Promise<Snapshot> | null = null;
  const read = (): Promise<Snapshot> =>
    (reading ??= take().finally(() => {
      reading = null;
    }));

  const registers = [registry];
  const perModule = (name: string, help: string, value: (row: Row) => number, kind: 'counter' | 'gauge'): void => {
    const config = { name, help, labelNames: ['module'], registers };
    if (kind === 'counter') {
      new Counter({
        ...config,
        async collect() {
          const { rows } = await read();
          this.reset();
          for (const [module, row] of rows) this.inc({ module }, value(row));
        },
      });
    } else {
      new Gauge({
        ...config,
        async collect() {
          const { rows } = await read();
          this.reset();
          for (const [module, row] of rows) this.set({ module }, value(row));
        },
      });
    }
  };
  perModule('modactor_events_delivered_total', 'Events enqueued into the module\'s mailbox.', (r) => r.delivered, 'counter');
  perModule('modactor_events_handled_total', 'Events the module\'s handler finished.', (r) => r.handled, 'counter');
  perModule('modactor_mailbox_depth', 'Events queued in the module\'s mailbox now.', (r) => r.depth, 'gauge');
  perModule('modactor_module_restarts_total', 'Restarts of the module after crashes.', (r) => r.restarts, 'counter');
  perModule('modactor_module_health', 'Health of the module: 0 healthy, 1 degraded, 2 unhealthy (worst of _other).', (r) => r.health, 'gauge');

  new Counter({
    name: 'modactor_events_dropped_total',
    help: 'Events offered to the module that it never got: channel_full, closed, serialization, lost_on_crash.',
    labelNames: ['module', 'reason'],
    registers,
    async collect() {
      const { rows } = await read();
      this.reset();
      for (const [module, row] of rows) {
        for (const reason of Object.keys(row.dropped) as DropReason[]) this.inc({ module, reason }, row.dropped[reason]);
      }
    },
  });
  new Counter({
    name: 'modactor_events_published_total',
    help: 'Events the node accepted, by type.',
    labelNames: ['type'],
    registers,
    async collect() {
      const { published } = await read();
      this.reset();
      for (const [type, count] of published) this.inc({ type }, count);
    },
  });
  new Gauge({
    name: 'modactor_modules',
    help: 'Loaded modules by lifecycle state and health.',
    labelNames: ['state', 'health'],
    registers,
    async collect() {
      const { census } = await read();
      this.reset();
      for (const { state, health, count } of census) this.set({ state, health }, count);
    },
  });
  return registry;
}
