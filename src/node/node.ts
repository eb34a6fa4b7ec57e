import type { Logger } from 'pino';
import { createActorSystem, DEFAULT_SHUTDOWN_TIMEOUT_MS, type ActorSystem } from '../kernel/system.js';
import type { Scheduler } from '../kernel/scheduler.js';
import { ModactorError } from '../kernel/errors.js';
import type { Catalogue, EventMap, EventOf } from '../events/catalogue.js';
import { nodeCatalogue, type NodeEventMap } from '../events/node-catalogue.js';
import { isCriticalEvent } from '../events/priority.js';
import { createEventPublisher, type EventPublisher } from './event-publisher.js';
import type { PublishReceipt } from './delivery-stats.js';
import { EventRouter } from './event-router.js';
import { eventManagerBehavior, eventManagerFacade, type EventManager, type EventManagerMessage } from './event-manager.js';
import {
  moduleSupervisorBehavior,
  moduleSupervisorOptions,
  type LoadableModule,
  type ModuleInfo,
  type SupervisorMessage,
} from './module-supervisor.js';
import type { LifecycleEventMap } from './lifecycle-events.js';

/** Options of {@link createNode}. */
export interface NodeOptions<E extends EventMap = NodeEventMap> {
  /** A pino logger; default silent. */
  readonly logger?: Logger;
  /** Real (default) or simulated scheduler. */
  readonly scheduler?: Scheduler;
  /** Mailbox capacity of modules that do not set their own. Default 100. */
  readonly defaultMailboxCapacity?: number;
  /** Time a module gets to stop (and to take NodeShutdown) before it is killed. Default 5000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** The event catalogue; default the bundled node catalogue. Must contain the lifecycle family. */
  readonly catalogue?: Catalogue<E>;
  /** Which events take the priority lane. Default: NodeShutdown and DataMaintenance with urgency high. */
  readonly isCritical?: (event: EventOf<E>) => boolean;
}

/** A node: the host that loads modules. */
export interface ModactorNode<E extends EventMap = NodeEventMap> {
  readonly system: ActorSystem;
  readonly scheduler: Scheduler;
  /** The EventManager: publish, subscriptions, delivery statistics. */
  readonly events: EventManager<E>;
  /** One typed helper per catalogue event (bundled node catalogue). */
  readonly publisher: EventPublisher<PublishReceipt>;
  /** Loads a module; resolves once its startup completed and its ModuleLoaded was published. */
  load(module: LoadableModule<E>): Promise<ModuleInfo>;
  /** Unloads a module: stopped within its timeout, ModuleUnloaded published. */
  unload(name: string): Promise<ModuleInfo>;
  /** Replaces a module by a new definition (or restarts it as is); publishes ModuleReloaded. */
  reload(name: string, module?: LoadableModule<E>): Promise<ModuleInfo>;
  /** The loaded modules with their state, health and restarts. */
  modules(): Promise<ModuleInfo[]>;
  /**
   * Graceful shutdown: NodeShutdown through the priority lane, each module given its timeout,
   * then stopped in reverse load order, NodeShutdownCompleted, and the actor system stopped.
   */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Creates a node.
 *
 * @example
 * ```ts
 * const node = createNode();
 * await node.load(defineModule({ name: 'indexer', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} }));
 * node.publisher.newBlock('ab'.repeat(32), 1);
 * await node.shutdown();
 * ```
 */
export function createNode<E extends EventMap = NodeEventMap>(options: NodeOptions<E> = {}): ModactorNode<E> {
  const system = createActorSystem({
    ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.defaultMailboxCapacity === undefined ? {} : { defaultMailboxCapacity: options.defaultMailboxCapacity }),
    ...(options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs + 2000 }),
  });
  const catalogue = (options.catalogue ?? nodeCatalogue) as unknown as Catalogue<E>;
  for (const type of ['ModuleLoaded', 'ModuleUnloaded', 'ModuleCrashed'] satisfies (keyof LifecycleEventMap)[]) {
    if (!catalogue.has(type)) {
      throw new ModactorError('invalid-argument', `Expected the node's catalogue to contain the lifecycle family, missing "${String(type)}"`);
    }
  }
  const isCritical = options.isCritical ?? (isCriticalEvent);
  const router = new EventRouter<E>(catalogue, isCritical);
  const controlCapacity = 100_000;
  const eventManager = system.spawn<EventManagerMessage<E>>(eventManagerBehavior(router), {
    name: 'events',
    mailboxCapacity: controlCapacity,
  });

  const publishFrom = (source: string, permitted: ReadonlySet<string> | null, raw: unknown): PublishReceipt => {
    const event = catalogue.validate(raw);
    if (permitted !== null && !permitted.has(event.type)) {
      throw new ModactorError('not-permitted', `Module "${source}" may not publish ${event.type} (permitted: ${[...permitted].join(', ') || 'none'})`);
    }
    return router.publish(event);
  };

  const supervisor = system.spawn<SupervisorMessage<E>>(
    moduleSupervisorBehavior<E>({
      system,
      router,
      eventManager,
      services: { router, publishFrom },
      defaultShutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    }),
    { name: 'modules', mailboxCapacity: controlCapacity, supervision: moduleSupervisorOptions },
  );

  const askSupervisor = async <R>(build: (reply: (value: R | ModactorError) => void) => SupervisorMessage<E>): Promise<R> => {
    const result = await system.ask<R | ModactorError, SupervisorMessage<E>>(supervisor, build, { timeoutMs: 24 * 3600_000 });
    if (result instanceof ModactorError) throw result;
    return result;
  };

  const changeSubscription = async (name: string, types: readonly string[], unsubscribe: boolean): Promise<void> => {
    for (const type of types) {
      if (!catalogue.has(type)) throw new ModactorError('unknown-event-type', `Expected a known event type, got "${String(type)}"`);
    }
    await askSupervisor<undefined>((reply) => ({ kind: 'subscribe-module', name, types, unsubscribe, reply }));
  };
  const events = eventManagerFacade(system, eventManager, router, {
    subscribe: (name, types) => changeSubscription(name, types, false),
    unsubscribe: (name, types) =>
      types === undefined
        ? system.ask<void, EventManagerMessage<E>>(eventManager, (reply) => ({ kind: 'unsubscribe', name, types, reply }))
        : changeSubscription(name, types, true),
  });

  let shutdownPromise: Promise<void> | null = null;
  return {
    system,
    scheduler: system.scheduler,
    events,
    publisher: createEventPublisher((event) => events.publish(event as unknown as EventOf<E>)),
    load: (module) => askSupervisor<ModuleInfo>((reply) => ({ kind: 'load', module, reply })),
    unload: (name) => askSupervisor<ModuleInfo>((reply) => ({ kind: 'unload', name, reply })),
    reload: (name, module) => askSupervisor<ModuleInfo>((reply) => ({ kind: 'reload', name, module, reply })),
    modules: () => system.ask<ModuleInfo[], SupervisorMessage<E>>(supervisor, (reply) => ({ kind: 'modules', reply })),
    shutdown(reason = 'requested') {
      shutdownPromise ??= (async () => {
        const timeoutSeconds = Math.ceil((options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS) / 1000);
        await system.ask<void, SupervisorMessage<E>>(supervisor, (reply) => ({ kind: 'shutdown', reason, timeoutSeconds, reply }), {
          timeoutMs: 24 * 3600_000,
        });
        await system.shutdown();
      })();
      return shutdownPromise;
    },
  };
}
