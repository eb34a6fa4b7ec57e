import type { ActorContext, BehaviorFactory, BehaviorObject, SpawnOptions } from '../kernel/behavior.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { arrayOf, func, issue, nonEmptyString, nonNegativeNumber, parse, positiveInteger, type Check } from '../kernel/checks.js';
import { describeThrown } from '../kernel/foreign.js';
import { DEFAULT_RESERVE_CAPACITY } from '../kernel/mailbox.js';
import { trustSpawnOptions } from '../kernel/spawn-options.js';
import type { BackoffOptions, RestartType } from '../kernel/supervision.js';
import type { Catalogue, EventMap } from '../events/catalogue.js';
import { ModuleInstance, type ModuleServices } from './module-instance.js';
import type { LoadableModule } from './module-supervisor.js';
import { moduleRestartPolicy, replayOption, type ModuleDefinition } from './module.js';
import type { ReplaySpec } from './event-router.js';
import { moduleName } from './module-name.js';

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
 * filled in. Nothing the supervisor reads later can be a getter of the caller's.
 *
 * It is also how the module's actor is spawned (its {@link SpawnOptions}): one actor per module, a
 * child of the supervisor with the module's own restart policy (the kernel restarts it alone, and
 * past its intensity stops it for good); and, for an in-process module, the factory of its
 * incarnations. One object per module. @internal
 */
export class NormalizedModule<E extends EventMap> implements SpawnOptions, BehaviorFactory<unknown> {
  constructor(
    private readonly services: ModuleServices<E>,
    /** The types it may publish (`publishes`), or null for any. */
    private readonly permitted: ReadonlySet<string> | null,
    readonly name: string,
    readonly version: string,
    readonly subscribe: readonly string[],
    readonly mailboxCapacity: number,
    readonly priorityCapacity: number,
    /** Membership events it may hold past its routine bound (its mailbox's reserve). */
    readonly reserveCapacity: number,
    /** Its restart policy, which is also its actor's own restart limit. */
    readonly restartLimit: RestartPolicy,
    readonly shutdownTimeoutMs: number,
    /** Process and worker modules bring their own instance behaviour. */
    readonly instanceBehavior: ((services: ModuleServices<E>) => BehaviorFactory<unknown>) | undefined,
    /** In-process modules: the definition their instances run. */
    readonly definition: ModuleDefinition<E> | undefined,
    /** Replay of the durable events it missed (a node with a store), or undefined. */
    readonly replay: ReplaySpec | undefined,
  ) {}

  get restart(): RestartType {
    return this.restartLimit.type;
  }

  get policy(): RestartPolicy {
    return this.restartLimit;
  }

  /** An incarnation of an in-process module (process and worker modules bring their own factory). */
  create(actx: ActorContext<unknown>): BehaviorObject<unknown> {
    return new ModuleInstance<E>(this.definition as ModuleDefinition<E>, this.services, this.permitted, actx, this.replay);
  }

  /** Its actor logs with one `module` binding (made when it first logs). */
  get logBindings(): Readonly<Record<string, string>> {
    return { module: this.name };
  }
}

/** What normalization needs from the node. @internal */
export interface ModuleDefaults<E extends EventMap> {
  readonly catalogue: Catalogue<E>;
  /** What the modules' incarnations get from the node. */
  readonly services: ModuleServices<E>;
  readonly mailboxCapacity: number;
  readonly priorityCapacity: number;
  readonly shutdownTimeoutMs: number;
}

/** One field of what `node.load` was given, parsed (a typed `invalid-argument` naming it otherwise). */
function field<T>(check: Check<T>, value: unknown, path: string): T {
  return parse(check, value, { code: 'invalid-argument', what: 'module', path });
}

