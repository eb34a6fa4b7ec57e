import type { Logger } from 'pino';
import { createActor, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { restartIntensityShape, restartType, type BackoffOptions, type RestartType } from '../kernel/supervision.js';
import type { ValidationIssue } from '../kernel/errors.js';
import {
  arrayOf,
  describeReceived,
  func,
  issue,
  nonEmptyString,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  parse,
  positiveInteger,
  predicate,
  refine,
  type Check,
  type DescribedCheck,
  type Refinement,
} from '../kernel/checks.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { ModuleHealth, NodeEventMap } from '../events/node-catalogue.js';
import type { PublishReceipt } from './delivery-stats.js';
import { moduleName } from './module-name.js';


/**
 * A module's replay of the durable events it missed (on a node with a store): `true`, or where its
 * first load starts. Its position is kept from then on (see `docs/durability.md`).
 */
export type ReplayOption = boolean | { readonly fromSeq: number };

/** How a module is restarted when it crashes. */
export interface ModuleRestartPolicy {
  /** `permanent` (default): always; `transient`: only after a crash; `temporary`: never. */
  readonly type?: RestartType;
  /** Restart intensity: at most `maxRestarts` within `withinMs`. Default 3 in 10 000 ms. */
  readonly maxRestarts?: number;
  readonly withinMs?: number;
  /** Optional exponential backoff between restarts. */
  readonly backoff?: BackoffOptions;
}

/** What a module's code sees of the node. */
export interface ModuleContext<E extends EventMap = NodeEventMap> {
  readonly name: string;
  readonly version: string;
  /** Unique per incarnation: a restart gets a new one. */
  readonly instanceId: string;
  readonly log: Logger;
  /**
   * Publishes an event from this module (validated, and refused with `not-permitted` when the
   * module's `publishes` list does not name its type). Never blocks.
   */
  publish(event: EventOf<E>): PublishReceipt;
  /** Subscribes to more event types (a new ModuleLoaded subscription gets the replay). */
  subscribe(types: readonly EventTypeOf<E>[]): void;
  unsubscribe(types: readonly EventTypeOf<E>[]): void;
  /** Reports this module's health; a change publishes `ModuleHealthChanged`. */
  reportHealth(health: ModuleHealth): void;
  /** The scheduler's clock (virtual in simulation). */
  now(): number;
  /** Waits `ms` on the scheduler's clock. */
  delay(ms: number): Promise<void>;
}

/** The handlers of one incarnation of a module. */
export interface ModuleHandlers<E extends EventMap = NodeEventMap> {
  handle(event: EventOf<E>, ctx: ModuleContext<E>): void | Promise<void>;
  /** Runs when the incarnation stops (unload, reload, shutdown), within its timeout. */
  stop?: (ctx: ModuleContext<E>) => void | Promise<void>;
}

interface ModuleDefinitionBase<E extends EventMap> {
  readonly name: string;
  readonly version: string;
  /** Event types this module receives. */
  readonly subscribe: readonly EventTypeOf<E>[];
  /** Event types this module may publish; omitted = any type of the catalogue. */
  readonly publishes?: readonly EventTypeOf<E>[];
  /** Mailbox capacity; default the node's (100). */
  readonly mailboxCapacity?: number;
  /** Capacity of the priority lane (critical events); default 100. */
  readonly priorityCapacity?: number;
  /**
   * Membership events (ModuleLoaded/Crashed/Unloaded) the module may hold past its routine bound,
   * in order with everything else; default 1000. Past it they are counted (`membershipDropped`)
   * and the module is reported unhealthy.
   */
  readonly membershipCapacity?: number;
  readonly restart?: ModuleRestartPolicy;
  /** Time the module gets to stop before it is killed. Default the node's. */
  readonly shutdownTimeoutMs?: number;
  /** Event filtering by criteria: events it declines are counted as `filtered`, never enqueued. */
  readonly filter?: (event: EventOf<E>) => boolean;
  /**
   * On a node with a store: keep this module's position (a low-water mark of the durable events it
   * handled), so that after a crash or a node restart it first gets what it missed, in order, once,
   * then live events; while it is behind, durable events wait in the store rather than being
   * dropped. Its first load starts at the end of the log, or at `fromSeq`. Default: no replay
   * (at most once). A node without a store refuses such a module.
   */
  readonly replay?: ReplayOption;
}

/** A module whose handler is given directly (state in closures is shared by all incarnations). */
export interface HandlerModuleDefinition<E extends EventMap = NodeEventMap> extends ModuleDefinitionBase<E> {
  /** Runs at every (re)start, before the module subscribes. */
  readonly setup?: (ctx: ModuleContext<E>) => void | Promise<void>;
  readonly handle: (event: EventOf<E>, ctx: ModuleContext<E>) => void | Promise<void>;
  readonly stop?: (ctx: ModuleContext<E>) => void | Promise<void>;
}

/** A module with fresh state per incarnation: `create` runs at every (re)start. */
export interface FactoryModuleDefinition<E extends EventMap = NodeEventMap> extends ModuleDefinitionBase<E> {
  readonly create: (ctx: ModuleContext<E>) => ModuleHandlers<E> | Promise<ModuleHandlers<E>>;
}

/**
 * A module that is an xstate v5 machine: every event it receives is sent to the machine (events
 * are `{ type, payload }`, so they are machine events as they are); a machine that errors is a
 * crash of the module; every (re)start runs a fresh machine.
 */
export interface MachineModuleDefinition<E extends EventMap = NodeEventMap> extends ModuleDefinitionBase<E> {
  readonly machine: AnyStateMachine;
  /** The machine's input; a function gets the module context (to publish from actions). */
  readonly input?: (ctx: ModuleContext<E>) => unknown;
  /** Called with each snapshot (for observation and tests). */
  readonly onSnapshot?: (snapshot: SnapshotFrom<AnyStateMachine>, ctx: ModuleContext<E>) => void;
}

/** An in-process module, as given to {@link defineModule}. */
export type ModuleSpec<E extends EventMap = NodeEventMap> =
  | HandlerModuleDefinition<E>
  | FactoryModuleDefinition<E>
  | MachineModuleDefinition<E>;

/** A validated in-process module definition. */
export type ModuleDefinition<E extends EventMap = NodeEventMap> = ModuleSpec<E> & { readonly kind: 'in-process' };

// ---- the definition's checks (the validation vocabulary) -------------------------------------

/** Event types a module lists: non-empty strings, repeats dropped. */
const eventTypes = arrayOf(nonEmptyString, { unique: true });

const replayFrom = object({ fromSeq: positiveInteger });
const REPLAY_EXPECTED = 'true, false or { fromSeq: a positive safe integer }';

/** {@link ReplayOption}: `true`, `false` or `{ fromSeq }`. */
export const replayOption: DescribedCheck<ReplayOption> = Object.assign(
  (value: unknown, path: string, issues: ValidationIssue[]): ReplayOption => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return replayFrom(value, path, issues);
    issues.push(issue(path, REPLAY_EXPECTED, describeReceived(value)));
    return false;
  },
  { expected: REPLAY_EXPECTED },
);

