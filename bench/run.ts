/**
 * The benchmark driver: `npm run bench` (full) and `npm run bench -- --quick` (under a minute).
 *
 * Every configuration runs in a fresh child process (`node bench/cases/<case>.ts`, transpiled once
 * per run with esbuild, or through `node --import tsx` with --tsx),
 * `reps` times, interleaved (rep 1 of everything, then rep 2, ...) so that drift in the machine's
 * load hits every configuration alike. Each case prints one JSON result line; the driver takes the
 * median over processes and prints, per section, the medians side by side with the ratios of
 * modactor to its baselines, then every target with its measured ratio and PASS or MISS.
 *
 * Options:
 *   --quick            fewer repetitions, shorter rounds
 *   --reps N           processes per configuration (default 5, quick 1)
 *   --only REGEX       run only configurations whose key matches (targets print when measured)
 *   --json [FILE]      also write machine-readable results (default bench/results.json)
 *   --cpu-prof         run the children with --cpu-prof into bench/profiles/ and print the top
 *                      self-time functions of each main-thread profile (use with --only)
 *   --tsx              run the cases through `node --import tsx bench/cases/<case>.ts` instead of
 *                      transpiling src/ and bench/ once with esbuild (see lib/prebuild.ts)
 *   --list             print the configuration keys and exit
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.js';
import { prebuild, removeBuild } from './lib/prebuild.js';
import { summarizeProfile } from './lib/profile.js';
import { median, RESULT_MARKER, type CaseResult } from './lib/report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---- Options ------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const args = parseArgs(argv);
const quick = args.flag('quick');
const reps = args.number('reps', quick ? 1 : 5);
const only = args.string('only', '') === '' ? null : new RegExp(args.string('only', ''));
const cpuProf = args.flag('cpu-prof');
const jsonIndex = argv.indexOf('--json');
const jsonPath =
  jsonIndex < 0 ? null : argv[jsonIndex + 1] !== undefined && !(argv[jsonIndex + 1] as string).startsWith('--') ? (argv[jsonIndex + 1] as string) : 'bench/results.json';

/** Round timing of the time-bounded cases (fan-out, drop, simulator). */
// Warm-up matters: xstate needs ~200 ms of traffic before its rate settles (the kernel ~100 ms).
const T = quick ? ['--warmup-ms', '200', '--round-ms', '60', '--rounds', '3'] : ['--warmup-ms', '500', '--round-ms', '200', '--rounds', '5'];
const LATENCY = quick ? ['--warmup-events', '1000', '--events', '3000'] : ['--warmup-events', '2000', '--events', '10000'];
const MEMORY_COUNT = '100000';
/**
 * Modules loaded for the node memory case. Not 100,000: loading is superlinear in the module count
 * in the node layer as it stands (3,000 load in ~0.9 s, 10,000 in ~4.4 s, 100,000 did not finish
 * in 6 minutes), see docs/performance.md.
 */
const NODE_MEMORY_COUNT = quick ? '3000' : '10000';
const RESTARTS = quick ? '20000' : '50000';

// ---- What runs ----------------------------------------------------------------------------------

/** One configuration: a case file with its arguments, run in its own process `reps` times. */
interface Measurement {
  readonly key: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly gc?: boolean;
  /** Needs the node layer (createNode); skipped until src/index.ts exports it. */
  readonly node?: boolean;
  /** Fewer processes for slow, low-noise cases. */
  readonly maxReps?: number;
  /** Run through `node --import tsx` even when the cases are prebuilt (e.g. a case spawning .ts children). */
  readonly tsx?: boolean;
}

/** A table: rows of configurations, one column per implementation, plus ratio columns. */
interface Section {
  readonly title: string;
  readonly metric: string;
  readonly format: (value: number) => string;
  readonly rows: readonly { readonly label: string; readonly cells: Readonly<Record<string, Measurement>> }[];
  readonly columns: readonly string[];
  /** Ratio columns [numerator, denominator]; `ratio` = numerator value / denominator value. */
  readonly ratios?: readonly (readonly [string, string])[];
  /** Extra columns: another metric of one implementation's measurement (e.g. its drop rate). */
  readonly extras?: readonly { readonly label: string; readonly impl: string; readonly metric: string; readonly format: (v: number) => string }[];
  /** Printed instead of the table while the case cannot exist yet. */
  readonly pending?: string;
}

interface Target {
  readonly label: string;
  /** The measurement under test and the metric compared. */
  readonly measured: () => Measurement;
  readonly metric: string;
  /** Ratio against a baseline measurement, or an absolute bound when absent. */
  readonly baseline?: () => Measurement;
  /** The baseline's metric, when it is not `metric` (a ratio of two metrics of one case). */
  readonly baselineMetric?: string;
  readonly op: '>=' | '<=';
  readonly value: number;
  readonly format: (value: number) => string;
}

const cases = (name: string): string => `bench/cases/${name}.ts`;
const BASELINES = ['ring', 'emitter', 'xstate'] as const;
const SUBJECTS = ['kernel', 'node'] as const;

