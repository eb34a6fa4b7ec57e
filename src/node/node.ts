import type { Logger } from 'pino';
import type { ActorRef } from '../kernel/behavior.js';
import { createActorSystem, DEFAULT_SHUTDOWN_TIMEOUT_MS, type ActorSystem } from '../kernel/system.js';
import type { Scheduler } from '../kernel/scheduler.js';
import { DEFAULT_MAILBOX_CAPACITY } from '../kernel/mailbox.js';
import { ModactorError } from '../kernel/errors.js';
import { describeExit } from '../kernel/supervision.js';
import type { Catalogue, EventMap, EventOf } from '../events/catalogue.js';
import { nodeCatalogue, type NodeEventMap } from '../events/node-catalogue.js';
import { isReservedEventType } from '../events/reserved-event-types.js';
import { isCriticalEvent } from '../events/priority.js';
import { createEventPublisher, type EventPublisher } from './event-publisher.js';
import type { PublishReceipt } from './delivery-stats.js';
import { EventRouter, NODE_SOURCE } from './event-router.js';
import { eventManagerBehavior, eventManagerFacade, type EventManager, type EventManagerMessage } from './event-manager.js';
import {
  DEFAULT_PRIORITY_CAPACITY,
  moduleSupervisor,
  type LoadableModule,
  type ModuleInfo,
  type ShutdownResult,
  type SupervisorMessage,
} from './module-supervisor.js';
import { normalizeModule, type ModuleDefaults } from './loadable.js';
import type { ModuleServices } from './module-instance.js';
import type { LifecycleEventMap } from './lifecycle-events.js';
import { NodeStore, type NodeStoreOptions, type NodeStoreStatus } from './durable.js';

/** Default shortest time between two `ModuleHealthChanged` of one module. */
export const DEFAULT_HEALTH_INTERVAL_MS = 1000;
/** What `shutdown()` may take beyond the shutdown timeout: killing stragglers and stopping the node's actors. */
export const SHUTDOWN_MARGIN_MS = 1000;

/** Options of {@link createNode}. */
export interface NodeOptions<E extends EventMap = NodeEventMap> {
  /** A pino logger; default silent. */
  readonly logger?: Logger;
  /** Real (default) or simulated scheduler. */
  readonly scheduler?: Scheduler;
  /** Mailbox capacity of modules that do not set their own. Default 100. */
  readonly defaultMailboxCapacity?: number;
  /**
   * The one deadline of a graceful shutdown: every module gets until then to take NodeShutdown and
   * stop; stragglers are killed. Also a module's own stop timeout when it does not set one.
   * Default 5000 ms.
   */
  readonly shutdownTimeoutMs?: number;
  /** Shortest time between two `ModuleHealthChanged` of one module; reports in between coalesce. Default 1000 ms. */
  readonly healthIntervalMs?: number;
  /** The event catalogue; default the bundled node catalogue. Must contain the lifecycle family. */
  readonly catalogue?: Catalogue<E>;
  /** Which events take the priority lane. Default: NodeShutdown and DataMaintenance with urgency high. */
  readonly isCritical?: (event: EventOf<E>) => boolean;
  /**
   * Durable events: an append-only event log and the node's saved state in `store.dir`. Every
   * accepted event except the reserved types (or `store.durableTypes`) is appended; modules with
   * `replay` keep their position; delivery statistics, restart counts and health history survive
   * a restart. The store opens in the background: `load`, `start` and `events.flush` wait for it,
   * and events published before it is open are refused (`node-not-ready`). See `docs/durability.md`.
   */
  readonly store?: NodeStoreOptions;
}

/** Where a node is: `running` (loads and publishes), `shutting-down`, `stopped`, or `failed` (a node actor failed). */
export type NodeState = 'running' | 'shutting-down' | 'stopped' | 'failed';

/** A node's state at a glance (for readiness checks). */
export interface NodeStatus {
  readonly state: NodeState;
  /** True once `start()` published NodeStartupCompleted. */
  readonly started: boolean;
  /** Why the node failed, when it did. */
  readonly failure?: string;
  /** The node's store, when it has one: `degraded` while events cannot be made durable. */
  readonly store?: NodeStoreStatus;
  /** Once a shutdown completed: the modules it killed at its deadline (empty when all stopped in time). */
  readonly killedAtShutdown?: readonly string[];
}

