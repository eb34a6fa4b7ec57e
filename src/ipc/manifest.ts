import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModactorError, describeValue, type ValidationIssue } from '../kernel/errors.js';
import { issue, runCheck } from '../kernel/checks.js';
import type { RestartType } from '../kernel/supervision.js';
import type { Catalogue, EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { NodeEventMap } from '../events/node-catalogue.js';
import { replayOption, type ModuleRestartPolicy, type ReplayOption } from '../node/module.js';
import { compileEventFilter, type EventFilterSpec } from './event-filter.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './protocol.js';

/** Where a module's code runs: its own child process (default), or a worker thread (trusted code). */
export type ModuleIsolation = 'process' | 'worker';

/** Heartbeat settings: the child sends one every `intervalMs`; `missed` silent intervals = hung. */
export interface HeartbeatOptions {
  /** Default 1000 ms. */
  readonly intervalMs?: number;
  /** Default 3. */
  readonly missed?: number;
}

/** A token bucket: `perSecond` publishes on average, bursts of up to `burst`. */
export interface PublishRateLimit {
  readonly perSecond: number;
  /** Default `perSecond`. */
  readonly burst?: number;
}

/**
 * What a node needs to know to run a module out of process: identity, entry file, what it may
 * receive and publish, and its limits. Checked by {@link validateManifest}.
 */
export interface ProcessModuleManifest<E extends EventMap = NodeEventMap> {
  /** Unique within a node: the module's id in stats and subscriber lists. */
  readonly name: string;
  readonly version: string;
  /**
   * The child's entry file, which calls `runModule(...)`: a `file:` URL (best:
   * `new URL('./my-module.ts', import.meta.url)`) or a path (relative ones resolve against the
   * working directory). `.ts` entries run under tsx.
   */
  readonly entry: string | URL;
  /** Default `process`. */
  readonly isolation?: ModuleIsolation;
  /** Event types the module receives (and the only ones it may subscribe to later). */
  readonly subscribe: readonly EventTypeOf<E>[];
  /**
   * Event types the module may publish. Default none. Listing a type only the node publishes (the
   * module lifecycle family, `NodeStartupCompleted`, `NodeShutdown`, `NodeShutdownCompleted`)
   * grants nothing: publishing it is refused with `not-permitted`.
   */
  readonly publishes?: readonly EventTypeOf<E>[];
  /**
   * Conditions on payload fields, per event type, checked by the node before an event is offered
   * to the module; declined events are counted `filtered`. See {@link EventFilterSpec}.
   */
  readonly filter?: EventFilterSpec<E>;
  /**
   * The bound of events the module holds: queued in the node, in flight and in the child,
   * together (plus the one in hand). Default 100.
   */
  readonly mailboxCapacity?: number;
  /**
   * Events at most un-acknowledged in the child (the credit window). Default `mailboxCapacity`,
   * and it cannot hold more than that: events in the child count against the module's bound.
   * Set it lower to lose less in a crash or to get a critical event to a backlogged child sooner.
   */
  readonly credits?: number;
  /**
   * Bytes of events at most in flight to the child (sent, not yet acknowledged). Default 8 MiB; at
   * least 64 KiB. The node stops sending when it is used, as when credits run out.
   */
  readonly maxInFlightBytes?: number;
  readonly restart?: ModuleRestartPolicy;
  readonly heartbeat?: HeartbeatOptions;
  /** Default 100 per second, bursts of 100. */
  readonly publishRateLimit?: PublishRateLimit;
  /** Largest message the child may send, in bytes. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Time from spawn to the child's `ready`. Default 10 000 ms. */
  readonly startupTimeoutMs?: number;
  /** Time the child gets to stop before it is killed. Default 5000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Extra command-line arguments of the child (process.argv after the entry). */
  readonly args?: readonly string[];
  /** Extra environment variables of the child (process isolation; added to the host's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags of the child (process isolation). */
  readonly execArgv?: readonly string[];
  /**
   * On a node with a store: keep the module's position and replay what it missed after a crash or
   * a node restart (as `defineModule`'s `replay`); a node without a store refuses it.
   */
  readonly replay?: ReplayOption;
}

/** A manifest with every default filled in. */
export interface NormalizedManifest {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the entry file. */
  readonly entryPath: string;
  /** True for `.ts`/`.mts`/`.cts` entries (run under tsx). */
  readonly typescript: boolean;
  readonly isolation: ModuleIsolation;
  readonly subscribe: readonly string[];
  readonly publishes: readonly string[];
  /** The compiled `filter`: false declines an event (counted `filtered`). */
  readonly filter: ((event: EventOf<EventMap>) => boolean) | undefined;
  readonly mailboxCapacity: number;
  readonly credits: number;
  readonly maxInFlightBytes: number;
  readonly restart: ModuleRestartPolicy;
  readonly heartbeatMs: number;
  readonly heartbeatMissed: number;
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  readonly maxMessageBytes: number;
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly execArgv: readonly string[];
  /** `replay`, when given. */
  readonly replay?: ReplayOption;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELDS = new Set([
  'name',
  'version',
  'entry',
  'isolation',
  'subscribe',
  'publishes',
  'filter',
  'mailboxCapacity',
  'credits',
  'maxInFlightBytes',
  'restart',
  'heartbeat',
  'publishRateLimit',
  'maxMessageBytes',
  'startupTimeoutMs',
  'shutdownTimeoutMs',
  'args',
  'env',
  'execArgv',
  'replay',
]);
const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];
const TS = /\.[mc]?ts$/;

/** The default of `maxInFlightBytes`: 8 MiB. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;
/** The least `maxInFlightBytes` accepted: 64 KiB. */
export const MIN_IN_FLIGHT_BYTES = 64 * 1024;
/** The most `credits` accepted. */
export const MAX_CREDITS = 10_000;

/** Defaults of the optional manifest fields (credits default to the mailbox capacity). */
const DEFAULTS = {
  mailboxCapacity: 100,
  heartbeatMs: 1000,
  heartbeatMissed: 3,
  ratePerSecond: 100,
  startupTimeoutMs: 10_000,
  shutdownTimeoutMs: 5000,
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof URL);
}

