import type { Logger } from 'pino';
import { createActor, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import type { BackoffOptions, RestartType } from '../kernel/supervision.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { ModuleHealth, NodeEventMap } from '../events/node-catalogue.js';
import type { PublishReceipt } from './delivery-stats.js';


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
export interface ModuleContext<Map extends EventMap = NodeEventMap> {
  readonly name: string;
  readonly version: string;
  /** Unique per incarnation: a restart gets a new one. */
  readonly instanceId: string;
  readonly log: Logger;
  /**
   * Publishes an event from this module (validated, and refused with `not-permitted` when the
   * module's `publishes` list does not name its type). Never blocks.
   */
  publish(event: EventOf<Map>): PublishReceipt;
  /** Subscribes to more event types (a new ModuleLoaded subscription gets the replay). */
  subscribe(types: readonly EventTypeOf<Map>[]): void;
  unsubscribe(types: readonly EventTypeOf<Map>[]): void;
  /** Reports this module's health; a change publishes `ModuleHealthChanged`. */
  reportHealth(health: ModuleHealth): void;
  /** The scheduler's clock (virtual in simulation). */
  now(): number;
  /** Waits `ms` on the scheduler's clock. */
  delay(ms: number): Promise<void>;
}

/** The handlers of one incarnation of a module. */
export interface ModuleHandlers<Map extends EventMap = NodeEventMap> {
  handle(event: EventOf<Map>, ctx: ModuleContext<Map>): void | Promise<void>;
  /** Runs when the incarnation stops (unload, reload, shutdown), within its timeout. */
  stop?: (ctx: ModuleContext<Map>) => void | Promise<void>;
}

interface ModuleDefinitionBase<Map extends EventMap> {
  readonly name: string;
  readonly version: string;
  /** Event types this module receives. */
  readonly subscribe: readonly EventTypeOf<Map>[];
  /** Event types this module may publish; omitted = any type of the catalogue. */
  readonly publishes?: readonly EventTypeOf<Map>[];
  /** Mailbox capacity; default the node's (100). */
  readonly mailboxCapacity?: number;
  /** Capacity of the priority lane (critical and membership events); default 100. */
  readonly priorityCapacity?: number;
  readonly restart?: ModuleRestartPolicy;
  /** Time the module gets to stop before it is killed. Default the node's. */
  readonly shutdownTimeoutMs?: number;
  /** Event filtering by criteria: events it declines are counted as `filtered`, never enqueued. */
  readonly filter?: (event: EventOf<Map>) => boolean;
}

/** A module whose handler is given directly (state in closures is shared by all incarnations). */
export interface HandlerModuleDefinition<Map extends EventMap = NodeEventMap> extends ModuleDefinitionBase<Map> {
  /** Runs at every (re)start, before the module subscribes. */
  readonly setup?: (ctx: ModuleContext<Map>) => void | Promise<void>;
  readonly handle: (event: EventOf<Map>, ctx: ModuleContext<Map>) => void | Promise<void>;
  readonly stop?: (ctx: ModuleContext<Map>) => void | Promise<void>;
}

/** A module with fresh state per incarnation: `create` runs at every (re)start. */
export interface FactoryModuleDefinition<Map extends EventMap = NodeEventMap> extends ModuleDefinitionBase<Map> {
  readonly create: (ctx: ModuleContext<Map>) => ModuleHandlers<Map> | Promise<ModuleHandlers<Map>>;
}

/**
 * A module that is an xstate v5 machine: every event it receives is sent to the machine (events
 * are `{ type, payload }`, so they are machine events as they are); a machine that errors is a
 * crash of the module; every (re)start runs a fresh machine.
 */
export interface MachineModuleDefinition<Map extends EventMap = NodeEventMap> extends ModuleDefinitionBase<Map> {
  readonly machine: AnyStateMachine;
  /** The machine's input; a function gets the module context (to publish from actions). */
  readonly input?: (ctx: ModuleContext<Map>) => unknown;
  /** Called with each snapshot (for observation and tests). */
  readonly onSnapshot?: (snapshot: SnapshotFrom<AnyStateMachine>, ctx: ModuleContext<Map>) => void;
}

/** An in-process module, as given to {@link defineModule}. */
export type ModuleSpec<Map extends EventMap = NodeEventMap> =
  | HandlerModuleDefinition<Map>
  | FactoryModuleDefinition<Map>
  | MachineModuleDefinition<Map>;

/** A validated in-process module definition. */
export type ModuleDefinition<Map extends EventMap = NodeEventMap> = ModuleSpec<Map> & { readonly kind: 'in-process' };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Defines an in-process module. Checks the definition at once and throws a `ModactorError` naming
 * the bad field.
 *
 * @example
 * ```ts
 * const indexer = defineModule({
 *   name: 'indexer', version: '1.0.0',
 *   subscribe: [EventType.NewBlock, EventType.ModuleLoaded],
 *   handle(event, ctx) { if (event.type === 'NewBlock') ctx.log.info({ height: event.payload.height }); },
 * });
 * ```
 */
export function defineModule<Map extends EventMap = NodeEventMap>(spec: ModuleSpec<NoInfer<Map>>): ModuleDefinition<Map> {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new ModactorError('invalid-argument', `Invalid module definition: ${field}: expected ${expected}, got ${describeValue(got)}`, {
      issues: [issue(field, expected, describeValue(got))],
    });
  };
  if (typeof spec.name !== 'string' || !NAME.test(spec.name)) bad('name', 'a name of letters, digits, ".", "_" or "-" (max 64)', spec.name);
  if (typeof spec.version !== 'string' || spec.version.length === 0) bad('version', 'a non-empty string', spec.version);
  if (!Array.isArray(spec.subscribe)) bad('subscribe', 'an array of event types', spec.subscribe);
  if (spec.mailboxCapacity !== undefined && (!Number.isSafeInteger(spec.mailboxCapacity) || spec.mailboxCapacity < 1)) {
    bad('mailboxCapacity', 'a positive integer', spec.mailboxCapacity);
  }
  const kinds = [
    typeof (spec as Partial<HandlerModuleDefinition<Map>>).handle === 'function',
    typeof (spec as Partial<FactoryModuleDefinition<Map>>).create === 'function',
    typeof (spec as Partial<MachineModuleDefinition<Map>>).machine === 'object',
  ].filter(Boolean).length;
  if (kinds !== 1) bad('handle', 'exactly one of handle(event, ctx), create(ctx) or machine', kinds === 0 ? undefined : 'several');
  return Object.freeze({ ...spec, kind: 'in-process' as const });
}

/** Resolves the handlers of one incarnation. @internal */
export async function handlersOf<Map extends EventMap>(
  definition: ModuleSpec<Map>,
  ctx: ModuleContext<Map>,
): Promise<ModuleHandlers<Map>> {
  if ('create' in definition) return definition.create(ctx);
  if ('machine' in definition) return machineHandlers(definition, ctx);
  await definition.setup?.(ctx);
  const stop = definition.stop;
  return stop === undefined ? { handle: definition.handle } : { handle: definition.handle, stop };
}

function machineHandlers<Map extends EventMap>(definition: MachineModuleDefinition<Map>, ctx: ModuleContext<Map>): ModuleHandlers<Map> {
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
