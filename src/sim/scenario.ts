import { ModactorError, type ValidationIssue } from '../kernel/errors.js';
import {
  arrayOf,
  boolean,
  describeReceived,
  fieldPath,
  isPlainObject,
  issue,
  jsonValue,
  nestIssue,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  positiveInteger,
  positiveNumber,
  predicate,
  recordOf,
  refine,
  runCheck,
  type Check,
  type DescribedCheck,
  type Infer,
  type Refinement,
  type Shape,
} from '../kernel/checks.js';
import { nodeCatalogue, type NodeEvent } from '../events/node-catalogue.js';
import { moduleName } from '../node/module-name.js';
import { errorMessage } from './error-message.js';

/**
 * The scenario format of `modactor simulate` (documented in docs/simulate.md). A scenario is JSON;
 * {@link parseScenario} checks it and returns it normalised (defaults filled in), or throws a
 * `ModactorError` with code `invalid-scenario` whose issues name each bad field.
 */

/** Traffic a generator produces. */
export type TrafficKind = 'blocks' | 'transactions' | 'peers' | 'governance' | 'maintenance';
export const TRAFFIC_KINDS = ['blocks', 'transactions', 'peers', 'governance', 'maintenance'] as const satisfies readonly TrafficKind[];

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
export const INVARIANT_NAMES = [
  'fifo',
  'module-loaded-once',
  'unloaded-after-loaded',
  'accounting',
  'mailbox-bound',
  'nothing-after-termination',
  'restart-policy',
  'graceful-shutdown',
] as const satisfies readonly InvariantName[];
/** The invariant of a node with a store (`node.store`), checked by default when there is one. */
export const STORE_INVARIANT = 'durable-delivery' satisfies InvariantName;
const ALL_INVARIANT_NAMES = [...INVARIANT_NAMES, STORE_INVARIANT] as const satisfies readonly InvariantName[];

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
export const NODE_RESTART_HOWS = ['graceful', 'crash', 'power-loss'] as const satisfies readonly NodeRestartHow[];

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
export const COMMAND_KINDS = [
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
] as const satisfies readonly CommandKind[];

/** A command at an absolute virtual time. */
export type TimedAction = Exclude<ScenarioCommand, { readonly do: 'advance' }> & { readonly at: number };

/** Metrics an expectation can bound. */
export type ExpectMetric = 'delivered' | 'handled' | 'dropped' | 'failed' | 'lost' | 'restarts';
export const EXPECT_METRICS = ['delivered', 'handled', 'dropped', 'failed', 'lost', 'restarts'] as const satisfies readonly ExpectMetric[];

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

// ---- the scenario's checks (the validation vocabulary) -----------------------------------------

/** A time or a duration in virtual ms, from 0. */
const time = nonNegativeNumber;

/** One of the node catalogue's event types. */
const eventType = predicate<string>('an event type of the node catalogue', (v) => typeof v === 'string' && nodeCatalogue.has(v));

/** An event of the node catalogue, parsed by it (its issues at their paths inside the event). */
const nodeEvent: DescribedCheck<NodeEvent> = Object.assign(
  (value: unknown, path: string, issues: ValidationIssue[]): NodeEvent => {
    const result = nodeCatalogue.check(value);
    if (!(result instanceof ModactorError)) return result;
    for (const found of result.issues) issues.push(nestIssue(path, found));
    if (result.issues.length === 0) issues.push(issue(path, 'an event of the node catalogue', result.message));
    return undefined as never;
  },
  { expected: 'an event of the node catalogue { type, payload }' },
);

/** Options for an actor's factory: any JSON object here; the actor's own options schema checks them when the plan loads it. */
const moduleOptions = recordOf(jsonValue);

const trafficKind = oneOf(...TRAFFIC_KINDS);

/**
 * One of several checks chosen by a string field of the value, its tag (a fault's `kind`, a
 * command's `do`): the variant named by the tag checks the whole value, the tag included (each
 * variant's shape admits its own tag alone), so what it returns is what that variant read; a tag
 * read differently the second time (a getter) fails the variant's own tag check. A tag that names
 * no variant is an issue at the tag's path, and nothing else is checked. Never throws.
 */
