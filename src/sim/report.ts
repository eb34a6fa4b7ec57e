import type { DeliveryStats } from '../node/delivery-stats.js';
import { checkInvariants, secs, type InvariantResult } from './invariants.js';
import type { Bound, ExpectMetric, Expectation, Scenario } from './scenario.js';
import { didNotStart, type Trace, type TraceModule } from './trace.js';

/** One line of the timeline: a lifecycle event, or something the simulator did. */
export interface TimelineEntry {
  /** Virtual ms (in `--real` mode: ms since the start, scaled back to virtual). */
  readonly t: number;
  readonly module: string | null;
  /** `loaded`, `unloaded`, `crashed`, `health`, `gave-up`, `hotload`, `fault`, `flood`, `shutdown`, `error`, ... */
  readonly kind: string;
  readonly text: string;
}

type Health = 'healthy' | 'degraded' | 'unhealthy';

/** One row of the per-module table. */
export interface ModuleRow {
  readonly name: string;
  readonly actor: string;
  readonly kind: 'in-process' | 'process';
  /** False for rows outside the byte-identical guarantee (process modules). */
  readonly deterministic: boolean;
  /** Events enqueued into its mailbox (the guide's successful deliveries). */
  readonly delivered: number;
  /** Events its handler finished. */
  readonly handled: number;
  /** Events dropped because its mailbox was full (channelFull). */
  readonly dropped: number;
  /** Handler failures, offers to a closed mailbox and serialization failures. */
  readonly failed: number;
  /** Events lost with the mailbox when an incarnation crashed or was stopped. */
  readonly lost: number;
  readonly filtered: number;
  /** Restarts by its restart policy (not reloads). */
  readonly restarts: number;
  /** Its last health as the node reported it (`ModuleHealthChanged`). */
  readonly health: Health;
  /**
   * The report's own assessment of the run, from the counts (not an event of the node):
   * `unhealthy` when it was given up or did not start, `degraded` when it dropped more events than
   * it handled, `healthy` otherwise.
   */
  readonly assessed: Health;
  /** How it ended: `stopped at shutdown`, `gave up at 12.000s`, `unloaded at ...`. */
  readonly end: string;
  readonly gaveUp: boolean;
}

/** Per-module counts per time bucket, for the chart. */
export interface ReportSeries {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly modules: Readonly<Record<string, { readonly delivered: readonly number[]; readonly dropped: readonly number[]; readonly handled: readonly number[] }>>;
}

/** What `modactor simulate` reports: deterministic runs give byte-identical JSON for one seed. */
export interface SimulationReport {
  readonly version: 1;
  readonly scenario: {
    readonly name: string;
    readonly seed: number;
    readonly mode: 'deterministic' | 'real';
    /** Virtual ms covered (to the end of the shutdown). */
    readonly endMs: number;
    readonly shutdownAtMs: number;
    /** Real ms per virtual ms (`--real` only). */
    readonly timeScale?: number;
    /** Why the run was ended before its scenario's shutdown (`SIGINT`), when it was. */
    readonly interrupted?: string;
  };
  /** Events the traffic generators and floods published, by type. */
  readonly traffic: Readonly<Record<string, number>>;
  readonly timeline: readonly TimelineEntry[];
  readonly modules: readonly ModuleRow[];
  readonly invariants: readonly InvariantResult[];
  readonly series: ReportSeries;
  readonly notes: readonly string[];
  readonly passed: boolean;
}

const CHART_BUCKETS = 120;

function finalStats(trace: Trace): Readonly<Record<string, DeliveryStats>> {
  const after = trace.checkpoints.find((c) => c.label === 'after-modules-stopped');
  const before = trace.checkpoints.find((c) => c.label === 'before-shutdown');
  return { ...before?.stats, ...after?.stats };
}

function endOf(m: TraceModule, shutdownAt: number | null): { end: string; gaveUp: boolean } {
  if (didNotStart(m)) return { end: 'did not start', gaveUp: false };
  const last = m.supervision.filter((s) => s.what !== 'crash' && s.what !== 'restart').at(-1);
  if (last?.what === 'gave-up') return { end: `gave up at ${secs(last.t)}`, gaveUp: true };
  if (last?.what === 'stopped') {
    if (shutdownAt !== null && last.t >= shutdownAt) return { end: 'stopped at shutdown', gaveUp: false };
    return { end: `unloaded at ${secs(last.t)}`, gaveUp: false };
  }
  return { end: m.incarnations.length === 0 ? 'never started' : 'running', gaveUp: false };
}