const subscriptions = arrayOf(nonEmptyString, { unique: true });
const instanceFactory = func as Check<(services: never) => BehaviorFactory<unknown>>;

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
  if (typeof module !== 'object' || module === null) {
    throw new ModactorError('invalid-argument', `Invalid module: expected a module definition, got ${describeValue(module)}`, {
      issues: [issue('', 'a module definition', describeValue(module))],
    });
  }
  // Each field read once, here, in the caller's context.
  const source = module as LoadableModule<E> & { readonly kind?: unknown };
  const name = field(moduleName, source.name, 'name');
  const version = field(nonEmptyString, source.version, 'version');
  const types = field(subscriptions, source.subscribe, 'subscribe');
  types.forEach((type, i) => {
    if (!defaults.catalogue.has(type)) {
      throw new ModactorError('unknown-event-type', `Invalid module "${name}": subscribe[${i}]: expected a known event type, got ${describeValue(type)}`);
    }
  });
  const rawBehavior = source.instanceBehavior;
  const instanceBehavior = rawBehavior === undefined ? undefined : (field(instanceFactory, rawBehavior, 'instanceBehavior') as LoadableModule<E>['instanceBehavior']);
  if (instanceBehavior === undefined && source.kind !== 'in-process') {
    throw new ModactorError('invalid-argument', 'Invalid module: expected a module made by defineModule, defineProcessModule or defineWorkerModule', {
      issues: [issue('', 'a module made by defineModule, defineProcessModule or defineWorkerModule', describeValue(module))],
    });
  }
  const optionalNumber = (check: Check<number>, value: unknown, path: string, fallback: number): number =>
    value === undefined ? fallback : field(check, value, path);
  const definition = instanceBehavior === undefined ? (module as unknown as ModuleDefinition<E>) : undefined;
  const publishes = definition?.publishes;
  const normalized = new NormalizedModule<E>(
    defaults.services,
    publishes === undefined ? null : new Set(publishes),
    name,
    version,
    types, // a frozen copy, repeats dropped
    optionalNumber(positiveInteger, source.mailboxCapacity, 'mailboxCapacity', defaults.mailboxCapacity),
    optionalNumber(positiveInteger, source.priorityCapacity, 'priorityCapacity', defaults.priorityCapacity),
    optionalNumber(positiveInteger, source.membershipCapacity, 'membershipCapacity', DEFAULT_RESERVE_CAPACITY),
    restartPolicy(source.restart),
    optionalNumber(nonNegativeNumber, source.shutdownTimeoutMs, 'shutdownTimeoutMs', defaults.shutdownTimeoutMs),
    instanceBehavior,
    definition,
    replaySpec(source.replay),
  );
  // What the kernel reads of it as spawn options, checked once: spawning it copies nothing.
  const { policy } = normalized;
  return trustSpawnOptions(normalized, {
    name,
    mailboxCapacity: normalized.mailboxCapacity,
    priorityCapacity: normalized.priorityCapacity,
    reserveCapacity: normalized.reserveCapacity,
    restart: policy.type,
    restartLimit: { maxRestarts: policy.maxRestarts, withinMs: policy.withinMs, ...(policy.backoff === undefined ? {} : { backoff: policy.backoff }) },
    shutdownTimeoutMs: normalized.shutdownTimeoutMs,
  });
}

/** A module's `replay`, parsed by the vocabulary (the same check as `defineModule`'s): undefined for none. @internal */
export function replaySpec(replay: unknown): ReplaySpec | undefined {
  if (replay === undefined) return undefined;
  const parsed = field(replayOption, replay, 'replay');
  if (parsed === false) return undefined;
  return Object.freeze({ fromSeq: parsed === true ? undefined : parsed.fromSeq });
}

/** A module's restart policy, parsed by the vocabulary (the same check as `defineModule`'s), defaults filled in. */
function restartPolicy(restart: unknown): RestartPolicy {
  if (restart === undefined) return DEFAULT_RESTART_POLICY;
  const parsed = parse(moduleRestartPolicy, restart, { code: 'invalid-argument', what: 'module', path: 'restart' });
  return Object.freeze({
    type: parsed.type ?? DEFAULT_RESTART_POLICY.type,
    maxRestarts: parsed.maxRestarts ?? DEFAULT_RESTART_POLICY.maxRestarts,
    withinMs: parsed.withinMs ?? DEFAULT_RESTART_POLICY.withinMs,
    ...(parsed.backoff === undefined ? {} : { backoff: parsed.backoff }),
  });
}