function tagged<const V extends Readonly<Record<string, Check<unknown>>>>(tag: string, variants: V): DescribedCheck<Infer<V[keyof V]>> {
  const names = Object.keys(variants) as [string, ...string[]];
  const tags = oneOf(...names);
  const expected = `an object whose ${tag} is ${tags.expected}`;
  const check = (value: unknown, path: string, issues: ValidationIssue[]): Infer<V[keyof V]> => {
    if (!isPlainObject(value)) {
      issues.push(issue(path, expected, describeReceived(value)));
      return undefined as never;
    }
    let name: unknown;
    try {
      name = Object.hasOwn(value, tag) ? (value as Record<string, unknown>)[tag] : undefined;
    } catch {
      name = undefined;
    }
    const variant = typeof name === 'string' && Object.hasOwn(variants, name) ? variants[name] : undefined;
    if (variant === undefined) {
      issues.push(issue(fieldPath(path, tag), tags.expected, name === undefined ? 'nothing' : describeReceived(name)));
      return undefined as never;
    }
    return variant(value, path, issues) as Infer<V[keyof V]>;
  };
  return Object.assign(check, { expected });
}

/** A scenario module: an actor, loaded at `at`. */
const scenarioModule = object({ actor: nonEmptyString, name: optional(moduleName), options: optional(moduleOptions), at: optional(time), replay: optional(boolean) });

/** How a node restarts (default `crash`). */
const restartHow = oneOf(...NODE_RESTART_HOWS);

const EVERY_OR_RATE = 'exactly one of every (ms) or rate (per second)';

/** A traffic generator: exactly one of `every` and `rate`; reorgs for blocks only. */
const trafficSpec = refine(
  object({
    kind: trafficKind,
    every: optional(positiveNumber),
    rate: optional(positiveNumber),
    from: optional(time),
    until: optional(time),
    reorgEvery: optional(predicate<number>('a safe integer >= 2', (v) => Number.isSafeInteger(v) && (v as number) >= 2)),
  }),
  (t): Refinement[] | undefined => {
    const found: Refinement[] = [];
    if (t.every === undefined && t.rate === undefined) found.push({ field: 'every', expected: `every or rate (${EVERY_OR_RATE})`, got: undefined });
    if (t.every !== undefined && t.rate !== undefined) found.push({ field: 'rate', expected: `no rate besides every (${EVERY_OR_RATE})`, got: t.rate });
    if (t.reorgEvery !== undefined && t.kind !== 'blocks') {
      found.push({ field: 'reorgEvery', expected: `no reorgEvery for ${t.kind} traffic (only blocks traffic has reorgs)`, got: t.reorgEvery });
    }
    return found.length === 0 ? undefined : found;
  },
);

/** A fault, by its kind. */
const faultSpec = tagged('kind', {
  crash: object({ kind: oneOf('crash'), module: moduleName, at: time, count: optional(positiveInteger) }),
  hang: object({ kind: oneOf('hang'), module: moduleName, at: time, for: optional(positiveNumber) }),
  slow: object({ kind: oneOf('slow'), module: moduleName, at: time, for: optional(positiveNumber), delayMs: positiveNumber }),
  flood: object({ kind: oneOf('flood'), traffic: trafficKind, at: time, count: positiveInteger, over: optional(time) }),
  'restart-node': object({ kind: oneOf('restart-node'), at: time, how: optional(restartHow) }),
});

/**
 * The commands, by `do`, each with the fields of `extra` too (a timed action's `at`). Written as
 * the {@link ScenarioCommand} they become, but for the defaults (`actor`, a publish's `count`).
 */