/** A node: the host that loads modules. */
export interface ModactorNode<E extends EventMap = NodeEventMap> {
  readonly system: ActorSystem;
  readonly scheduler: Scheduler;
  /** The EventManager: publish, subscriptions, delivery statistics. */
  readonly events: EventManager<E>;
  /** One typed helper per catalogue event (bundled node catalogue). */
  readonly publisher: EventPublisher<PublishReceipt>;
  /**
   * Loads a module; resolves once its startup completed and its ModuleLoaded was published. The
   * definition is read once and checked here: a bad one rejects with a typed error.
   */
  load(module: LoadableModule<E>): Promise<ModuleInfo>;
  /** Unloads a module: stopped within its timeout, ModuleUnloaded published. */
  unload(name: string): Promise<ModuleInfo>;
  /** Replaces a module by a new definition (or restarts it as is); publishes ModuleReloaded. */
  reload(name: string, module?: LoadableModule<E>): Promise<ModuleInfo>;
  /** The loaded modules with their state, health, restarts and queue depth. */
  modules(): Promise<ModuleInfo[]>;
  /**
   * Marks the node's startup complete: publishes `NodeStartupCompleted` (once; later calls do
   * nothing) with the time since the node was created and the modules loaded so far, so modules
   * loaded at startup receive it. Call it after loading the modules the node starts with.
   */
  start(): Promise<void>;
  /** Where the node is, synchronously. */
  status(): NodeStatus;
  /**
   * Graceful shutdown within `shutdownTimeoutMs` (plus a small margin), whatever the modules do:
   * NodeShutdown through the priority lane, every module given until the one deadline to take it,
   * modules stopped in reverse load order, stragglers killed, NodeShutdownCompleted, and the actor
   * system stopped. Once it began, publishes from outside the modules are refused
   * (`node-shutting-down`); modules may publish until they stop. Also completes after a failure.
   */
  shutdown(reason?: string): Promise<void>;
}


/** What layers above the node (a bus, a store) reach of it: its actors and its router. @internal */
export interface NodeInternals {
  readonly events: ActorRef<never>;
  readonly modules: ActorRef<never>;
  readonly router: EventRouter<EventMap>;
}

const internals = new WeakMap<object, NodeInternals>();

/** The internals of a node made by {@link createNode}. @internal */
export function nodeInternals(node: object): NodeInternals {
  const found = internals.get(node);
  if (found === undefined) throw new ModactorError('invalid-argument', 'Expected a node made by createNode');
  return found;
}

/**
 * Fails one of a node's own actors as if a bug had thrown in its turn: for tests of the node's
 * fail-stop behaviour only (nothing outside can reach a node actor otherwise). @internal
 */
export function injectNodeFault(node: ModactorNode<never> | ModactorNode, actor: 'events' | 'modules', error: unknown): void {
  (nodeInternals(node)[actor] as ActorRef<{ kind: 'fault'; error: unknown }>).tellPriority({ kind: 'fault', error });
}

/**
 * Creates a node.
 *
 * @example
 * ```ts
 * const node = createNode();
 * await node.load(defineModule({ name: 'indexer', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} }));
 * await node.start();
 * node.publisher.newBlock('ab'.repeat(32), 1);
 * await node.shutdown();
 * ```
 */
