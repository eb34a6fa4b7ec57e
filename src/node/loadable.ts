import type { BehaviorFactory } from '../kernel/behavior.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import { describeThrown } from '../kernel/foreign.js';
import { DEFAULT_RESERVE_CAPACITY } from '../kernel/mailbox.js';
import { validateSupervisorOptions, type BackoffOptions, type RestartType } from '../kernel/supervision.js';
import type { Catalogue, EventMap } from '../events/catalogue.js';
import type { ModuleServices } from './module-instance.js';
import type { LoadableModule } from './module-supervisor.js';
import type { ModuleDefinition } from './module.js';

/** A module's restart policy with every default filled in. @internal */
export interface RestartPolicy {
  readonly type: RestartType;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly backoff?: BackoffOptions;
}

/** The default restart policy of a module: permanent, at most 3 restarts within 10 s. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({ type: 'permanent', maxRestarts: 3, withinMs: 10_000 });

/**
 * A module as the supervisor takes it: read once, in the caller's context, validated, defaults
 * filled in, frozen. Nothing the supervisor reads later can be a getter of the caller's. @internal
 */
export interface NormalizedModule<E extends EventMap> {
  readonly name: string;
  readonly version: string;
  readonly subscribe: readonly string[];
  readonly mailboxCapacity: number;
  readonly priorityCapacity: number;
  readonly membershipCapacity: number;
  readonly policy: RestartPolicy;
  readonly shutdownTimeoutMs: number;
  /** Process and worker modules bring their own instance behaviour. */
  readonly instanceBehavior: ((services: ModuleServices<E>) => BehaviorFactory<unknown>) | undefined;
  /** In-process modules: the definition their instances run. */
  readonly definition: ModuleDefinition<E> | undefined;
}

/** What normalization needs from the node. @internal */
export interface ModuleDefaults<E extends EventMap> {
  readonly catalogue: Catalogue<E>;
  readonly mailboxCapacity: number;
  readonly priorityCapacity: number;
  readonly shutdownTimeoutMs: number;
}

const RESTART_TYPES: ReadonlySet<unknown> = new Set(['permanent', 'transient', 'temporary']);

function invalid(field: string, expected: string, got: unknown): ModactorError {
  const gotText = describeValue(got);
  return new ModactorError('invalid-argument', `Invalid module: ${field}: expected ${expected}, got ${gotText}`, {
    issues: [issue(field, expected, gotText)],
  });
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw invalid(field, 'a positive safe integer', value);
  return value as number;
}

/**
 * Reads and checks what `node.load` was given. Throws a typed `ModactorError` (nothing reaches
 * the node's actors then): `invalid-argument` naming the field, or `unknown-event-type`.
 * @internal
 */
export function normalizeModule<E extends EventMap>(module: LoadableModule<E>, defaults: ModuleDefaults<E>): NormalizedModule<E> {
  try {
    return read(module, defaults);
  } catch (error) {
    if (error instanceof ModactorError) throw error;
    throw new ModactorError('invalid-argument', `Expected a module definition, got one that cannot be read: ${describeThrown(error)}`, {
      cause: error,
    });
  }
}

function read<E extends EventMap>(module: LoadableModule<E>, defaults: ModuleDefaults<E>): NormalizedModule<E> {
  if (typeof module !== 'object' || module === null) throw invalid('module', 'a module definition', module);
  const source = module as LoadableModule<E> & { readonly kind?: unknown };
  const { name, version, subscribe, restart, shutdownTimeoutMs, instanceBehavior, kind } = source;
  if (typeof name !== 'string' || name.length === 0) throw invalid('name', 'a module name', name);
  if (typeof version !== 'string' || version.length === 0) throw invalid('version', 'a non-empty string', version);
  if (!Array.isArray(subscribe)) throw invalid('subscribe', 'an array of event types', subscribe);
  const types: string[] = [];
  for (let i = 0; i < subscribe.length; i++) {
    const type: unknown = subscribe[i];
    if (typeof type !== 'string') throw invalid(`subscribe[${i}]`, 'an event type', type);
    if (!defaults.catalogue.has(type)) {
      throw new ModactorError('unknown-event-type', `Invalid module "${name}": subscribe[${i}]: expected a known event type, got ${describeValue(type)}`);
    }
    if (!types.includes(type)) types.push(type);
  }
  if (instanceBehavior !== undefined && typeof instanceBehavior !== 'function') {
    throw invalid('instanceBehavior', 'a function', instanceBehavior);
  }
  if (instanceBehavior === undefined && kind !== 'in-process') {
    throw invalid('module', 'a module made by defineModule, defineProcessModule or defineWorkerModule', module);
  }
  if (shutdownTimeoutMs !== undefined && !(typeof shutdownTimeoutMs === 'number' && shutdownTimeoutMs >= 0 && Number.isFinite(shutdownTimeoutMs))) {
    throw invalid('shutdownTimeoutMs', 'a finite number >= 0', shutdownTimeoutMs);
  }
  return Object.freeze({
    name,
    version,
    subscribe: Object.freeze(types),
    mailboxCapacity: positiveInteger(source.mailboxCapacity, 'mailboxCapacity', defaults.mailboxCapacity),
    priorityCapacity: positiveInteger(source.priorityCapacity, 'priorityCapacity', defaults.priorityCapacity),
    membershipCapacity: positiveInteger(source.membershipCapacity, 'membershipCapacity', DEFAULT_RESERVE_CAPACITY),
    policy: restartPolicy(restart),
    shutdownTimeoutMs: shutdownTimeoutMs ?? defaults.shutdownTimeoutMs,
    instanceBehavior,
    definition: instanceBehavior === undefined ? (module as unknown as ModuleDefinition<E>) : undefined,
  });
}

function restartPolicy(restart: unknown): RestartPolicy {
  if (restart === undefined) return DEFAULT_RESTART_POLICY;
  if (typeof restart !== 'object' || restart === null) throw invalid('restart', 'a restart policy object', restart);
  const { type, maxRestarts, withinMs, backoff } = restart as { type?: unknown; maxRestarts?: unknown; withinMs?: unknown; backoff?: unknown };
  if (type !== undefined && !RESTART_TYPES.has(type)) throw invalid('restart.type', 'permanent, transient or temporary', type);
  const policy: RestartPolicy = {
    type: (type as RestartType | undefined) ?? DEFAULT_RESTART_POLICY.type,
    maxRestarts: (maxRestarts as number | undefined) ?? DEFAULT_RESTART_POLICY.maxRestarts,
    withinMs: (withinMs as number | undefined) ?? DEFAULT_RESTART_POLICY.withinMs,
    ...(backoff === undefined ? {} : { backoff: { ...(backoff as BackoffOptions) } }),
  };
  try {
    validateSupervisorOptions({ maxRestarts: policy.maxRestarts, withinMs: policy.withinMs, ...(policy.backoff === undefined ? {} : { backoff: policy.backoff }) }, 'restart');
  } catch (error) {
    if (error instanceof ModactorError) {
      throw new ModactorError('invalid-argument', `Invalid module: restart: ${error.message}`, { issues: error.issues, cause: error });
    }
    throw error;
  }
  return Object.freeze(policy);
}