/** The report's assessment of a row (see {@link ModuleRow.assessed}). */
export function assess(row: Pick<ModuleRow, 'gaveUp' | 'end' | 'dropped' | 'handled'>): Health {
  if (row.gaveUp || row.end === 'did not start') return 'unhealthy';
  return row.dropped > row.handled ? 'degraded' : 'healthy';
}

/** The table's counts of a module's delivery statistics (zeros for a module the node never counted). */
export function rowCounts(s: DeliveryStats | undefined): Pick<ModuleRow, 'delivered' | 'handled' | 'dropped' | 'failed' | 'lost' | 'filtered'> {
  return {
    delivered: s?.successful ?? 0,
    handled: s?.handled ?? 0,
    dropped: s?.channelFull ?? 0,
    failed: (s?.handlerFailed ?? 0) + (s?.failed ?? 0) + (s?.serializationFailed ?? 0),
    lost: s?.lostOnCrash ?? 0,
    filtered: s?.filtered ?? 0,
  };
}

/** Builds the rows of the per-module table (the recorder module left out). */
export function moduleRows(trace: Trace, deterministic: (m: TraceModule) => boolean): ModuleRow[] {
  const stats = finalStats(trace);
  const rows: ModuleRow[] = [];
  for (const m of trace.modules.values()) {
    if (m.internal || m.loads.length === 0) continue;
    const s = stats[m.name];
    let health: Health = 'healthy';
    for (const rec of trace.lifecycle) {
      if (rec.type === 'ModuleHealthChanged' && rec.payload.moduleName === m.name) health = rec.payload.newHealth as Health;
    }
    const { end, gaveUp } = endOf(m, trace.shutdown.requestedAt);
    const counts = rowCounts(s);
    rows.push({
      name: m.name,
      actor: m.actor,
      kind: m.kind,
      deterministic: deterministic(m),
      ...counts,
      restarts: m.supervision.filter((x) => x.what === 'restart').length,
      health,
      assessed: assess({ gaveUp, end, ...counts }),
      end,
      gaveUp,
    });
  }
  return rows;
}

/** Deliveries, drops and completions per module per time bucket. */
export function buildSeries(trace: Trace, endMs: number): ReportSeries {
  const bucketMs = Math.max(1, Math.ceil(endMs / CHART_BUCKETS));
  const buckets = Math.max(1, Math.ceil(endMs / bucketMs));
  const modules: Record<string, { delivered: number[]; dropped: number[]; handled: number[] }> = {};
  for (const m of trace.modules.values()) {
    if (m.internal || m.loads.length === 0) continue;
    const series = { delivered: new Array<number>(buckets).fill(0), dropped: new Array<number>(buckets).fill(0), handled: new Array<number>(buckets).fill(0) };
    const at = (t: number): number => Math.min(buckets - 1, Math.floor(t / bucketMs));
    for (const inc of m.incarnations) {
      for (const op of inc.ops) {
        const list = op.op === 'enqueued' ? series.delivered : op.op === 'full' ? series.dropped : op.op === 'handled' ? series.handled : null;
        if (list !== null) list[at(op.t)] = (list[at(op.t)] ?? 0) + 1;
      }
    }
    modules[m.name] = series;
  }
  return { bucketMs, buckets, modules };
}

function describeBound(metric: string, bound: Bound): string {
  if (bound.min !== undefined && bound.min === bound.max) return `${metric} = ${bound.min}`;
  const parts: string[] = [];
  if (bound.min !== undefined) parts.push(`${metric} >= ${bound.min}`);
  if (bound.max !== undefined) parts.push(`${metric} <= ${bound.max}`);
  return parts.join(', ');
}

