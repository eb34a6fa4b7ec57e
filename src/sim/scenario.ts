import { ModactorError, describeValue, type ValidationIssue } from '../kernel/errors.js';
import { issue, nestIssue } from '../kernel/checks.js';
import { nodeCatalogue, type NodeEvent } from '../events/node-catalogue.js';
import { errorMessage } from './error-message.js';

/**
 * The scenario format of `modactor simulate` (documented in docs/simulate.md). A scenario is JSON;
 * {@link parseScenario} checks it and returns it normalised (defaults filled in), or throws a
 * `ModactorError` with code `invalid-scenario` whose issues name each bad field.
 */

/** Traffic a generator produces. */
export type TrafficKind = 'blocks' | 'transactions' | 'peers' | 'governance' | 'maintenance';
export const TRAFFIC_KINDS: readonly TrafficKind[] = ['blocks', 'transactions', 'peers', 'governance', 'maintenance'];

/** The built-in invariants, checked after every run. */
export type InvariantName =
  | 'fifo'
  | 'module-loaded-once'
  | 'unloaded-after-loaded'
  | 'accounting'
  | 'mailbox-bound'
  | 'nothing-after-termination'
  | 'restart-policy'
  | 'graceful-shutdown'
  | 'durable-delivery';
/** The invariants checked by default (`durable-delivery` too when the scenario's node has a store). */
export const INVARIANT_NAMES: readonly InvariantName[] = [
  'fifo',
  'module-loaded-once',
  'unloaded-after-loaded',
  'accounting',
  'mailbox-bound',
  'nothing-after-termination',
  'restart-policy',
  'graceful-shutdown',
];
/** The invariant of a node with a store (`node.store`), checked by default when there is one. */
export const STORE_INVARIANT: InvariantName = 'durable-delivery';
const ALL_INVARIANT_NAMES: readonly InvariantName[] = [...INVARIANT_NAMES, STORE_INVARIANT];

/** A module of the scenario: a cast member from actors/ (or a file), loaded at `at`. */
export interface ScenarioModule {
  /** Cast member under actors/ (`indexer`), or a path relative to the scenario file (`./my-module.ts`). */
  readonly actor: string;
  /** The module's name in the node; default the name the definition gives itself. */
  readonly name?: string;
  /** Passed to the actor's factory `(options) => definition`. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Virtual ms at which it is loaded; after 0 it is a hotload into the running node. */
  readonly at: number;
  /** The module keeps its position and replays what it missed (`replay: true`; needs `node.store`). */
  readonly replay?: boolean;
}

/** A traffic generator: events of one kind at a fixed interval or a mean rate, in virtual time. */
export interface TrafficSpec {
  readonly kind: TrafficKind;
  /** Fixed interval in virtual ms (exactly one of `every` and `rate`). */
  readonly every?: number;
  /** Mean events per virtual second, with seeded exponential gaps. */
  readonly rate?: number;
  readonly from: number;
  /** Last time an event may be generated; default the shutdown. */
  readonly until?: number;
  /** blocks: every n-th block is replaced by a one-block reorg (BlockDisconnected, ChainReorg, NewBlock). */
  readonly reorgEvery?: number;
}

/** A fault, injected generically by the simulator (see `withFaults`). */
export type FaultSpec =
  /** The module throws on the next `count` events it takes at or after `at` (default 1). */
  | { readonly kind: 'crash'; readonly module: string; readonly at: number; readonly count: number }
  /** The next event it takes at or after `at` hangs it for `for` ms (default: until it is stopped). */
  | { readonly kind: 'hang'; readonly module: string; readonly at: number; readonly for?: number }
  /** From `at` for `for` ms (default: to the end), every event it takes costs `delayMs` more. */
  | { readonly kind: 'slow'; readonly module: string; readonly at: number; readonly for?: number; readonly delayMs: number }
  /** A burst of `count` events of a traffic kind, at `at` (spread over `over` ms, default 0). */
  | { readonly kind: 'flood'; readonly traffic: TrafficKind; readonly at: number; readonly count: number; readonly over: number }
  /** The node restarts at `at` (default: its process crashes); needs `node.store`. */
  | { readonly kind: 'restart-node'; readonly at: number; readonly how: NodeRestartHow };