function fanout(impl: string, n: number, mode: 'burst' | 'yield'): Measurement {
  const key = `fanout ${mode} n=${n} ${impl}`;
  if (impl === 'node') return { key, file: cases('node-fanout'), args: ['--n', String(n), '--mode', mode, ...T], node: true };
  return { key, file: cases('fanout'), args: ['--impl', impl, '--n', String(n), '--mode', mode, ...T] };
}

/** The node fan-out case with a store (issue 11: durable events), beside the same case without. */
function storedFanout(n: number, mode: 'burst' | 'yield'): Measurement {
  return { key: `fanout ${mode} n=${n} node+store`, file: cases('node-fanout'), args: ['--n', String(n), '--mode', mode, '--store', ...T], node: true };
}

function latency(impl: string, mode: 'burst' | 'yield'): Measurement {
  const key = `latency ${mode} n=100 ${impl}`;
  if (impl === 'node') return { key, file: cases('node-latency'), args: ['--n', '100', '--mode', mode, ...LATENCY], node: true };
  return { key, file: cases('latency'), args: ['--impl', impl, '--n', '100', '--mode', mode, ...LATENCY] };
}

function drop(impl: string, n = 10): Measurement {
  const key = `drop 90% n=${n} ${impl}`;
  const shape = ['--n', String(n), '--stuck', String((n * 9) / 10)];
  if (impl === 'node') return { key, file: cases('node-drop'), args: [...shape, ...T], node: true };
  return { key, file: cases('drop'), args: ['--impl', impl, ...shape, ...T] };
}

function memory(impl: string): Measurement {
  const key = `memory idle ${impl}`;
  if (impl === 'node') return { key, file: cases('node-memory'), args: ['--count', NODE_MEMORY_COUNT], gc: true, node: true, maxReps: 3 };
  return { key, file: cases('memory'), args: ['--impl', impl, '--count', MEMORY_COUNT], gc: true, maxReps: 3 };
}

const SCALE_COUNT = quick ? '20000' : '100000';
const scaleLoad: Measurement = { key: 'scale load node', file: cases('node-scale'), args: ['--what', 'load', '--count', SCALE_COUNT], gc: true, node: true, maxReps: 3 };
const scaleFanout: Measurement = { key: 'scale fanout 10000 node', file: cases('node-scale'), args: ['--what', 'fanout', '--count', '10000', '--rounds', quick ? '5' : '20'], node: true, maxReps: 3 };

const spawnStop = (batch: number): Measurement => ({
  key: `lifecycle spawn-stop batch=${batch} kernel`,
  file: cases('lifecycle'),
  args: ['--what', 'spawn-stop', '--batch', String(batch), ...(batch > 1000 ? ['--rounds', quick ? '1' : '2', '--warmup-rounds', '0'] : ['--rounds', quick ? '5' : '10'])],
  maxReps: 3,
});
const restart: Measurement = { key: 'lifecycle restart kernel', file: cases('lifecycle'), args: ['--what', 'restart', '--restarts', RESTARTS], maxReps: 3 };
const ipc = (impl: 'batched' | 'raw'): Measurement => ({
  key: `ipc ${impl}`,
  file: cases('ipc'),
  args: ['--impl', impl, ...(quick ? ['--events', '5000', '--rounds', '3'] : [])],
  node: impl === 'batched',
});
const validation = (impl: 'catalogue' | 'stamped' | 'validate-only'): Measurement => ({
  key: `validation NewBlock ${impl}`,
  file: cases('validation'),
  args: ['--impl', impl, ...(quick ? ['--events', '500000', '--rounds', '3'] : [])],
  maxReps: 3,
});
/** The durable event log (issue 11) against a hand-written appender of the same bytes. */
const store = (impl: 'store' | 'bare'): Measurement => ({
  key: `store ${impl}`,
  file: cases('store'),
  args: ['--impl', impl, ...(quick ? ['--events', '50000', '--rounds', '2'] : [])],
  maxReps: 3,
});
/** NATS (issue #12): the raw client's baselines and modactor's bus layer, each with its own nats-server. */
const NATS_EVENTS = quick ? '20000' : '100000';
const NATS_ROUNDS = quick ? ['--rounds', '2'] : ['--rounds', '5'];
const natsCore = (impl: 'raw' | 'bus'): Measurement =>
  impl === 'raw'
    ? { key: 'nats core raw', file: cases('nats-raw'), args: ['--impl', 'core', '--events', NATS_EVENTS, ...NATS_ROUNDS], maxReps: 3 }
    : { key: 'nats core bus', file: cases('nats-bus'), args: ['--path', 'core', '--events', NATS_EVENTS, ...NATS_ROUNDS], maxReps: 3 };