function commandVariants<const X extends Shape>(extra: X) {
  return tagged('do', {
    load: object({ do: oneOf('load'), module: moduleName, actor: optional(nonEmptyString), options: optional(moduleOptions), ...extra }),
    hotload: object({ do: oneOf('hotload'), module: moduleName, actor: optional(nonEmptyString), options: optional(moduleOptions), ...extra }),
    subscribe: object({ do: oneOf('subscribe'), module: moduleName, types: arrayOf(eventType), ...extra }),
    publish: object({ do: oneOf('publish'), event: optional(nodeEvent), traffic: optional(trafficKind), count: optional(positiveInteger), ...extra }),
    slow: object({ do: oneOf('slow'), module: moduleName, delayMs: optional(positiveNumber), forMs: optional(positiveNumber), ...extra }),
    release: object({ do: oneOf('release'), module: moduleName, ...extra }),
    crash: object({ do: oneOf('crash'), module: moduleName, on: optional(eventType), ...extra }),
    restart: object({ do: oneOf('restart'), module: moduleName, ...extra }),
    reload: object({ do: oneOf('reload'), module: moduleName, options: optional(moduleOptions), ...extra }),
    unload: object({ do: oneOf('unload'), module: moduleName, ...extra }),
    advance: object({ do: oneOf('advance'), ms: time, ...extra }),
    'restart-node': object({ do: oneOf('restart-node'), how: optional(restartHow), ...extra }),
    flush: object({ do: oneOf('flush'), ...extra }),
  } satisfies Record<CommandKind, Check<unknown>>);
}

const scriptCommands = commandVariants({});
type RawCommand = Infer<typeof scriptCommands>;

/** The rules across a command's fields: a publish of an event or of traffic; no duration for a hold. */
function commandRule(c: RawCommand): Refinement | undefined {
  if (c.do === 'publish') {
    if (c.event !== undefined && c.traffic !== undefined) return { field: 'traffic', expected: 'no traffic besides an event (one of event or traffic)', got: c.traffic };
    if (c.event === undefined && c.traffic === undefined) return { field: 'traffic', expected: `an event, or a traffic kind (${trafficKind.expected})`, got: undefined };
  }
  if (c.do === 'slow' && c.delayMs === undefined && c.forMs !== undefined) {
    return { field: 'forMs', expected: 'no forMs (a hold, slow without delayMs, lasts until a release)', got: c.forMs };
  }
  return undefined;
}

const scriptStep = refine(scriptCommands, commandRule);
const timedAction = refine(commandVariants({ at: time }), commandRule);

/** A bound on a metric: an exact count, or `{ min?, max? }` with at least one. */
const boundRange = refine(object({ min: optional(nonNegativeInteger), max: optional(nonNegativeInteger) }), (b): Refinement | undefined =>
  b.min === undefined && b.max === undefined ? { field: 'min', expected: 'min or max (at least one of them)', got: undefined } : undefined,
);
const bound: DescribedCheck<Bound> = Object.assign(
  (value: unknown, path: string, issues: ValidationIssue[]): Bound => {
    if (typeof value !== 'number') return boundRange(value, path, issues);
    const n = nonNegativeInteger(value, path, issues);
    return Object.freeze({ min: n, max: n });
  },
  { expected: `${nonNegativeInteger.expected}, or ${boundRange.expected} with at least one` },
);

const expectation = object({
  module: moduleName,
  health: optional(oneOf('healthy', 'degraded', 'unhealthy')),
  gaveUp: optional(boolean),
  delivered: optional(bound),
  handled: optional(bound),
  dropped: optional(bound),
  failed: optional(bound),
  lost: optional(bound),
  restarts: optional(bound),
} satisfies Shape & Record<ExpectMetric, Check<unknown>>);

/** A whole scenario file, field by field (the rules across fields come after it, in {@link parseScenario}). */
const scenarioFile = object({
  $comment: optional(jsonValue),
  name: optional(nonEmptyString),
  description: optional(nonEmptyString),
  seed: optional(nonNegativeInteger),
  duration: positiveNumber,
  timeScale: optional(positiveNumber),
  node: optional(object({ shutdownTimeoutMs: optional(time), defaultMailboxCapacity: optional(positiveInteger), store: optional(boolean) })),
  modules: optional(arrayOf(scenarioModule)),
  traffic: optional(arrayOf(trafficSpec)),
  faults: optional(arrayOf(faultSpec)),
  actions: optional(arrayOf(timedAction)),
  script: optional(arrayOf(scriptStep)),
  shutdown: optional(object({ at: optional(time), reason: optional(nonEmptyString) })),
  invariants: optional(arrayOf(oneOf(...ALL_INVARIANT_NAMES), { unique: true })),
  expect: optional(arrayOf(expectation)),
});