/** {@link ModuleRestartPolicy}: a restart type and the kernel's restart-intensity fields. */
export const moduleRestartPolicy: DescribedCheck<ModuleRestartPolicy> = object({
  type: optional(restartType),
  ...restartIntensityShape,
} satisfies { readonly [K in keyof Required<ModuleRestartPolicy>]: Check<ModuleRestartPolicy[K]> });

/** An xstate machine (or any actor logic): an object with `transition` and `getInitialSnapshot`. */
const machineLogic = predicate<AnyStateMachine>('an xstate machine (createMachine(...))', (v) => {
  if (typeof v !== 'object' || v === null) return false;
  try {
    const logic = v as Partial<Record<'transition' | 'getInitialSnapshot', unknown>>;
    return typeof logic.transition === 'function' && typeof logic.getInitialSnapshot === 'function';
  } catch {
    return false;
  }
});

const BEHAVIOURS = ['handle', 'create', 'machine'] as const;

/** Every field any kind of in-process definition may have: the definition check names each. */
type DefinitionField = keyof HandlerModuleDefinition | keyof FactoryModuleDefinition | keyof MachineModuleDefinition | 'kind';

/**
 * A whole in-process module definition: every field checked, unknown fields refused (a typo such
 * as `mailboxCapacty` fails), exactly one of `handle`, `create` or `machine`, and the fields that
 * belong to another kind of module (`setup`/`stop` without `handle`, `input`/`onSnapshot` without
 * `machine`) refused too, since they would be silently ignored.
 */