const natsDurable = (impl: 'raw' | 'bus', batch: 1 | 100): Measurement => {
  const events = batch === 1 ? String(Number(NATS_EVENTS) / 5) : NATS_EVENTS;
  return impl === 'raw'
    ? { key: `nats jetstream batch=${batch} raw`, file: cases('nats-raw'), args: ['--impl', 'jetstream', '--batch', String(batch), '--events', events, ...NATS_ROUNDS], maxReps: 3 }
    : { key: `nats jetstream batch=${batch} bus`, file: cases('nats-bus'), args: ['--path', 'durable', '--batch', String(batch), '--events', events, ...NATS_ROUNDS], maxReps: 3 };
};
const natsCpu = (impl: string, who: 'publisher' | 'receiver'): NonNullable<Section['extras']>[number] => ({
  label: `${impl} ${who} CPU/event`,
  impl,
  metric: `${who}CpuUsPerEvent`,
  format: (v: number) => `${v.toFixed(2)} µs`,
});

/** A JetStream table: raw and bus, 1 and 100 events per message, one metric. */
function natsDurableSection(metric: 'ackedPerSec' | 'eventsPerSec', title: string): Section {
  return {
    title,
    metric,
    format: rate,
    columns: ['raw', 'bus'],
    rows: ([1, 100] as const).map((batch) => ({ label: `${batch} event${batch === 1 ? '' : 's'} per message`, cells: { raw: natsDurable('raw', batch), bus: natsDurable('bus', batch) } })),
    ratios: [['bus', 'raw']],
    ...(metric === 'eventsPerSec' ? { extras: [natsCpu('raw', 'publisher'), natsCpu('bus', 'publisher'), natsCpu('raw', 'receiver'), natsCpu('bus', 'receiver')] } : {}),
  };
}

const simulator = (mode: 'real' | 'sim'): Measurement => ({ key: `simulator ${mode} n=10 kernel`, file: cases('simulator'), args: ['--mode', mode, '--n', '10', ...T] });

const row = (label: string, make: (impl: string) => Measurement, impls: readonly string[]): Section['rows'][number] => ({
  label,
  cells: Object.fromEntries(impls.map((impl) => [impl, make(impl)])),
});

const rate = (v: number): string => si(v, '/s');
const ns = (v: number): string => `${v.toFixed(v < 100 ? 1 : 0)} ns`;
const us = (v: number): string => `${v.toFixed(v < 100 ? 1 : 0)} µs`;
const bytes = (v: number): string => `${v.toFixed(0)} B`;
const ms = (v: number): string => `${v.toFixed(0)} ms`;
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const times = (v: number): string => `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3)}x`;

const FANOUT_IMPLS = [...SUBJECTS, ...BASELINES];
const fanoutSection = (mode: 'burst' | 'yield'): Section => ({
  title: mode === 'burst' ? 'fan-out, bursts of 100 between yields: events delivered to handlers per second' : 'fan-out, a yield after every publish: events delivered to handlers per second',
  metric: 'eventsPerSec',
  format: rate,
  columns: FANOUT_IMPLS,
  rows: [1, 10, 100].map((n) => row(`N=${n}`, (impl) => fanout(impl, n, mode), FANOUT_IMPLS)),
  ratios: [
    ['kernel', 'ring'],
    ['kernel', 'xstate'],
    ['node', 'ring'],
    ['node', 'xstate'],
  ],
  extras: [
    { label: 'kernel drops', impl: 'kernel', metric: 'dropRate', format: pct },
    { label: 'node drops', impl: 'node', metric: 'dropRate', format: pct },
  ],
});