/** A parsed command as the simulator takes it: the defaults filled in, a timed action's `at` left out. */
function commandOf(c: RawCommand): ScenarioCommand {
  switch (c.do) {
    case 'load':
    case 'hotload':
      return { do: c.do, module: c.module, actor: c.actor ?? 'probe', ...(c.options === undefined ? {} : { options: c.options }) };
    case 'publish':
      return c.event !== undefined ? { do: c.do, event: c.event, count: c.count ?? 1 } : { do: c.do, traffic: c.traffic as TrafficKind, count: c.count ?? 1 };
    case 'restart-node':
      return { do: c.do, how: c.how ?? 'crash' };
    default:
      return c;
  }
}

function faultOf(f: Infer<typeof faultSpec>): FaultSpec {
  switch (f.kind) {
    case 'crash':
      return { kind: f.kind, module: f.module, at: f.at, count: f.count ?? 1 };
    case 'hang':
      return { kind: f.kind, module: f.module, at: f.at, ...(f.for === undefined ? {} : { for: f.for }) };
    case 'slow':
      return { kind: f.kind, module: f.module, at: f.at, delayMs: f.delayMs, ...(f.for === undefined ? {} : { for: f.for }) };
    case 'flood':
      return { kind: f.kind, traffic: f.traffic, at: f.at, count: f.count, over: f.over ?? 0 };
    case 'restart-node':
      return { kind: f.kind, at: f.at, how: f.how ?? 'crash' };
  }
}