/**
 * How a node restarts: `graceful` (shut down, then started again), `crash` (its process dies: the
 * page cache survives) or `power-loss` (the machine loses power: unsynced bytes are lost).
 */
export type NodeRestartHow = 'graceful' | 'crash' | 'power-loss';
export const NODE_RESTART_HOWS: readonly NodeRestartHow[] = ['graceful', 'crash', 'power-loss'];

/** Options a `probe` or any cast member takes; free-form, given to its factory. */
export type ModuleOptions = Readonly<Record<string, unknown>>;

/**
 * A command: the vocabulary shared by timed `actions`, the sequential `script` and the
 * model-based property test (`scenarioFromCommands` maps its commands 1:1 onto script steps).
 */
export type ScenarioCommand =
  /** Loads a module (by default the generic `probe` actor); a script waits until it is announced. */
  | { readonly do: 'load'; readonly module: string; readonly actor: string; readonly options?: ModuleOptions }
  /** Loads a module into the running node; a script goes on at once, while it starts up. */
  | { readonly do: 'hotload'; readonly module: string; readonly actor: string; readonly options?: ModuleOptions }
  /** Subscribes a loaded module to more event types. */
  | { readonly do: 'subscribe'; readonly module: string; readonly types: readonly string[] }
  /** Publishes `count` copies of an event (validated against the node catalogue). */
  | { readonly do: 'publish'; readonly event: NodeEvent; readonly count: number }
  /** Publishes the next `count` events of a traffic kind (blocks continue the simulated chain). */
  | { readonly do: 'publish'; readonly traffic: TrafficKind; readonly count: number }
  /**
   * Slows the module down: with `delayMs`, every event it takes costs that much more (for `forMs`,
   * default to the end); without, it is held: every event it takes waits until a `release`.
   */
  | { readonly do: 'slow'; readonly module: string; readonly delayMs?: number; readonly forMs?: number }
  /** Lets a held module go on (and ends any slow down of it). */
  | { readonly do: 'release'; readonly module: string }
  /** The module throws on the next event it takes (of type `on`, if given). */
  | { readonly do: 'crash'; readonly module: string; readonly on?: string }
  /** Restarts a module as it is (node.reload without a new definition). */
  | { readonly do: 'restart'; readonly module: string }
  /** Reloads a module with new options of the same actor (a new version if the options say so). */
  | { readonly do: 'reload'; readonly module: string; readonly options?: ModuleOptions }
  | { readonly do: 'unload'; readonly module: string }
  /** Script only: moves the script's clock on by `ms` virtual ms. */
  | { readonly do: 'advance'; readonly ms: number }
  /** Restarts the node on its store (default `crash`); a script goes on once it is back with its modules. */
  | { readonly do: 'restart-node'; readonly how?: NodeRestartHow }
  /** Flushes the node's store: what was published before it is acknowledged once it resolves (a script waits). */
  | { readonly do: 'flush' };

export type CommandKind = ScenarioCommand['do'];
export const COMMAND_KINDS: readonly CommandKind[] = [
  'load',
  'hotload',
  'subscribe',
  'publish',
  'slow',
  'release',
  'crash',
  'restart',
  'reload',
  'unload',
  'advance',
  'restart-node',
  'flush',
];

/** A command at an absolute virtual time. */
export type TimedAction = Exclude<ScenarioCommand, { readonly do: 'advance' }> & { readonly at: number };

/** Metrics an expectation can bound. */
export type ExpectMetric = 'delivered' | 'handled' | 'dropped' | 'failed' | 'lost' | 'restarts';
export const EXPECT_METRICS: readonly ExpectMetric[] = ['delivered', 'handled', 'dropped', 'failed', 'lost', 'restarts'];

/** A bound on one metric: an exact number or a range. */
export interface Bound {
  readonly min?: number;
  readonly max?: number;
}