const LATENCY_IMPLS = quick ? (['kernel', 'node', 'ring'] as const) : FANOUT_IMPLS;
const SECTIONS: Section[] = [
  fanoutSection('burst'),
  fanoutSection('yield'),
  {
    title: 'drop path: 90% of subscribers stuck (90% of offers dropped): marginal publish time per drop (with the stuck subscribers minus without them, per drop)',
    metric: 'nsPerDrop',
    format: ns,
    columns: ['kernel', 'node', 'ring'],
    rows: [10, 100].map((n) => row(`N=${n}, ${(n * 9) / 10} stuck`, (impl) => drop(impl, n), ['kernel', 'node', 'ring'])),
    ratios: [
      ['kernel', 'ring'],
      ['node', 'ring'],
    ],
    extras: [
      { label: 'kernel dropped', impl: 'kernel', metric: 'dropRate', format: pct },
      { label: 'node per publish', impl: 'node', metric: 'nsPerPublish', format: ns },
      { label: 'ring per publish', impl: 'ring', metric: 'nsPerPublish', format: ns },
    ],
  },
  {
    title: 'latency: publish -> handler, N=100, p50',
    metric: 'p50Us',
    format: us,
    columns: LATENCY_IMPLS,
    rows: [
      row('yield after each', (impl) => latency(impl, 'yield'), LATENCY_IMPLS),
      row('bursts of 100', (impl) => latency(impl, 'burst'), ['kernel', 'node', 'ring']),
    ],
    ratios: [
      ['kernel', 'ring'],
      ['node', 'ring'],
    ],
  },
  {
    title: 'latency: publish -> handler, N=100, p99',
    metric: 'p99Us',
    format: us,
    columns: LATENCY_IMPLS,
    rows: [
      row('yield after each', (impl) => latency(impl, 'yield'), LATENCY_IMPLS),
      row('bursts of 100', (impl) => latency(impl, 'burst'), ['kernel', 'node', 'ring']),
    ],
    ratios: [
      ['kernel', 'ring'],
      ['node', 'ring'],
    ],
    extras: [{ label: 'kernel drops', impl: 'kernel', metric: 'dropRate', format: pct }],
  },
  {
    title: `memory: heap bytes per idle actor / bare subscriber (100-slot mailbox, ${MEMORY_COUNT} spawned)`,
    metric: 'bytesPerActor',
    format: bytes,
    columns: ['kernel', 'ring'],
    rows: [row('idle', memory, ['kernel', 'ring'])],
    ratios: [['kernel', 'ring']],
  },
  {
    title: `memory: heap bytes per idle module (node layer, 100-slot mailbox, ${NODE_MEMORY_COUNT} loaded)`,
    metric: 'bytesPerModule',
    format: bytes,
    columns: ['node'],
    rows: [row('idle', memory, ['node'])],
  },
  {
    title: `node at scale: ${SCALE_COUNT} idle modules loaded (10 watching ModuleLoaded), µs per load in the batch of 1,000 around the 1,000th, 10,000th and last; heap per module`,
    metric: 'loadUsAt1k',
    format: (v: number) => `${v.toFixed(1)} µs`,
    columns: ['node'],
    rows: [row('1,000th load', () => scaleLoad, ['node'])],
    extras: [
      { label: '10,000th', impl: 'node', metric: 'loadUsAt10k', format: (v: number) => `${v.toFixed(1)} µs` },
      { label: 'last', impl: 'node', metric: 'loadUsAtLast', format: (v: number) => `${v.toFixed(1)} µs` },
      { label: 'last/10,000th', impl: 'node', metric: 'loadGrowth', format: (v: number) => `${v.toFixed(2)}x` },
      { label: 'all loads', impl: 'node', metric: 'totalLoadMs', format: ms },
      { label: 'heap/module', impl: 'node', metric: 'bytesPerModule', format: bytes },
    ],
  },
  {
    title: 'node at scale: one event type with 10,000 subscribers, bursts of 10: deliveries per second',
    metric: 'deliveriesPerSec',
    format: rate,
    columns: ['node'],
    rows: [row('10,000 subscribers', () => scaleFanout, ['node'])],
    extras: [{ label: 'CPU per delivery', impl: 'node', metric: 'cpuNsPerDelivery', format: ns }],
  },
  {
    title: 'lifecycle: top-level spawns per second (spawned and started)',
    metric: 'spawnPerSec',
    format: rate,
    columns: ['kernel'],
    rows: [1000, 10000].map((b) => ({ label: `batch of ${b}`, cells: { kernel: spawnStop(b) } })),
  },
  {
    title: 'lifecycle: stops per second (system.stop, awaited)',
    metric: 'stopPerSec',
    format: rate,
    columns: ['kernel'],
    rows: [1000, 10000].map((b) => ({ label: `batch of ${b}`, cells: { kernel: spawnStop(b) } })),
  },
  {
    title: 'supervision: restarts per second (child throws on every message, one-for-one, unlimited intensity)',
    metric: 'restartsPerSec',
    format: rate,
    columns: ['kernel'],
    rows: [{ label: '1 child', cells: { kernel: restart } }],
    extras: [{ label: 'event-loop stall', impl: 'kernel', metric: 'eventLoopStallMs', format: ms }],
  },
  {
    title: 'simulator: kernel fan-out N=10, bursts of 100, events delivered per second',
    metric: 'eventsPerSec',
    format: rate,
    columns: ['real', 'simulated'],
    rows: [{ label: 'N=10', cells: { real: simulator('real'), simulated: simulator('sim') } }],
    ratios: [['simulated', 'real']],
  },
  {
    title: 'validation + frozen copy per publish: ns per valid NewBlock event (catalogue.check parses into a deep-frozen copy; validate-only: the hand-written floor, no copy)',
    metric: 'nsPerEvent',
    format: ns,
    columns: ['catalogue', 'stamped', 'validate-only'],
    rows: [{ label: 'NewBlock', cells: { catalogue: validation('catalogue'), stamped: validation('stamped'), 'validate-only': validation('validate-only') } }],
    ratios: [['catalogue', 'validate-only']],
    extras: [
      { label: 'catalogue CPU', impl: 'catalogue', metric: 'cpuNsPerEvent', format: ns },
      { label: 'validate-only CPU', impl: 'validate-only', metric: 'cpuNsPerEvent', format: ns },
    ],
  },
  // ---- IPC (issue 4) ---------------------------------------------------------------------------
  // bench/cases/ipc.ts (written with the process modules): --impl batched (a node publishing to one
  // process module) and --impl raw (a forked child, one child.send per event). Target (issue 4):
  // batched at least 2x raw.
  {
    title: 'IPC: host -> one out-of-process module, events handled per second (batched process module vs raw fork IPC, one message per event)',
    metric: 'eventsPerSec',
    format: rate,
    columns: ['batched', 'raw'],
    rows: [{ label: '1 module', cells: { batched: ipc('batched'), raw: ipc('raw') } }],
    ratios: [['batched', 'raw']],
  },
  // ---- Durable events (issue 11) ---------------------------------------------------------------
  // bench/cases/store.ts: the event log (group commit, batches of 1000, fdatasync each) and a bare
  // appender writing the same bytes with the same cadence. Target: store append >= 0.5x bare.
  {
    title: 'durable event log: append, batches of 1000 with an fdatasync each, events per second (bare: the same bytes by hand; disk alone: pre-encoded)',
    metric: 'appendPerSec',
    format: rate,
    columns: ['store', 'bare'],
    rows: [{ label: 'append', cells: { store: store('store'), bare: store('bare') } }],
    ratios: [['store', 'bare']],
    extras: [{ label: 'disk alone', impl: 'bare', metric: 'ioOnlyPerSec', format: rate }],
  },
  {
    title: 'durable event log: replay from the start, events per second (store: checksums checked, records parsed; bare: lines parsed)',
    metric: 'replayPerSec',
    format: rate,
    columns: ['store', 'bare'],
    rows: [{ label: 'replay', cells: { store: store('store'), bare: store('bare') } }],
    ratios: [['store', 'bare']],
    extras: [{ label: 'store open (scan)', impl: 'store', metric: 'openMs', format: ms }],
  },
  {
    title: 'durable events on the node: fan-out N=100, events delivered to handlers per second, without and with a store (every NewBlock appended, group commit with an fdatasync per batch)',
    metric: 'eventsPerSec',
    format: rate,
    columns: ['node', 'node+store'],
    rows: (['burst', 'yield'] as const).map((mode) => ({
      label: mode === 'burst' ? 'bursts of 100' : 'yield after each',
      cells: { node: fanout('node', 100, mode), 'node+store': storedFanout(100, mode) },
    })),
    ratios: [['node+store', 'node']],
    extras: [
      { label: 'node CPU/publish', impl: 'node', metric: 'cpuUsPerPublish', format: us },
      { label: 'node+store CPU/publish', impl: 'node+store', metric: 'cpuUsPerPublish', format: us },
    ],
  },
  // ---- NATS (issue #12) ------------------------------------------------------------------------
  // bench/cases/nats-raw.ts: the raw client (core pub/sub with a JSON-parsing subscriber in another
  // process; JetStream publishes of batches under a window of acknowledgements).
  // bench/cases/nats-bus.ts: two modactor nodes in two processes (createNode + connectBus), the
  // publisher on A, 10 modules taking each event on B; `--impl port` measures the bus layer alone.
  // CPU per event holds on a busy machine where events/s does not.
  {
    title: 'NATS core: node A -> node B through a real nats-server, events received per second (raw: one JSON event per message, parsed)',
    metric: 'eventsPerSec',
    format: rate,
    columns: ['raw', 'bus'],
    rows: [{ label: 'A -> B', cells: { raw: natsCore('raw'), bus: natsCore('bus') } }],
    ratios: [['bus', 'raw']],
    extras: [natsCpu('raw', 'publisher'), natsCpu('bus', 'publisher'), natsCpu('raw', 'receiver'), natsCpu('bus', 'receiver')],
  },
  natsDurableSection('ackedPerSec', 'NATS JetStream: durable events acknowledged by the stream per second (publisher side, window of 32 messages, a consumer reading meanwhile)'),
  natsDurableSection('eventsPerSec', 'NATS JetStream: durable events received by node B per second (end to end, through a durable consumer)'),
];