/**
 * Checks an untrusted value (parsed JSON) as a scenario and returns it normalised. Every problem is
 * reported, each as an issue naming its field (`faults[2].at: expected a finite number >= 0, got
 * string "x"`), in one `ModactorError` with code `invalid-scenario`: first each field on its own,
 * then, when those hold, the rules across fields (names, references, times).
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
  const issues: ValidationIssue[] = [];
  const file = runCheck(scenarioFile, value, '', issues);
  if (issues.length > 0) throw invalid(source, issues);

  const duration = file.duration;
  const shutdown = { at: file.shutdown?.at ?? duration, reason: file.shutdown?.reason ?? 'scenario complete' };
  if (shutdown.at > duration) issues.push(issue('shutdown.at', `a time within the duration (${duration})`, describeReceived(shutdown.at)));

  const modules: ScenarioModule[] = (file.modules ?? []).map((m) => ({
    actor: m.actor,
    at: m.at ?? 0,
    ...(m.name === undefined ? {} : { name: m.name }),
    ...(m.options === undefined ? {} : { options: m.options }),
    ...(m.replay === true ? { replay: true } : {}),
  }));
  const traffic: TrafficSpec[] = (file.traffic ?? []).map((t) => ({
    kind: t.kind,
    from: t.from ?? 0,
    ...(t.every === undefined ? {} : { every: t.every }),
    ...(t.rate === undefined ? {} : { rate: t.rate }),
    ...(t.until === undefined ? {} : { until: t.until }),
    ...(t.reorgEvery === undefined ? {} : { reorgEvery: t.reorgEvery }),
  }));
  const faults = (file.faults ?? []).map(faultOf);
  const actions: TimedAction[] = [];
  (file.actions ?? []).forEach((a, i) => {
    if (a.do === 'advance') {
      issues.push(issue(`actions[${i}].do`, 'an action other than advance (advance belongs in the script; an action has its own "at")', describeReceived(a.do)));
    } else {
      actions.push({ ...(commandOf(a) as Exclude<ScenarioCommand, { readonly do: 'advance' }>), at: a.at });
    }
  });
  const script = (file.script ?? []).map(commandOf);
  const scriptTime = script.reduce((sum, c) => sum + (c.do === 'advance' ? c.ms : 0), 0);
  if (script.length > 0 && scriptTime > shutdown.at) {
    issues.push(issue('script', `the script's advances to end by the shutdown at ${shutdown.at} ms`, `${scriptTime} ms`));
  }
  const expect: Expectation[] = (file.expect ?? []).map((e) => {
    const metrics: Partial<Record<ExpectMetric, Bound>> = {};
    for (const metric of EXPECT_METRICS) {
      const b = e[metric];
      if (b !== undefined) metrics[metric] = b;
    }
    return { module: e.module, metrics, ...(e.health === undefined ? {} : { health: e.health }), ...(e.gaveUp === undefined ? {} : { gaveUp: e.gaveUp }) };
  });

  // Names: each module's own, not reserved, not used twice.
  const known = new Set<string>();
  modules.forEach((m, i) => {
    const n = nameOf(m);
    const path = `modules[${i}].name`;
    if (m.name === undefined && m.actor.includes('#')) issues.push(issue(path, `a name for an actor given as file#export ("${m.actor}")`, 'nothing'));
    if (n === RECORDER_NAME || n === BRIDGE_NAME) issues.push(issue(path, 'a name not reserved for the simulator', describeReceived(n)));
    if (known.has(n)) issues.push(issue(path, 'a module name not used twice', `${describeReceived(n)} again (give it a name)`));
    known.add(n);
  });
  // Every module a fault, command or expectation names must be one the scenario loads.
  const steps = [...(file.actions ?? []).map((c, i) => ({ c, path: `actions[${i}]` })), ...(file.script ?? []).map((c, i) => ({ c, path: `script[${i}]` }))];
  for (const { c } of steps) if (c.do === 'load' || c.do === 'hotload') known.add(c.module);
  const refs = [
    ...faults.flatMap((f, i) => (f.kind === 'flood' || f.kind === 'restart-node' ? [] : [{ path: `faults[${i}].module`, module: f.module }])),
    ...steps.flatMap(({ c, path }) => ('module' in c && c.do !== 'load' && c.do !== 'hotload' ? [{ path: `${path}.module`, module: c.module }] : [])),
    ...expect.map((e, i) => ({ path: `expect[${i}].module`, module: e.module })),
  ];
  for (const ref of refs) {
    if (!known.has(ref.module)) issues.push(issue(ref.path, `one of the scenario's modules (${[...known].join(', ') || 'none'})`, describeReceived(ref.module)));
  }

  // A node restart, a flush and a replay need the node's store.
  const store = file.node?.store === true;
  if (!store) {
    const withoutStore = 'a node without one';
    (file.modules ?? []).forEach((m, i) => {
      if (m.replay === true) issues.push(issue(`modules[${i}].replay`, 'replay only on a node with a store (node.store: true)', 'true'));
    });
    faults.forEach((f, i) => {
      if (f.kind === 'restart-node') issues.push(issue(`faults[${i}]`, 'a node restart only on a node with a store (node.store: true)', withoutStore));
    });
    for (const { c, path } of steps) {
      if (c.do === 'restart-node') issues.push(issue(path, 'a node restart only on a node with a store (node.store: true)', withoutStore));
      if (c.do === 'flush') issues.push(issue(path, 'a flush only on a node with a store (node.store: true)', withoutStore));
    }
  }

  if (issues.length > 0) throw invalid(source, issues);
  return {
    name: file.name ?? 'unnamed',
    ...(file.description === undefined ? {} : { description: file.description }),
    seed: file.seed ?? 1,
    duration,
    timeScale: file.timeScale ?? 1,
    node: file.node ?? {},
    modules,
    traffic,
    faults,
    actions: [...actions].sort((a, b) => a.at - b.at),
    script,
    shutdown,
    invariants: file.invariants ?? (store ? ALL_INVARIANT_NAMES : INVARIANT_NAMES),
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