const moduleDefinition = refine(
  object({
    kind: optional(oneOf('in-process')),
    name: moduleName,
    version: nonEmptyString,
    subscribe: eventTypes,
    publishes: optional(eventTypes),
    mailboxCapacity: optional(positiveInteger),
    priorityCapacity: optional(positiveInteger),
    membershipCapacity: optional(positiveInteger),
    restart: optional(moduleRestartPolicy),
    shutdownTimeoutMs: optional(nonNegativeNumber),
    filter: optional(func),
    replay: optional(replayOption),
    setup: optional(func),
    handle: optional(func),
    stop: optional(func),
    create: optional(func),
    machine: optional(machineLogic),
    input: optional(func),
    onSnapshot: optional(func),
  } satisfies { readonly [K in DefinitionField]: Check<unknown> }),
  (d): Refinement[] | undefined => {
    const found: Refinement[] = [];
    const given = BEHAVIOURS.filter((key) => d[key] !== undefined);
    if (given.length === 0) found.push({ field: 'handle', expected: 'exactly one of handle(event, ctx), create(ctx) or machine', got: undefined });
    for (const extra of given.slice(1)) {
      found.push({ field: extra, expected: `no ${extra} besides ${String(given[0])} (exactly one of handle, create or machine)`, got: d[extra] });
    }
    if (d.handle === undefined) {
      for (const key of ['setup', 'stop'] as const) {
        if (d[key] !== undefined) found.push({ field: key, expected: `no ${key} (only a module defined by handle has one; create returns its handlers)`, got: d[key] });
      }
    }
    if (d.machine === undefined) {
      for (const key of ['input', 'onSnapshot'] as const) {
        if (d[key] !== undefined) found.push({ field: key, expected: `no ${key} (only a machine module takes one)`, got: d[key] });
      }
    }
    return found.length === 0 ? undefined : found;
  },
);

/**
 * Defines an in-process module. Parses the whole definition at once and returns a frozen copy
 * (each field read once; the callbacks and the machine are kept as they are), or throws a
 * `ModactorError` (`invalid-argument`) whose `issues` name every bad field by path
 * (`restart.maxRestarts`, `publishes[1]`), each `{ path, expected, got, message }`. Unknown
 * fields are refused; `subscribe` and `publishes` lose repeated types. Listing a reserved type
 * (`ModuleLoaded`, `NodeShutdown`, ...) in `publishes` grants nothing: the node alone publishes
 * those, and the module's `ctx.publish` of one is refused with `not-permitted`.
 *
 * @example
 * ```ts
 * const indexer = defineModule({
 *   name: 'indexer', version: '1.0.0',
 *   subscribe: [EventType.NewBlock, EventType.ModuleLoaded],
 *   handle(event, ctx) { if (event.type === 'NewBlock') ctx.log.info({ height: event.payload.height }); },
 * });
 * defineModule({ ...spec, restart: { maxRestarts: -1 } });
 * // throws ModactorError 'invalid-argument':
 * //   Invalid module definition: restart.maxRestarts: expected a non-negative safe integer, got number -1
 * ```
 */
export function defineModule<E extends EventMap = NodeEventMap>(spec: ModuleSpec<NoInfer<E>>): ModuleDefinition<E> {
  const parsed = parse(moduleDefinition, spec, { code: 'invalid-argument', what: 'module definition' });
  return Object.freeze({ ...parsed, kind: 'in-process' as const }) as unknown as ModuleDefinition<E>;
}

/** Resolves the handlers of one incarnation. @internal */
export async function handlersOf<E extends EventMap>(
  definition: ModuleSpec<E>,
  ctx: ModuleContext<E>,
): Promise<ModuleHandlers<E>> {
  if ('create' in definition) return definition.create(ctx);
  if ('machine' in definition) return machineHandlers(definition, ctx);
  await definition.setup?.(ctx);
  // The definition has the handlers' shape (handle, stop): no object per incarnation.
  return definition;
}

function machineHandlers<E extends EventMap>(definition: MachineModuleDefinition<E>, ctx: ModuleContext<E>): ModuleHandlers<E> {
  const actor = createActor(definition.machine, definition.input === undefined ? {} : { input: definition.input(ctx) });
  let failure: unknown = null;
  actor.subscribe({
    next: (snapshot) => definition.onSnapshot?.(snapshot, ctx),
    error: (error) => {
      failure = error;
    },
  });
  const check = (): void => {
    if (failure !== null) throw failure instanceof Error ? failure : new Error(`machine of ${definition.name} failed`);
  };
  actor.start();
  check();
  return {
    handle(event) {
      actor.send(event);
      check();
    },
    stop() {
      actor.stop();
    },
  };
}