/** A scenario-specific expectation about one module, checked and reported with the invariants. */
export interface Expectation {
  readonly module: string;
  readonly metrics: Readonly<Partial<Record<ExpectMetric, Bound>>>;
  readonly health?: 'healthy' | 'degraded' | 'unhealthy';
  /** True: the module must have been given up (restart intensity exceeded); false: must not. */
  readonly gaveUp?: boolean;
}

/** A checked, normalised scenario. */
export interface Scenario {
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  /** Virtual ms the scenario covers; the shutdown defaults to it. */
  readonly duration: number;
  /** For `--real`: real ms per virtual ms (0.1 runs a 60 s scenario in about 6 s). Default 1. */
  readonly timeScale: number;
  /** `store: true`: the node keeps a store on a simulated disk (see `restart-node`, `replay`). */
  readonly node: { readonly shutdownTimeoutMs?: number; readonly defaultMailboxCapacity?: number; readonly store?: boolean };
  readonly modules: readonly ScenarioModule[];
  readonly traffic: readonly TrafficSpec[];
  readonly faults: readonly FaultSpec[];
  readonly actions: readonly TimedAction[];
  readonly script: readonly ScenarioCommand[];
  readonly shutdown: { readonly at: number; readonly reason: string };
  readonly invariants: readonly InvariantName[];
  readonly expect: readonly Expectation[];
}

/** Names the simulator reserves for itself: its recorder and its bridge to process modules. */
export const RECORDER_NAME = 'sim.recorder';
export const BRIDGE_NAME = 'sim.bridge';

type Json = unknown;

/** Collects issues while reading an untrusted value, each with the path of its field. */
class Reader {
  readonly issues: ValidationIssue[] = [];

  bad(path: string, expected: string, got: Json): undefined {
    this.issues.push(issue(path, expected, describeValue(got)));
    return undefined;
  }

  note(path: string, expected: string, got: string): void {
    this.issues.push(issue(path, expected, got));
  }