export function createNode<E extends EventMap = NodeEventMap>(options: NodeOptions<E> = {}): ModactorNode<E> {
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const system = createActorSystem({
    ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.defaultMailboxCapacity === undefined ? {} : { defaultMailboxCapacity: options.defaultMailboxCapacity }),
    shutdownTimeoutMs: shutdownTimeoutMs + 2 * SHUTDOWN_MARGIN_MS,
  });
  const createdAt = system.scheduler.now();
  const catalogue = (options.catalogue ?? nodeCatalogue) as unknown as Catalogue<E>;
  for (const type of ['ModuleLoaded', 'ModuleUnloaded', 'ModuleCrashed'] satisfies (keyof LifecycleEventMap)[]) {
    if (!catalogue.has(type)) {
      throw new ModactorError('invalid-argument', `Expected the node's catalogue to contain the lifecycle family, missing "${String(type)}"`);
    }
  }
  let state: NodeState = 'running';
  let started = false;
  let failure: ModactorError | null = null;
  const refusal = (): ModactorError | null => {
    if (failure !== null) return failure;
    if (state !== 'running') return new ModactorError('node-shutting-down', `The node is ${state}: publishes from outside its modules are refused`);
    return null;
  };

  // Set once the supervisor exists (the router reports overflows to it).
  let supervisorRef: ActorRef<SupervisorMessage<E>> | null = null;
  const router = new EventRouter<E>({
    catalogue,
    isCritical: options.isCritical ?? isCriticalEvent,
    now: () => system.scheduler.now(),
    onOverflow: (incarnation) => supervisorRef?.tell({ kind: 'overflow', incarnation }),
  });
  // The store opens in the background; until it is open, untrusted events are refused.
  const store =
    options.store === undefined
      ? null
      : new NodeStore<E>(options.store, {
          router,
          catalogue,
          scheduler: system.scheduler,
          logger: system.logger,
          onFailed: (error) => {
            if (state === 'stopped' || failure !== null) return;
            state = 'failed';
            failure = new ModactorError('node-failed', `The node failed: ${error.message}; shut it down`, { cause: error });
          },
        });
  const storeReady = async (): Promise<void> => {
    if (store === null) return;
    try {
      await store.opened;
    } catch {
      throw failure ?? new ModactorError('node-failed', 'The node failed: its store could not be opened');
    }
  };

  // The node's own actors are not restarted: a failure of one is the node's (fail-stop, below).
  const controlCapacity = 100_000;
  const eventManager = system.spawn<EventManagerMessage<E>>(eventManagerBehavior(router), {
    name: 'events',
    mailboxCapacity: controlCapacity,
    restart: 'temporary',
    shutdownTimeoutMs: SHUTDOWN_MARGIN_MS,
  });

  const publishFrom = (source: string, permitted: ReadonlySet<string> | null, raw: unknown): PublishReceipt => {
    if (failure !== null) throw failure;
    const event = router.accept(raw, source);
    if (isReservedEventType(event.type)) {
      throw new ModactorError('not-permitted', `Module "${source}" may not publish ${event.type}: only the node publishes it`);
    }
    if (permitted !== null && !permitted.has(event.type)) {
      throw new ModactorError('not-permitted', `Module "${source}" may not publish ${event.type} (permitted: ${[...permitted].join(', ') || 'none'})`);
    }
    return router.route(event);
  };

  // What module incarnations get from the node; their reports go to the supervisor.
  const services: ModuleServices<E> = {
    router,
    publishFrom,
    report: (message) => {
      supervisorRef?.tell(message);
    },
  };
  const defaults: ModuleDefaults<E> = {
    catalogue,
    services,
    mailboxCapacity: options.defaultMailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY,
    priorityCapacity: DEFAULT_PRIORITY_CAPACITY,
    shutdownTimeoutMs,
  };

  const modules = moduleSupervisor<E>({
    system,
    router,
    eventManager,
    services,
    healthIntervalMs: options.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
    ...(store === null ? {} : { restartsOf: (name: string) => store.restartsOf(name) }),
  });
  const supervisor = system.spawn<SupervisorMessage<E>>(
    modules.behavior,
    {
      name: 'modules',
      mailboxCapacity: controlCapacity,
      supervision: modules.supervision,
      restart: 'temporary',
      shutdownTimeoutMs: SHUTDOWN_MARGIN_MS,
    },
  );
  supervisorRef = supervisor;

  // Fail-stop: a node actor that terminates outside a shutdown leaves the node failed, never a
  // node holding a dead reference.
  for (const ref of [eventManager, supervisor] as ActorRef<unknown>[]) {
    void system.whenTerminated(ref).then((reason) => {
      if (state === 'stopped' || state === 'shutting-down' || failure !== null) return;
      state = 'failed';
      failure = new ModactorError('node-failed', `The node failed: its actor ${ref.path} terminated (${describeExit(reason)}); shut it down`, {
        cause: reason,
      });
      system.logger.error({ actor: ref.path, reason: describeExit(reason) }, 'node actor terminated: the node failed');
    });
  }

  /** Throws unless the loaded modules may change: not after a failure, not once the shutdown began. */
  const checkChangesAllowed = (): void => {
    if (failure !== null) throw failure;
    if (state !== 'running') {
      throw new ModactorError('node-shutting-down', `The node is ${state}: loads, unloads, reloads and subscription changes are refused`);
    }
  };

  /** Asks the supervisor for a change of the loaded modules. */
  const askSupervisor = async <R>(build: (reply: (value: R | ModactorError) => void) => SupervisorMessage<E>): Promise<R> => {
    checkChangesAllowed();
    let result: R | ModactorError;
    try {
      result = await system.ask<R | ModactorError, SupervisorMessage<E>>(supervisor, build, { timeoutMs: 24 * 3600_000 });
    } catch (error) {
      throw failure ?? error;
    }
    if (result instanceof ModactorError) throw result;
    return result;
  };

  const changeSubscription = async (name: string, types: readonly string[], unsubscribe: boolean): Promise<void> => {
    const known = unsubscribe ? types.filter((type) => catalogue.has(type)) : types;
    if (!unsubscribe) {
      for (const type of types) {
        if (!catalogue.has(type)) throw new ModactorError('unknown-event-type', `Expected a known event type, got "${String(type)}"`);
      }
    }
    await askSupervisor<undefined>((reply) => ({ kind: 'subscribe-module', name, types: known, unsubscribe, reply }));
  };
  const publish = (raw: EventOf<E>): PublishReceipt => {
    const refused = refusal();
    if (refused !== null) throw refused;
    return router.route(router.accept(raw, NODE_SOURCE));
  };
  const events = eventManagerFacade(system, eventManager, router, {
    publish,
    subscribe: (name, types) => changeSubscription(name, types, false),
    unsubscribe: async (name, types) => {
      if (types !== undefined) return changeSubscription(name, types, true);
      if (failure !== null) throw failure;
      await system.ask<void, EventManagerMessage<E>>(eventManager, (reply) => ({ kind: 'unsubscribe', name, types, reply }));
    },
    failure: () => failure,
    flush: async () => {
      if (store === null) {
        throw new ModactorError('invalid-argument', 'Expected a node with a store to flush (createNode({ store: { dir } })), got one without');
      }
      if (failure !== null) throw failure;
      await store.flush();
    },
  });

  let shutdownPromise: Promise<void> | null = null;
  let killedAtShutdown: readonly string[] | undefined;
  const shutdown = async (reason: string): Promise<void> => {
    if (failure === null) {
      state = 'shutting-down';
      try {
        ({ killed: killedAtShutdown } = await system.ask<ShutdownResult, SupervisorMessage<E>>(
          supervisor,
          (reply) => ({ kind: 'shutdown', reason, timeoutMs: shutdownTimeoutMs, reply }),
          { timeoutMs: shutdownTimeoutMs + SHUTDOWN_MARGIN_MS },
        ));
      } catch (error) {
        // The supervisor did not answer in time (or failed): stopping the actor system below
        // kills what is left.
        system.logger.error({ err: error }, 'graceful shutdown did not complete: stopping what is left');
      }
    }
    await system.shutdown();
    // Whatever a forced stop left unsettled is counted lost: the law holds to the end.
    router.settleAll();
    // Then the last positions and statistics are saved, and the log flushed and closed.
    await store?.close();
    if (state !== 'failed') state = 'stopped';
  };

  const node: ModactorNode<E> = {
    system,
    scheduler: system.scheduler,
    events,
    publisher: createEventPublisher((event) => events.publish(event as unknown as EventOf<E>)),
    load: async (module) => {
      checkChangesAllowed();
      const normalized = normalizeModule(module, defaults);
      if (normalized.replay !== undefined && store === null) {
        throw new ModactorError('invalid-argument', `Expected a node with a store for module "${normalized.name}" (it asks for replay), got one without: createNode({ store: { dir } })`);
      }
      await storeReady();
      return askSupervisor<ModuleInfo>((reply) => ({ kind: 'load', module: normalized, reply }));
    },
    unload: (name) => askSupervisor<ModuleInfo>((reply) => ({ kind: 'unload', name, reply })),
    reload: async (name, module) => {
      const normalized = module === undefined ? undefined : normalizeModule(module, defaults);
      if (normalized?.replay !== undefined && store === null) {
        throw new ModactorError('invalid-argument', `Expected a node with a store for module "${name}" (it asks for replay), got one without: createNode({ store: { dir } })`);
      }
      return askSupervisor<ModuleInfo>((reply) => ({ kind: 'reload', name, module: normalized, reply }));
    },
    modules: async () => {
      if (failure !== null) throw failure;
      if (state === 'stopped') return []; // every module was unloaded
      try {
        return await system.ask<ModuleInfo[], SupervisorMessage<E>>(supervisor, (reply) => ({ kind: 'modules', reply }));
      } catch (error) {
        throw failure ?? error;
      }
    },
    start: async () => {
      if (failure !== null) throw failure;
      await storeReady();
      if (started) return;
      started = true;
      router.publishNode('NodeStartupCompleted', {
        durationMs: Math.max(0, system.scheduler.now() - createdAt),
        components: await events.getLoadedModules(),
      });
    },
    status: () => ({
      state,
      started,
      ...(failure === null ? {} : { failure: failure.message }),
      ...(store === null ? {} : { store: store.status() }),
      ...(killedAtShutdown === undefined || state !== 'stopped' ? {} : { killedAtShutdown }),
    }),
    shutdown(reason = 'requested') {
      shutdownPromise ??= shutdown(reason);
      return shutdownPromise;
    },
  };
  internals.set(node, { events: eventManager, modules: supervisor, router: router as unknown as EventRouter<EventMap> });
  return node;
}