/**
 * Validates a manifest against a catalogue and fills in the defaults. Throws a
 * {@link ModactorError} with code `invalid-manifest` whose `issues` name every bad field by path
 * (`restart.maxRestarts`, `subscribe[1]`, ...).
 *
 * @example
 * ```ts
 * validateManifest({ name: 'x', version: '1', entry: 'x.ts', subscribe: [], restart: { maxRestarts: -1 } }, nodeCatalogue);
 * // throws ModactorError 'invalid-manifest':
 * //   Invalid manifest of module "x": restart.maxRestarts: expected an integer >= 0, got number -1
 * ```
 */
export function validateManifest<E extends EventMap>(manifest: ProcessModuleManifest<E>, catalogue: Catalogue<E>): NormalizedManifest {
  const issues: ValidationIssue[] = [];
  const bad = (path: string, expected: string, got: unknown): void => {
    issues.push(issue(path, expected, describeValue(got)));
  };
  if (!isRecord(manifest)) {
    throw new ModactorError('invalid-manifest', `Expected a manifest object, got ${describeValue(manifest)}`, {
      issues: [issue('', 'an object', describeValue(manifest))],
    });
  }
  const m = manifest as unknown as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (!FIELDS.has(key)) issues.push(issue(key, `one of ${[...FIELDS].join(', ')}`, 'an unknown field'));
  }

  const name = m['name'];
  if (typeof name !== 'string' || !NAME.test(name)) bad('name', 'a name of letters, digits, ".", "_" or "-" (max 64)', name);
  const version = m['version'];
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) bad('version', 'a non-empty string (max 64)', version);

  const entryPath = entryPathOf(m['entry'], issues);

  const isolation = m['isolation'] ?? 'process';
  if (isolation !== 'process' && isolation !== 'worker') bad('isolation', '"process" or "worker"', isolation);

  const types = (field: string, value: unknown, required: boolean): string[] => {
    if (value === undefined && !required) return [];
    if (!Array.isArray(value)) {
      bad(field, 'an array of event types', value);
      return [];
    }
    const out: string[] = [];
    value.forEach((type: unknown, i) => {
      if (typeof type !== 'string' || !catalogue.has(type)) bad(`${field}[${i}]`, 'an event type of the catalogue', type);
      else if (!out.includes(type)) out.push(type);
    });
    return out;
  };
  const subscribe = types('subscribe', m['subscribe'], true);
  const publishes = types('publishes', m['publishes'], false);
  const filter = compileEventFilter(m['filter'], subscribe, issues);

  const positiveInt = (path: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > max) {
      bad(path, max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`, value);
      return fallback;
    }
    return value as number;
  };
  const mailboxCapacity = positiveInt('mailboxCapacity', m['mailboxCapacity'], DEFAULTS.mailboxCapacity);
  const credits = positiveInt('credits', m['credits'], Math.min(mailboxCapacity, MAX_CREDITS), Math.min(mailboxCapacity, MAX_CREDITS));
  const maxInFlightBytes = positiveInt('maxInFlightBytes', m['maxInFlightBytes'], DEFAULT_MAX_IN_FLIGHT_BYTES);
  if (maxInFlightBytes < MIN_IN_FLIGHT_BYTES) bad('maxInFlightBytes', `at least ${MIN_IN_FLIGHT_BYTES}`, maxInFlightBytes);
  const maxMessageBytes = positiveInt('maxMessageBytes', m['maxMessageBytes'], DEFAULT_MAX_MESSAGE_BYTES);
  if (maxMessageBytes < 1024) bad('maxMessageBytes', 'at least 1024', maxMessageBytes);
  const startupTimeoutMs = positiveInt('startupTimeoutMs', m['startupTimeoutMs'], DEFAULTS.startupTimeoutMs);
  const shutdownTimeoutMs = positiveInt('shutdownTimeoutMs', m['shutdownTimeoutMs'], DEFAULTS.shutdownTimeoutMs);

  const restart = restartOf(m['restart'], issues);

  let heartbeatMs: number = DEFAULTS.heartbeatMs;
  let heartbeatMissed: number = DEFAULTS.heartbeatMissed;
  const heartbeat = m['heartbeat'];
  if (heartbeat !== undefined) {
    if (!isRecord(heartbeat)) bad('heartbeat', 'an object { intervalMs?, missed? }', heartbeat);
    else {
      for (const key of Object.keys(heartbeat)) {
        if (key !== 'intervalMs' && key !== 'missed') issues.push(issue(`heartbeat.${key}`, 'intervalMs or missed', 'an unknown field'));
      }
      heartbeatMs = positiveInt('heartbeat.intervalMs', heartbeat['intervalMs'], DEFAULTS.heartbeatMs);
      if (heartbeatMs < 10) bad('heartbeat.intervalMs', 'at least 10 ms', heartbeatMs);
      heartbeatMissed = positiveInt('heartbeat.missed', heartbeat['missed'], DEFAULTS.heartbeatMissed, 1000);
    }
  }

  let ratePerSecond: number = DEFAULTS.ratePerSecond;
  let rateBurst: number = DEFAULTS.ratePerSecond;
  const rate = m['publishRateLimit'];
  if (rate !== undefined) {
    if (!isRecord(rate)) bad('publishRateLimit', 'an object { perSecond, burst? }', rate);
    else {
      for (const key of Object.keys(rate)) {
        if (key !== 'perSecond' && key !== 'burst') issues.push(issue(`publishRateLimit.${key}`, 'perSecond or burst', 'an unknown field'));
      }
      const perSecond = rate['perSecond'];
      if (typeof perSecond !== 'number' || !(perSecond > 0) || !Number.isFinite(perSecond)) {
        bad('publishRateLimit.perSecond', 'a number > 0', perSecond);
      } else {
        ratePerSecond = perSecond;
      }
      rateBurst = positiveInt('publishRateLimit.burst', rate['burst'], Math.max(1, Math.ceil(ratePerSecond)));
    }
  }

  const strings = (path: string, value: unknown): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      bad(path, 'an array of strings', value);
      return [];
    }
    return [...(value)];
  };
  const args = strings('args', m['args']);
  const execArgv = strings('execArgv', m['execArgv']);
  const env: Record<string, string> = {};
  const rawEnv = m['env'];
  if (rawEnv !== undefined) {
    if (!isRecord(rawEnv)) bad('env', 'an object of strings', rawEnv);
    else {
      for (const [key, value] of Object.entries(rawEnv)) {
        if (typeof value !== 'string') bad(`env.${key}`, 'a string', value);
        else env[key] = value;
      }
    }
  }
  if (isolation === 'worker') {
    if (m['env'] !== undefined) issues.push(issue('env', 'no env with isolation "worker" (a worker shares the process environment)', describeValue(m['env'])));
    if (m['execArgv'] !== undefined) issues.push(issue('execArgv', 'no execArgv with isolation "worker"', describeValue(m['execArgv'])));
  }

  const replay = m['replay'] === undefined ? undefined : runCheck(replayOption, m['replay'], 'replay', issues);

  if (issues.length > 0) {
    const first = issues[0] as ValidationIssue;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    const who = typeof name === 'string' ? ` of module "${name}"` : '';
    throw new ModactorError('invalid-manifest', `Invalid manifest${who}: ${first.path}: ${first.message}${more}`, { issues });
  }
  return Object.freeze({
    name: name as string,
    version: version as string,
    entryPath: entryPath as string,
    typescript: TS.test(entryPath as string),
    isolation: isolation as ModuleIsolation,
    subscribe,
    publishes,
    filter,
    mailboxCapacity,
    credits,
    maxInFlightBytes,
    restart,
    heartbeatMs,
    heartbeatMissed,
    ratePerSecond,
    rateBurst,
    maxMessageBytes,
    startupTimeoutMs,
    shutdownTimeoutMs,
    args,
    env,
    execArgv,
    ...(replay === undefined ? {} : { replay }),
  });
}

function entryPathOf(entry: unknown, issues: ValidationIssue[]): string | undefined {
  let path: string;
  if (entry instanceof URL) {
    if (entry.protocol !== 'file:') {
      issues.push(issue('entry', 'a file: URL', `${entry.protocol} URL`));
      return undefined;
    }
    path = fileURLToPath(entry);
  } else if (typeof entry === 'string' && entry.length > 0) {
    path = entry.startsWith('file:') ? fileURLToPath(entry) : isAbsolute(entry) ? entry : resolve(entry);
  } else {
    issues.push(issue('entry', 'a path or a file: URL', describeValue(entry)));
    return undefined;
  }
  if (!existsSync(path)) {
    issues.push(issue('entry', 'an existing file', `"${path}" (not found)`));
    return undefined;
  }
  return path;
}

function restartOf(value: unknown, issues: ValidationIssue[]): ModuleRestartPolicy {
  if (value === undefined) return {};
  const bad = (path: string, expected: string, got: unknown): void => {
    issues.push(issue(path, expected, describeValue(got)));
  };
  if (!isRecord(value)) {
    bad('restart', 'an object { type?, maxRestarts?, withinMs?, backoff? }', value);
    return {};
  }
  for (const key of Object.keys(value)) {
    if (!['type', 'maxRestarts', 'withinMs', 'backoff'].includes(key)) {
      issues.push(issue(`restart.${key}`, 'type, maxRestarts, withinMs or backoff', 'an unknown field'));
    }
  }
  const { type, maxRestarts, withinMs, backoff } = value;
  if (type !== undefined && !RESTART_TYPES.includes(type as RestartType)) bad('restart.type', 'permanent, transient or temporary', type);
  if (maxRestarts !== undefined && (!Number.isSafeInteger(maxRestarts) || (maxRestarts as number) < 0)) {
    bad('restart.maxRestarts', 'an integer >= 0', maxRestarts);
  }
  if (withinMs !== undefined && (typeof withinMs !== 'number' || !(withinMs > 0) || !Number.isFinite(withinMs))) {
    bad('restart.withinMs', 'a number of ms > 0', withinMs);
  }
  if (backoff !== undefined) {
    if (!isRecord(backoff)) bad('restart.backoff', 'an object { minMs, maxMs, factor?, jitter?, resetAfterMs? }', backoff);
    else {
      const { minMs, maxMs, factor, jitter, resetAfterMs } = backoff;
      const nonNegative = (v: unknown): boolean => typeof v === 'number' && v >= 0 && Number.isFinite(v);
      if (!nonNegative(minMs)) bad('restart.backoff.minMs', 'a number of ms >= 0', minMs);
      if (!nonNegative(maxMs) || (nonNegative(minMs) && (maxMs as number) < (minMs as number))) {
        bad('restart.backoff.maxMs', 'a number of ms >= minMs', maxMs);
      }
      if (factor !== undefined && !(typeof factor === 'number' && factor >= 1 && Number.isFinite(factor))) bad('restart.backoff.factor', 'a number >= 1', factor);
      if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) bad('restart.backoff.jitter', 'a number from 0 to 1', jitter);
      if (resetAfterMs !== undefined && !nonNegative(resetAfterMs)) bad('restart.backoff.resetAfterMs', 'a number of ms >= 0', resetAfterMs);
      for (const key of Object.keys(backoff)) {
        if (!['minMs', 'maxMs', 'factor', 'jitter', 'resetAfterMs'].includes(key)) {
          issues.push(issue(`restart.backoff.${key}`, 'minMs, maxMs, factor, jitter or resetAfterMs', 'an unknown field'));
        }
      }
    }
  }
  return value;
}