  object(value: Json, path: string, allowed: readonly string[]): Record<string, Json> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.bad(path, 'an object', value);
    const record = value as Record<string, Json>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.note(join(path, key), `one of ${allowed.join(', ')}`, 'an unknown field');
    }
    return record;
  }

  array(value: Json, path: string): readonly Json[] | undefined {
    if (!Array.isArray(value)) return this.bad(path, 'an array', value);
    return value as readonly Json[];
  }

  time(value: Json, path: string): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return this.bad(path, 'a non-negative number', value);
    return value;
  }

  positive(value: Json, path: string): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return this.bad(path, 'a positive number', value);
    return value;
  }

  count(value: Json, path: string, min = 1): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      return this.bad(path, min === 0 ? 'a non-negative integer' : `an integer >= ${min}`, value);
    }
    return value;
  }

  string(value: Json, path: string): string | undefined {
    if (typeof value !== 'string' || value.length === 0) return this.bad(path, 'a non-empty string', value);
    return value;
  }

  oneOf<T extends string>(value: Json, path: string, options: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !options.includes(value as T)) return this.bad(path, `one of ${options.join(', ')}`, value);
    return value as T;
  }

  options(value: Json, path: string): ModuleOptions | undefined {
    if (value === undefined) return undefined;
    return this.object(value, path, Object.keys(value as object));
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

const TOP_FIELDS = [
  '$comment',
  'name',
  'description',
  'seed',
  'duration',
  'timeScale',
  'node',
  'modules',
  'traffic',
  'faults',
  'actions',
  'script',
  'shutdown',
  'invariants',
  'expect',
] as const;

const MODULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Checks an untrusted value (parsed JSON) as a scenario and returns it normalised. Every problem is
 * reported, each as an issue naming its field (`faults[2].at: expected a non-negative number, got
 * "x"`), in one `ModactorError` with code `invalid-scenario`.
 *
 * Module names that faults, actions and expectations refer to are checked against the scenario's
 * modules (with their `name`, or their actor's base name); a module whose definition names itself
 * otherwise must be given a `name` to be referred to.
 *
 * @example
 * ```ts
 * const scenario = parseScenario(JSON.parse(text), 'my.json');
 * ```
 */
export function parseScenario(value: unknown, source = 'scenario'): Scenario {
  const r = new Reader();
  const top = r.object(value, '', TOP_FIELDS);
  if (top === undefined) throw invalid(source, r.issues);

  const name = top.name === undefined ? 'unnamed' : r.string(top.name, 'name') ?? 'unnamed';
  const description = top.description === undefined ? undefined : r.string(top.description, 'description');
  const seed = top.seed === undefined ? 1 : r.count(top.seed, 'seed', 0) ?? 1;
  const duration = top.duration === undefined ? (r.note('duration', 'a positive number of virtual ms', 'nothing'), 0) : r.positive(top.duration, 'duration') ?? 0;
  const timeScale = top.timeScale === undefined ? 1 : r.positive(top.timeScale, 'timeScale') ?? 1;

  const node: { shutdownTimeoutMs?: number; defaultMailboxCapacity?: number; store?: boolean } = {};
  if (top.node !== undefined) {
    const n = r.object(top.node, 'node', ['shutdownTimeoutMs', 'defaultMailboxCapacity', 'store']);
    if (n?.store !== undefined) {
      if (typeof n.store === 'boolean') node.store = n.store;
      else r.bad('node.store', 'a boolean', n.store);
    }
    if (n?.shutdownTimeoutMs !== undefined) {
      const v = r.time(n.shutdownTimeoutMs, 'node.shutdownTimeoutMs');
      if (v !== undefined) node.shutdownTimeoutMs = v;
    }
    if (n?.defaultMailboxCapacity !== undefined) {
      const v = r.count(n.defaultMailboxCapacity, 'node.defaultMailboxCapacity');
      if (v !== undefined) node.defaultMailboxCapacity = v;
    }
  }

  let shutdown = { at: duration, reason: 'scenario complete' };
  if (top.shutdown !== undefined) {
    const s = r.object(top.shutdown, 'shutdown', ['at', 'reason']);
    if (s !== undefined) {
      const at = s.at === undefined ? duration : r.time(s.at, 'shutdown.at') ?? duration;
      const reason = s.reason === undefined ? shutdown.reason : r.string(s.reason, 'shutdown.reason') ?? shutdown.reason;
      if (at > duration && duration > 0) r.note('shutdown.at', `a time within the duration (${duration})`, `number ${at}`);
      shutdown = { at, reason };
    }
  }

  const modules: ScenarioModule[] = [];
  const list = (key: string): readonly Json[] => (top[key] === undefined ? [] : r.array(top[key], key) ?? []);
  list('modules').forEach((raw, i) => {
    const path = join('modules', i);
    const m = r.object(raw, path, ['actor', 'name', 'options', 'at', 'replay']);
    if (m === undefined) return;
    const actor = r.string(m.actor, join(path, 'actor'));
    const mName = m.name === undefined ? undefined : moduleName(r, m.name, join(path, 'name'));
    const options = r.options(m.options, join(path, 'options'));
    const at = m.at === undefined ? 0 : r.time(m.at, join(path, 'at'));
    let replay: boolean | undefined;
    if (m.replay !== undefined) {
      if (typeof m.replay !== 'boolean') r.bad(join(path, 'replay'), 'a boolean', m.replay);
      else if (m.replay && node.store !== true) r.note(join(path, 'replay'), 'replay only on a node with a store (node.store: true)', 'true');
      else replay = m.replay;
    }
    if (actor === undefined || at === undefined) return;
    modules.push({ actor, at, ...(mName === undefined ? {} : { name: mName }), ...(options === undefined ? {} : { options }), ...(replay === true ? { replay } : {}) });
  });

  const traffic: TrafficSpec[] = [];
  list('traffic').forEach((raw, i) => {
    const path = join('traffic', i);
    const t = r.object(raw, path, ['kind', 'every', 'rate', 'from', 'until', 'reorgEvery']);
    if (t === undefined) return;
    const kind = r.oneOf(t.kind, join(path, 'kind'), TRAFFIC_KINDS);
    const every = t.every === undefined ? undefined : r.positive(t.every, join(path, 'every'));
    const rate = t.rate === undefined ? undefined : r.positive(t.rate, join(path, 'rate'));
    if (t.every === undefined && t.rate === undefined) r.note(path, 'exactly one of every (ms) or rate (per second)', 'neither');
    if (t.every !== undefined && t.rate !== undefined) r.note(join(path, 'rate'), 'exactly one of every (ms) or rate (per second)', 'both');
    const from = t.from === undefined ? 0 : r.time(t.from, join(path, 'from'));
    const until = t.until === undefined ? undefined : r.time(t.until, join(path, 'until'));
    const reorgEvery = t.reorgEvery === undefined ? undefined : r.count(t.reorgEvery, join(path, 'reorgEvery'), 2);
    if (t.reorgEvery !== undefined && kind !== undefined && kind !== 'blocks') r.note(join(path, 'reorgEvery'), 'no reorgEvery (only blocks traffic has reorgs)', `kind "${kind}"`);
    if (kind === undefined || from === undefined) return;
    traffic.push({
      kind,
      from,
      ...(every === undefined ? {} : { every }),
      ...(rate === undefined ? {} : { rate }),
      ...(until === undefined ? {} : { until }),
      ...(reorgEvery === undefined ? {} : { reorgEvery }),
    });
  });

  const faults: FaultSpec[] = [];
  const faultRefs: { path: string; module: string }[] = [];
  list('faults').forEach((raw, i) => {
    const path = join('faults', i);
    const kindOf = (raw as { kind?: unknown } | null)?.kind;
    const kind = r.oneOf(typeof raw === 'object' && raw !== null ? kindOf : undefined, join(path, 'kind'), ['crash', 'hang', 'slow', 'flood', 'restart-node'] as const);
    if (kind === undefined) return;
    const allowed = {
      crash: ['kind', 'module', 'at', 'count'],
      hang: ['kind', 'module', 'at', 'for'],
      slow: ['kind', 'module', 'at', 'for', 'delayMs'],
      flood: ['kind', 'traffic', 'at', 'count', 'over'],
      'restart-node': ['kind', 'at', 'how'],
    }[kind];
    const f = r.object(raw, path, allowed);
    if (f === undefined) return;
    const at = r.time(f.at, join(path, 'at'));
    if (kind === 'restart-node') {
      const how = readRestart(r, f.how, join(path, 'how'), node.store === true);
      if (at !== undefined && how !== undefined) faults.push({ kind, at, how });
      return;
    }
    if (kind === 'flood') {
      const trafficKind = r.oneOf(f.traffic, join(path, 'traffic'), TRAFFIC_KINDS);
      const count = r.count(f.count, join(path, 'count'));
      const over = f.over === undefined ? 0 : r.time(f.over, join(path, 'over'));
      if (at !== undefined && trafficKind !== undefined && count !== undefined && over !== undefined) {
        faults.push({ kind, traffic: trafficKind, at, count, over });
      }
      return;
    }
    const module = moduleName(r, f.module, join(path, 'module'));
    if (module !== undefined) faultRefs.push({ path: join(path, 'module'), module });
    const forMs = f.for === undefined ? undefined : r.positive(f.for, join(path, 'for'));
    if (module === undefined || at === undefined) return;
    if (kind === 'crash') {
      const count = f.count === undefined ? 1 : r.count(f.count, join(path, 'count'));
      if (count !== undefined) faults.push({ kind, module, at, count });
    } else if (kind === 'hang') {
      faults.push({ kind, module, at, ...(forMs === undefined ? {} : { for: forMs }) });
    } else {
      const delayMs = r.positive(f.delayMs, join(path, 'delayMs'));
      if (delayMs !== undefined) faults.push({ kind, module, at, delayMs, ...(forMs === undefined ? {} : { for: forMs }) });
    }
  });

  const actions: TimedAction[] = [];
  list('actions').forEach((raw, i) => {
    const path = join('actions', i);
    const command = readCommand(r, raw, path, ['at'], faultRefs, node.store === true);
    if (command === undefined) return;
    if (command.do === 'advance') {
      r.note(join(path, 'do'), 'an action other than advance (advance belongs in the script; an action has its own "at")', '"advance"');
      return;
    }
    const at = r.time((raw as { at?: unknown }).at, join(path, 'at'));
    if (at !== undefined) actions.push({ ...command, at });
  });

  const script: ScenarioCommand[] = [];
  let scriptTime = 0;
  list('script').forEach((raw, i) => {
    const command = readCommand(r, raw, join('script', i), [], faultRefs, node.store === true);
    if (command === undefined) return;
    if (command.do === 'advance') scriptTime += command.ms;
    script.push(command);
  });
  if (script.length > 0 && scriptTime > shutdown.at) {
    r.note('script', `the script's advances to end by the shutdown at ${shutdown.at} ms`, `${scriptTime} ms`);
  }

  let invariants: InvariantName[] = node.store === true ? [...ALL_INVARIANT_NAMES] : [...INVARIANT_NAMES];
  if (top.invariants !== undefined) {
    const raw = r.array(top.invariants, 'invariants');
    if (raw !== undefined) {
      invariants = [];
      raw.forEach((v, i) => {
        const inv = r.oneOf(v, join('invariants', i), ALL_INVARIANT_NAMES);
        if (inv !== undefined && !invariants.includes(inv)) invariants.push(inv);
      });
    }
  }

  const expect: Expectation[] = [];
  list('expect').forEach((raw, i) => {
    const path = join('expect', i);
    const e = r.object(raw, path, ['module', 'health', 'gaveUp', ...EXPECT_METRICS]);
    if (e === undefined) return;
    const module = moduleName(r, e.module, join(path, 'module'));
    if (module !== undefined) faultRefs.push({ path: join(path, 'module'), module });
    const metrics: Partial<Record<ExpectMetric, Bound>> = {};
    for (const metric of EXPECT_METRICS) {
      if (e[metric] === undefined) continue;
      const bound = readBound(r, e[metric], join(path, metric));
      if (bound !== undefined) metrics[metric] = bound;
    }
    const health = e.health === undefined ? undefined : r.oneOf(e.health, join(path, 'health'), ['healthy', 'degraded', 'unhealthy'] as const);
    let gaveUp: boolean | undefined;
    if (e.gaveUp !== undefined) {
      if (typeof e.gaveUp === 'boolean') gaveUp = e.gaveUp;
      else r.bad(join(path, 'gaveUp'), 'a boolean', e.gaveUp);
    }
    if (module === undefined) return;
    expect.push({ module, metrics, ...(health === undefined ? {} : { health }), ...(gaveUp === undefined ? {} : { gaveUp }) });
  });

  // Every module a fault, action or expectation names must be one the scenario loads.
  const known = new Set<string>();
  modules.forEach((m, i) => {
    const n = nameOf(m);
    if (m.name === undefined && m.actor.includes('#')) {
      r.note(join(join('modules', i), 'name'), `a name for an actor given as file#export ("${m.actor}")`, 'nothing');
    }
    if (n === RECORDER_NAME || n === BRIDGE_NAME) r.note(join(join('modules', i), 'name'), 'a name not reserved for the simulator', `"${n}"`);
    if (known.has(n)) r.note(join(join('modules', i), 'name'), 'a module name not used twice', `"${n}" again (give it a name)`);
    known.add(n);
  });
  for (const command of [...actions, ...script]) {
    if (command.do === 'load' || command.do === 'hotload') known.add(command.module);
  }
  for (const ref of faultRefs) {
    if (!known.has(ref.module)) {
      r.note(ref.path, `one of the scenario's modules (${[...known].join(', ') || 'none'})`, `"${ref.module}"`);
    }
  }

  if (r.issues.length > 0) throw invalid(source, r.issues);
  return {
    name,
    ...(description === undefined ? {} : { description }),
    seed,
    duration,
    timeScale,
    node,
    modules,
    traffic,
    faults,
    actions: [...actions].sort((a, b) => a.at - b.at),
    script,
    shutdown,
    invariants,
    expect,
  };
}

/** The name a scenario module has in the node: its `name`, or its actor's base name. */
export function nameOf(module: ScenarioModule): string {
  return module.name ?? baseName(module.actor);
}

/** The base name of an actor path: `./x/peer-monitor.ts` → `peer-monitor`. */
export function baseName(actor: string): string {
  const last = actor.replace(/#.*$/, '').split(/[\\/]/).pop() ?? actor;
  return last.replace(/\.(m?[jt]s)$/, '');
}

function moduleName(r: Reader, value: Json, path: string): string | undefined {
  if (typeof value !== 'string' || !MODULE_NAME.test(value)) {
    return r.bad(path, 'a module name of letters, digits, ".", "_" or "-"', value);
  }
  return value;
}

function readBound(r: Reader, value: Json, path: string): Bound | undefined {
  if (typeof value === 'number') {
    const n = r.count(value, path, 0);
    return n === undefined ? undefined : { min: n, max: n };
  }
  const b = r.object(value, path, ['min', 'max']);
  if (b === undefined) return undefined;
  const min = b.min === undefined ? undefined : r.count(b.min, join(path, 'min'), 0);
  const max = b.max === undefined ? undefined : r.count(b.max, join(path, 'max'), 0);
  if (b.min === undefined && b.max === undefined) r.note(path, 'a number or { min?, max? } with at least one bound', 'an object with neither');
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

const COMMAND_FIELDS: Record<CommandKind, readonly string[]> = {
  load: ['do', 'module', 'actor', 'options'],
  hotload: ['do', 'module', 'actor', 'options'],
  subscribe: ['do', 'module', 'types'],
  publish: ['do', 'event', 'traffic', 'count'],
  slow: ['do', 'module', 'delayMs', 'forMs'],
  release: ['do', 'module'],
  crash: ['do', 'module', 'on'],
  restart: ['do', 'module'],
  reload: ['do', 'module', 'options'],
  unload: ['do', 'module'],
  advance: ['do', 'ms'],
  'restart-node': ['do', 'how'],
  flush: ['do'],
};

/** How a node restarts (default `crash`); only on a node with a store. */
function readRestart(r: Reader, value: Json, path: string, store: boolean): NodeRestartHow | undefined {
  if (!store) {
    r.note(path.replace(/\.how$/, ''), 'a node restart only on a node with a store (node.store: true)', 'a node without one');
    return undefined;
  }
  return value === undefined ? 'crash' : r.oneOf(value, path, NODE_RESTART_HOWS);
}

function readCommand(
  r: Reader,
  raw: Json,
  path: string,
  extra: readonly string[],
  refs: { path: string; module: string }[],
  store: boolean,
): ScenarioCommand | undefined {
  const kind = r.oneOf(typeof raw === 'object' && raw !== null ? (raw as { do?: unknown }).do : undefined, join(path, 'do'), COMMAND_KINDS);
  if (kind === undefined) return undefined;
  const c = r.object(raw, path, [...COMMAND_FIELDS[kind], ...extra]);
  if (c === undefined) return undefined;
  const module = (): string | undefined => {
    const m = moduleName(r, c.module, join(path, 'module'));
    if (m !== undefined && kind !== 'load' && kind !== 'hotload') refs.push({ path: join(path, 'module'), module: m });
    return m;
  };
  switch (kind) {
    case 'load':
    case 'hotload': {
      const m = module();
      const actor = c.actor === undefined ? 'probe' : r.string(c.actor, join(path, 'actor'));
      const options = r.options(c.options, join(path, 'options'));
      if (m === undefined || actor === undefined) return undefined;
      return { do: kind, module: m, actor, ...(options === undefined ? {} : { options }) };
    }
    case 'subscribe': {
      const m = module();
      const types = r.array(c.types, join(path, 'types'));
      const checked: string[] = [];
      types?.forEach((t, i) => {
        if (typeof t === 'string' && nodeCatalogue.has(t)) checked.push(t);
        else r.bad(join(join(path, 'types'), i), 'an event type of the node catalogue', t);
      });
      if (m === undefined || types === undefined) return undefined;
      return { do: kind, module: m, types: checked };
    }
    case 'publish': {
      const count = c.count === undefined ? 1 : r.count(c.count, join(path, 'count'));
      if (c.traffic !== undefined || c.event === undefined) {
        if (c.event !== undefined) r.note(join(path, 'traffic'), 'one of event or traffic', 'both');
        const traffic = r.oneOf(c.traffic, join(path, 'traffic'), TRAFFIC_KINDS);
        if (traffic === undefined || count === undefined) return undefined;
        return { do: kind, traffic, count };
      }
      const result = nodeCatalogue.check(c.event);
      if (result instanceof ModactorError) {
        for (const found of result.issues) r.issues.push(nestIssue(join(path, 'event'), found));
        return undefined;
      }
      if (count === undefined) return undefined;
      return { do: kind, event: result, count };
    }
    case 'slow': {
      const m = module();
      const delayMs = c.delayMs === undefined ? undefined : r.positive(c.delayMs, join(path, 'delayMs'));
      const forMs = c.forMs === undefined ? undefined : r.positive(c.forMs, join(path, 'forMs'));
      if (c.delayMs === undefined && c.forMs !== undefined) r.note(join(path, 'forMs'), 'no forMs (a hold, slow without delayMs, lasts until a release)', describeValue(c.forMs));
      if (m === undefined || (c.delayMs !== undefined && delayMs === undefined)) return undefined;
      return { do: kind, module: m, ...(delayMs === undefined ? {} : { delayMs }), ...(forMs === undefined ? {} : { forMs }) };
    }
    case 'crash': {
      const m = module();
      let on: string | undefined;
      if (c.on !== undefined) {
        if (typeof c.on === 'string' && nodeCatalogue.has(c.on)) on = c.on;
        else r.bad(join(path, 'on'), 'an event type of the node catalogue', c.on);
      }
      if (m === undefined) return undefined;
      return { do: kind, module: m, ...(on === undefined ? {} : { on }) };
    }
    case 'release':
    case 'restart':
    case 'unload': {
      const m = module();
      return m === undefined ? undefined : { do: kind, module: m };
    }
    case 'reload': {
      const m = module();
      const options = r.options(c.options, join(path, 'options'));
      if (m === undefined) return undefined;
      return { do: kind, module: m, ...(options === undefined ? {} : { options }) };
    }
    case 'advance': {
      const ms = r.time(c.ms, join(path, 'ms'));
      return ms === undefined ? undefined : { do: kind, ms };
    }
    case 'restart-node': {
      const how = readRestart(r, c.how, join(path, 'how'), store);
      return how === undefined ? undefined : { do: kind, how };
    }
    case 'flush':
      if (!store) {
        r.note(path, 'a flush only on a node with a store (node.store: true)', 'a node without one');
        return undefined;
      }
      return { do: kind };
  }
}

/** The error for a scenario with issues: the first few named in the message, all in `issues`. */
function invalid(source: string, issues: readonly ValidationIssue[]): ModactorError {
  const shown = issues.slice(0, 5).map((i) => `  ${i.path === '' ? '(top level)' : i.path}: ${i.message}`);
  const more = issues.length > 5 ? [`  ... and ${issues.length - 5} more`] : [];
  return new ModactorError('invalid-scenario', `Invalid scenario ${source}:\n${[...shown, ...more].join('\n')}`, { issues });
}

/** Parses scenario text (JSON); a syntax error is an `invalid-scenario` error too. */
export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = errorMessage(error);
    throw new ModactorError('invalid-scenario', `Invalid scenario ${source}: not JSON: ${message}`, {
      issues: [issue('', 'JSON', `a syntax error: ${message}`)],
    });
  }
  return parseScenario(value, source);
}