/** Checks the scenario's expectations against the table; each one reported like an invariant. */
export function checkExpectations(expectations: readonly Expectation[], rows: readonly ModuleRow[]): InvariantResult[] {
  return expectations.map((e) => {
    const parts: string[] = [];
    const violations: string[] = [];
    const row = rows.find((r) => r.name === e.module);
    for (const [metric, bound] of Object.entries(e.metrics) as [ExpectMetric, Bound][]) {
      parts.push(describeBound(metric, bound));
      const value = row === undefined ? 0 : row[metric];
      if ((bound.min !== undefined && value < bound.min) || (bound.max !== undefined && value > bound.max)) {
        violations.push(`${e.module}: ${metric} is ${value}, expected ${describeBound(metric, bound)}`);
      }
    }
    if (e.health !== undefined) {
      parts.push(`health ${e.health}`);
      if (row?.health !== e.health) violations.push(`${e.module}: health is ${row?.health ?? 'unknown'}, expected ${e.health}`);
    }
    if (e.gaveUp !== undefined) {
      parts.push(e.gaveUp ? 'given up' : 'not given up');
      if ((row?.gaveUp ?? false) !== e.gaveUp) violations.push(`${e.module}: ${e.gaveUp ? 'was never given up' : `was given up (${row?.end ?? ''})`}`);
    }
    if (row === undefined) violations.unshift(`${e.module} was never loaded`);
    return {
      id: `expect ${e.module}`,
      title: `expectation: ${e.module} ${parts.join(', ')}`,
      status: violations.length === 0 ? 'pass' : 'fail',
      checked: e.module,
      violations,
      more: 0,
    } satisfies InvariantResult;
  });
}

/** What a run leaves for its report. */
export interface ReportInput {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly real: boolean;
  readonly timeScale: number;
  /** Virtual ms covered (to the end of the shutdown). */
  readonly endMs: number;
  readonly trace: Trace;
  readonly timeline: readonly TimelineEntry[];
  /** Events the simulator published, by type. */
  readonly published: Readonly<Record<string, number>>;
  /** Why the run was interrupted, or null. */
  readonly interrupted: string | null;
  /** The process modules' rows and the ones that did not start, when they ran in a companion node. */
  readonly companion: { readonly rows: readonly ModuleRow[]; readonly failures: ReadonlyMap<string, string> } | null;
}

/** The report of a run: the table, the invariants and expectations checked, the series and notes. */
export function buildReport(input: ReportInput): SimulationReport {
  const { scenario, seed, real, timeScale, endMs, trace, companion } = input;
  const rows = [...moduleRows(trace, (m) => !real && m.kind === 'in-process'), ...(companion?.rows ?? [])];
  const invariants = [...checkInvariants(trace, scenario.invariants), ...checkExpectations(scenario.expect, rows)];
  const notes: string[] = [];
  if (input.interrupted !== null) {
    notes.push(`interrupted (${input.interrupted}) at ${secs(trace.shutdown.requestedAt ?? endMs)}: shut down gracefully before the scenario's end at ${secs(scenario.shutdown.at)}`);
  }
  if (real) notes.push(`real time: 1 virtual ms = ${timeScale} real ms; timings and counts vary from run to run`);
  else notes.push(`deterministic: virtual time, seed ${seed}; the same scenario and seed give this same report`);
  const degraded = rows.filter((r) => r.assessed === 'degraded');
  if (degraded.length > 0) {
    const which = degraded.map((r) => `${r.name}: ${r.dropped} dropped, ${r.handled} handled`).join('; ');
    notes.push(`assessed degraded: dropped more events than it handled (${which})`);
  }
  if (companion !== null) {
    notes.push(
      `process modules (${companion.rows.map((r) => r.name).join(', ')}) ran as real child processes in a companion node on the real scheduler, ` +
        `fed the simulated node's events by a bridge (lifecycle events excepted, their publications stay there); ` +
        `their rows are outside the same-seed guarantee`,
    );
    for (const [name, failure] of companion.failures) notes.push(`process module ${name} did not start: ${failure}`);
  }
  return {
    version: 1,
    scenario: {
      name: scenario.name,
      seed,
      mode: real ? 'real' : 'deterministic',
      endMs,
      shutdownAtMs: scenario.shutdown.at,
      ...(real ? { timeScale } : {}),
      ...(input.interrupted === null ? {} : { interrupted: input.interrupted }),
    },
    traffic: Object.fromEntries(Object.entries(input.published).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    timeline: input.timeline,
    modules: rows,
    invariants,
    series: buildSeries(trace, endMs),
    notes,
    passed: invariants.every((i) => i.status !== 'fail'),
  };
}