const fan = (impl: string, n: number, mode: 'burst' | 'yield'): (() => Measurement) => () => fanout(impl, n, mode);
/** The issue's targets; node-level targets, checked on the kernel too until the node layer lands. */
const TARGETS: Target[] = SUBJECTS.flatMap((s): Target[] => [
  { label: 'fan-out bursts, N=100: >= 50% of the bare baseline', measured: fan(s, 100, 'burst'), baseline: fan('ring', 100, 'burst'), metric: 'eventsPerSec', op: '>=', value: 0.5, format: times },
  { label: 'fan-out yield after each publish, N=100: >= 50% of the bare baseline', measured: fan(s, 100, 'yield'), baseline: fan('ring', 100, 'yield'), metric: 'eventsPerSec', op: '>=', value: 0.5, format: times },
  { label: 'fan-out bursts, N=100: >= 30x xstate', measured: fan(s, 100, 'burst'), baseline: fan('xstate', 100, 'burst'), metric: 'eventsPerSec', op: '>=', value: 30, format: times },
  { label: 'fan-out yield after each publish, N=100: >= 30x xstate', measured: fan(s, 100, 'yield'), baseline: fan('xstate', 100, 'yield'), metric: 'eventsPerSec', op: '>=', value: 30, format: times },
  {
    label: s === 'kernel' ? 'memory: <= 1.5 KiB per idle actor' : 'memory: <= 2 KiB per idle module (100-slot mailbox)',
    measured: () => memory(s),
    metric: s === 'kernel' ? 'bytesPerActor' : 'bytesPerModule',
    op: '<=',
    value: s === 'kernel' ? 1536 : 2048,
    format: bytes,
  },
  ...[10, 100].map(
    (n): Target => ({
      label: `drop path, N=${n}: <= 2x the baseline cost per drop`,
      measured: () => drop(s, n),
      baseline: () => drop('ring', n),
      metric: 'nsPerDrop',
      op: '<=',
      value: 2,
      format: times,
    }),
  ),
  { label: 'latency p99, N=100 (yield after each): <= 2x the baseline', measured: () => latency(s, 'yield'), baseline: () => latency('ring', 'yield'), metric: 'p99Us', op: '<=', value: 2, format: times },
  ...(s === 'node'
    ? [
        { label: 'IPC: batched >= 2x raw fork IPC', measured: () => ipc('batched'), baseline: () => ipc('raw'), metric: 'eventsPerSec', op: '>=' as const, value: 2, format: times },
        {
          label: `scale: the last of ${SCALE_COUNT} loads <= 2x the 1,000th (loading stays linear)`,
          measured: () => scaleLoad,
          baseline: () => scaleLoad,
          metric: 'loadUsAtLast',
          baselineMetric: 'loadUsAt1k',
          op: '<=' as const,
          value: 2,
          format: times,
        },
      ]
    : []),
]).concat([
  {
    label: 'simulator: >= 0.5x the real scheduler (kernel fan-out N=10)',
    measured: () => simulator('sim'),
    baseline: () => simulator('real'),
    metric: 'eventsPerSec',
    op: '>=',
    value: 0.5,
    format: times,
  },
  ...(['burst', 'yield'] as const).map(
    (mode): Target => ({
      label: `durable events: node fan-out N=100 (${mode === 'burst' ? 'bursts' : 'yield after each'}) with a store >= 0.75x without (at most 25% slower)`,
      measured: () => storedFanout(100, mode),
      baseline: () => fanout('node', 100, mode),
      metric: 'eventsPerSec',
      op: '>=',
      value: 0.75,
      format: times,
    }),
  ),
  {
    label: 'durable event log: append >= 0.5x a bare append of the same bytes, same sync cadence',
    measured: () => store('store'),
    baseline: () => store('bare'),
    metric: 'appendPerSec',
    op: '>=',
    value: 0.5,
    format: times,
  },
] satisfies Target[]);

// ---- Running ------------------------------------------------------------------------------------

interface Outcome {
  readonly measurement: Measurement;
  readonly runs: CaseResult[];
  readonly errors: string[];
  skipped?: string;
}

async function nodeLayerBuilt(): Promise<boolean> {
  const api = (await import('../src/index.js')) as Record<string, unknown>;
  return typeof api['createNode'] === 'function' && typeof api['defineModule'] === 'function';
}

/** Set by main: where the transpiled cases are, or null to run them through tsx. */
let buildDir: string | null = null;

function runOnce(m: Measurement, rep: number): Promise<CaseResult> {
  const flags = buildDir === null || m.tsx === true ? ['--import', 'tsx'] : [];
  const file = flags.length === 0 ? join(buildDir as string, m.file.replace(/\.ts$/, '.js')) : m.file;
  if (m.gc === true) flags.unshift('--expose-gc');
  if (cpuProf) {
    // One directory per process: V8 writes a profile per thread (main, and tsx's loader worker).
    flags.unshift('--cpu-prof', `--cpu-prof-dir=${profileDir(m, rep)}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, file, ...m.args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || line === undefined) {
        reject(new Error(`exit ${String(code)}: ${stderr.trim().split('\n').slice(-5).join(' | ') || 'no result line'}`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as CaseResult);
    });
  });
}

function collectMeasurements(): Measurement[] {
  const byKey = new Map<string, Measurement>();
  for (const section of SECTIONS) for (const r of section.rows) for (const m of Object.values(r.cells)) byKey.set(m.key, m);
  return [...byKey.values()].filter((m) => only === null || only.test(m.key));
}

async function main(): Promise<void> {
  const measurements = collectMeasurements();
  if (args.flag('list')) {
    for (const m of measurements) console.log(`${m.key}\t${m.file} ${m.args.join(' ')}`);
    return;
  }
  const nodeBuilt = await nodeLayerBuilt();
  const loadBefore = loadavg()[0] ?? 0;
  const measured = revision(); // before the build: that is the code the cases run
  const outcomes = new Map<string, Outcome>();
  for (const m of measurements) outcomes.set(m.key, { measurement: m, runs: [], errors: [] });
  if (!nodeBuilt) for (const m of measurements) if (m.node === true) (outcomes.get(m.key) as Outcome).skipped = 'node layer not built yet';
  if (cpuProf) mkdirSync(join(ROOT, 'bench/profiles'), { recursive: true });
  if (!args.flag('tsx')) {
    buildDir = await prebuild(ROOT);
    if (buildDir === null) console.error('esbuild not found: running the cases through node --import tsx (slower to start)');
  }

  const todo = measurements.filter((m) => outcomes.get(m.key)?.skipped === undefined);
  const total = todo.reduce((sum, m) => sum + Math.min(reps, m.maxReps ?? reps), 0);
  const started = performance.now();
  let done = 0;
  console.error(`modactor bench: ${todo.length} configurations, ${total} processes${quick ? ' (quick)' : ''}`);
  for (let rep = 0; rep < reps; rep++) {
    for (const m of todo) {
      if (rep >= (m.maxReps ?? reps)) continue;
      const outcome = outcomes.get(m.key) as Outcome;
      done++;
      const t0 = performance.now();
      try {
        const result = await runOnce(m, rep);
        if (result.skipped !== undefined) outcome.skipped = result.skipped;
        else outcome.runs.push(result);
        const first = Object.entries(result.metrics)[0];
        const shown = result.skipped ?? (first === undefined ? '' : `${first[0]} ${first[1].toPrecision(4)}`);
        console.error(`  [${done}/${total}] ${m.key}: ${shown} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (error) {
        outcome.errors.push(error instanceof Error ? error.message : String(error));
        console.error(`  [${done}/${total}] ${m.key}: FAILED ${outcome.errors.at(-1) ?? ''}`);
      }
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const load = { before: loadBefore, after: loadavg()[0] ?? 0 };

  const medianOf = (m: Measurement, metric: string): number | undefined => {
    const outcome = outcomes.get(m.key);
    if (outcome === undefined || outcome.runs.length === 0) return undefined;
    const values = outcome.runs.map((r) => r.metrics[metric]).filter((v): v is number => typeof v === 'number');
    return values.length === 0 ? undefined : median(values);
  };
  const cellText = (m: Measurement | undefined, metric: string, format: (v: number) => string): string => {
    if (m === undefined) return '';
    const outcome = outcomes.get(m.key);
    if (outcome === undefined) return '';
    if (outcome.skipped !== undefined) return 'skipped';
    const v = medianOf(m, metric);
    if (v === undefined) return outcome.errors.length > 0 ? 'FAILED' : '';
    return format(v);
  };

  const machine = machineInfo();
  console.log('');
  console.log(`modactor bench${quick ? ' --quick' : ''}: ${machine.date}, ${machine.cpu}, ${machine.nproc} cores, node ${machine.node}`);
  console.log(`commit ${measured}`);
  console.log(`medians of ${reps} fresh process${reps === 1 ? '' : 'es'} per configuration (each the median of its own rounds); ${elapsed.toFixed(0)} s`);
  console.log(`1-minute load average ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after (above ${machine.nproc} means other work shared the CPUs)`);
  if (!nodeBuilt) console.log('node layer: skipped (node layer not built yet): "node" columns and node targets are not measured');

  for (const section of SECTIONS) {
    console.log('');
    console.log(section.title);
    if (section.pending !== undefined) {
      console.log(`  ${section.pending}`);
      continue;
    }
    const rows = section.rows.filter((r) => Object.values(r.cells).some((m) => outcomes.has(m.key)));
    if (rows.length === 0) {
      console.log('  (not run)');
      continue;
    }
    const ratios = (section.ratios ?? []).filter(([a, b]) => rows.some((r) => r.cells[a] !== undefined && r.cells[b] !== undefined));
    const extras = (section.extras ?? []).filter((e) => rows.some((r) => r.cells[e.impl] !== undefined));
    const header = ['', ...section.columns, ...ratios.map(([a, b]) => `${a}/${b}`), ...extras.map((e) => e.label)];
    const body = rows.map((r) => {
      const cells = section.columns.map((c) => cellText(r.cells[c], section.metric, section.format));
      const ratioCells = ratios.map(([a, b]) => {
        const ma = r.cells[a];
        const mb = r.cells[b];
        const va = ma === undefined ? undefined : medianOf(ma, section.metric);
        const vb = mb === undefined ? undefined : medianOf(mb, section.metric);
        return va === undefined || vb === undefined ? '' : times(va / vb);
      });
      const extraCells = extras.map((e) => cellText(r.cells[e.impl], e.metric, e.format));
      return [r.label, ...cells, ...ratioCells, ...extraCells];
    });
    printTable(header, body);
  }

  console.log('');
  console.log('targets (set for the node level; checked on the kernel too)');
  const targetRows: string[][] = [];
  const targetResults: Record<string, unknown>[] = [];
  for (const t of TARGETS) {
    const m = t.measured();
    const subject = m.key.split(' ').at(-1) ?? '';
    const outcome = outcomes.get(m.key);
    if (outcome === undefined) continue; // not run (--only)
    const v = medianOf(m, t.metric);
    const baselineMetric = t.baselineMetric ?? t.metric;
    const b = t.baseline === undefined ? undefined : medianOf(t.baseline(), baselineMetric);
    let measured: string;
    let status: string;
    let value: number | undefined;
    if (outcome.skipped !== undefined) {
      measured = 'skipped';
      status = outcome.skipped;
    } else if (v === undefined || (t.baseline !== undefined && b === undefined)) {
      measured = 'n/a';
      status = 'not measured';
    } else {
      value = b === undefined ? v : v / b;
      measured =
        t.baseline === undefined
          ? t.format(value)
          : `${t.format(value)} (${cellText(m, t.metric, formatFor(t.metric))} vs ${cellText(t.baseline(), baselineMetric, formatFor(baselineMetric))})`;
      const pass = t.op === '>=' ? value >= t.value : value <= t.value;
      const need = `${t.op} ${t.format(t.value)}`;
      status = `${pass ? 'PASS' : 'MISS'} (needs ${need}${pass ? '' : `; ${missBy(value, t)}`})`;
    }
    targetRows.push([subject, t.label, measured, status]);
    targetResults.push({ subject, target: t.label, metric: t.metric, op: t.op, value: t.value, measured: value ?? null, status });
  }
  printTable(['', 'target', 'measured', 'status'], targetRows, 'left');

  if (cpuProf) {
    console.log('');
    console.log('CPU profiles (main thread; self time)');
    for (const m of todo) {
      for (let rep = 0; rep < Math.min(reps, m.maxReps ?? reps); rep++) {
        const dir = join(ROOT, profileDir(m, rep));
        const main = mainThreadProfile(dir);
        if (main === null) continue;
        console.log(`  ${m.key} (rep ${rep + 1}): ${relative(ROOT, main.file)}`);
        for (const line of summarizeProfile(main.profile, { top: 12, root: ROOT })) console.log(`    ${line}`);
        for (const line of summarizeProfile(main.profile, { top: 12, root: ROOT, filter: 'src/' })) console.log(`    ${line}`);
      }
    }
  }

  if (jsonPath !== null) {
    const out = {
      machine,
      commit: measured,
      loadAverage: load,
      quick,
      reps,
      elapsedSeconds: elapsed,
      nodeLayer: nodeBuilt,
      measurements: Object.fromEntries(
        [...outcomes.values()].map((o) => [
          o.measurement.key,
          {
            file: o.measurement.file,
            args: o.measurement.args,
            skipped: o.skipped ?? null,
            errors: o.errors,
            medians: medianMetrics(o.runs),
            runs: o.runs,
          },
        ]),
      ),
      targets: targetResults,
    };
    writeFileSync(join(ROOT, jsonPath), `${JSON.stringify(out, null, 2)}\n`);
    console.log('');
    console.log(`JSON results written to ${relative(ROOT, join(ROOT, jsonPath))}`);
  }
  const failed = [...outcomes.values()].filter((o) => o.errors.length > 0);
  if (failed.length > 0) {
    console.log('');
    for (const o of failed) console.log(`FAILED ${o.measurement.key}: ${o.errors.join(' / ')}`);
    process.exitCode = 1;
  }
}

function profileDir(m: Measurement, rep: number): string {
  return `bench/profiles/${m.key.replace(/[^a-z0-9=]+/gi, '-')}-${rep + 1}`;
}

/** Of the profiles in `dir` (one per thread), the one with the most non-idle samples. */
function mainThreadProfile(dir: string): { file: string; profile: unknown } | null {
  let best: { file: string; profile: unknown; busy: number } | null = null;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return null;
  }
  for (const f of files) {
    const file = join(dir, f);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes?: { id: number; callFrame: { functionName: string } }[]; samples?: number[] };
    const idle = new Set((profile.nodes ?? []).filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    const busy = (profile.samples ?? []).filter((id) => !idle.has(id)).length;
    if (best === null || busy > best.busy) best = { file, profile, busy };
  }
  return best;
}

function formatFor(metric: string): (v: number) => string {
  if (metric.endsWith('PerSec')) return rate;
  if (metric.startsWith('ns')) return ns;
  if (metric.endsWith('Us')) return us;
  if (metric.startsWith('bytes')) return bytes;
  return (v) => v.toPrecision(4);
}

function missBy(value: number, t: Target): string {
  if (t.op === '>=') return `at ${((value / t.value) * 100).toFixed(1)}% of the target`;
  return `${((value / t.value - 1) * 100).toFixed(1)}% over the target`;
}

function medianMetrics(runs: readonly CaseResult[]): Record<string, number> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.metrics)));
  return Object.fromEntries([...keys].map((k) => [k, median(runs.map((r) => r.metrics[k]).filter((v): v is number => typeof v === 'number'))]));
}

/** The commit measured, and whether src/ or bench/ had uncommitted changes (measured too). */
function revision(): string {
  try {
    const git = (...argv: string[]): string => execFileSync('git', argv, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--', 'src', 'bench') === '' ? head : `${head} + uncommitted changes in src/ or bench/`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function machineInfo(): { date: string; cpu: string; nproc: number; node: string } {
  let cpu = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1] !== undefined) cpu = match[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return { date: new Date().toISOString().slice(0, 10), cpu, nproc: availableParallelism(), node: process.version };
}

/** Prints aligned columns: the first left-aligned, the others right-aligned (numbers) or left. */
function printTable(header: readonly string[], rows: readonly (readonly string[])[], align: 'right' | 'left' = 'right'): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (c: string, i: number): string => (i === 0 || align === 'left' ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0));
  const line = (cells: readonly string[]): string => `  ${cells.map(pad).join('  ')}`.trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

function si(v: number, unit: string): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)}G${unit}`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M${unit}`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k${unit}`;
  return `${v.toFixed(0)}${unit}`;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    if (buildDir !== null) removeBuild(ROOT, buildDir);
  });
