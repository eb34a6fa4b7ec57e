import { getInitialSnapshot, getNextSnapshot, type SnapshotFrom } from 'xstate';
import type { ActorContext, ActorRef, BehaviorFactory } from '../kernel/behavior.js';
import { ModactorError } from '../kernel/errors.js';
import type { ActorSystem } from '../kernel/system.js';
import type { ExitReason, Failure, RestartType, SupervisorOptions } from '../kernel/supervision.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import type { EventManagerMessage } from './event-manager.js';
import type { EventRouter, ModuleIncarnation } from './event-router.js';
import { lifecycleEvent, type LifecycleEventMap } from './lifecycle-events.js';
import { moduleLifecycleMachine, type ModuleLifecycleEvent, type ModuleState } from './module-lifecycle.js';
import { Barrier, moduleInstanceBehavior, type InstanceReport, type ModuleServices } from './module-instance.js';
import type { ModuleDefinition, ModuleRestartPolicy } from './module.js';
import type { ModuleHealth } from '../events/node-catalogue.js';

/**
 * Anything the supervisor can load: an in-process module from `defineModule`, or a module that
 * brings its own instance behaviour (process and worker modules).
 */
export interface LoadableModule<E extends EventMap = EventMap> {
  readonly name: string;
  readonly version: string;
  readonly subscribe: readonly string[];
  readonly mailboxCapacity?: number;
  readonly priorityCapacity?: number;
  readonly restart?: ModuleRestartPolicy;
  readonly shutdownTimeoutMs?: number;
  /** Builds the actor behaviour of this module's incarnations (process and worker hosts). */
  readonly instanceBehavior?: (services: ModuleServices<E>) => BehaviorFactory<unknown>;
}

/** A module as the supervisor reports it. */
export interface ModuleInfo {
  readonly name: string;
  readonly version: string;
  readonly state: ModuleState;
  readonly health: ModuleHealth;
  /** Restarts after crashes so far. */
  readonly restarts: number;
  readonly instanceId: string | null;
  /** Events queued in the current incarnation's mailbox (0 when none runs). */
  readonly queued: number;
}

/** Messages of the ModuleSupervisor actor. @internal */
export type SupervisorMessage<E extends EventMap> =
  | InstanceReport<E>
  | { readonly kind: 'load'; readonly module: LoadableModule<E>; readonly reply: (result: ModuleInfo | ModactorError) => void }
  | { readonly kind: 'unload'; readonly name: string; readonly reply: (result: ModuleInfo | ModactorError) => void }
  | {
      readonly kind: 'reload';
      readonly name: string;
      readonly module: LoadableModule<E> | undefined;
      readonly reply: (result: ModuleInfo | ModactorError) => void;
    }
  | {
      readonly kind: 'subscribe-module';
      readonly name: string;
      readonly types: readonly string[];
      readonly unsubscribe: boolean;
      readonly reply: (result: undefined | ModactorError) => void;
    }
  | { readonly kind: 'shutdown'; readonly reason: string; readonly timeoutSeconds: number; readonly reply: () => void }
  | { readonly kind: 'modules'; readonly reply: (modules: ModuleInfo[]) => void };

interface ModuleRecord<E extends EventMap> {
  module: LoadableModule<E>;
  readonly host: ActorRef<unknown>;
  readonly restartType: RestartType;
  current: ModuleIncarnation<E> | null;
  /**
   * Where the module is in its lifecycle: a snapshot of the lifecycle machine, advanced with the
   * machine's pure transition (no actor per module: ~0.5 KB instead of ~3.8 KB).
   */
  lifecycle: SnapshotFrom<typeof moduleLifecycleMachine>;
  health: ModuleHealth;
  restarts: number;
  stopping: boolean;
  /** The current incarnation finished subscribing. */
  subscribed: boolean;
  /** Subscriptions added from outside (node.events.subscribe): kept across restarts. */
  readonly extraTypes: Set<string>;
  /** Called once the module is announced (or gives up). */
  waiters: ((result: ModuleInfo | ModactorError) => void)[];
}

/** What the supervisor needs from its node. @internal */
export interface SupervisorDeps<E extends EventMap> {
  readonly system: ActorSystem;
  readonly router: EventRouter<E>;
  readonly eventManager: ActorRef<EventManagerMessage<E>>;
  readonly services: Omit<ModuleServices<E>, 'report'>;
  readonly defaultShutdownTimeoutMs: number;
}

/** A module's priority-lane capacity when it sets none (ModuleDefinition.priorityCapacity). @internal */
export const DEFAULT_PRIORITY_CAPACITY = 100;
/** A module's restart policy where it sets none (ModuleRestartPolicy): 3 restarts within 10 s. @internal */
export const DEFAULT_RESTART_POLICY = { type: 'permanent', maxRestarts: 3, withinMs: 10_000 } as const;

/**
 * The ModuleSupervisor actor: loads modules (each under a host actor that applies the module's
 * own restart policy), runs every incarnation's startup (subscribe and replay, then announce),
 * watches every incarnation and publishes ModuleCrashed / ModuleUnloaded when one dies, tracks
 * lifecycle and health, and runs unload, reload and the graceful shutdown. @internal
 */
export function moduleSupervisorBehavior<E extends EventMap>(deps: SupervisorDeps<E>): BehaviorFactory<SupervisorMessage<E>> {
  return {
    create(ctx) {
      const records = new Map<string, ModuleRecord<E>>();
      const { system, router, eventManager } = deps;
      const services: ModuleServices<E> = {
        ...deps.services,
        report: (message) => {
          ctx.self.tell(message);
        },
      };
      const publish = <K extends keyof LifecycleEventMap>(type: K, payload: LifecycleEventMap[K]): void => {
        router.publish(lifecycleEvent(type, payload) as unknown as EventOf<E>);
      };
      const askEm = <R>(build: (reply: (value: R) => void) => EventManagerMessage<E>): Promise<R> =>
        system.ask(eventManager, build, { timeoutMs: 60_000 });

      const info = (name: string, record: ModuleRecord<E>): ModuleInfo => ({
        name,
        version: record.module.version,
        state: record.lifecycle.value as ModuleState,
        health: record.health,
        restarts: record.restarts,
        instanceId: record.current?.ref.incarnation ?? null,
        queued: record.current?.ref.queued ?? 0,
      });

      const setHealth = (name: string, record: ModuleRecord<E>, health: ModuleHealth): void => {
        if (record.health === health) return;
        const oldHealth = record.health;
        record.health = health;
        publish('ModuleHealthChanged', { moduleName: name, oldHealth, newHealth: health });
      };

      const settle = (name: string, record: ModuleRecord<E>, result: ModuleInfo | ModactorError): void => {
        const waiters = record.waiters;
        record.waiters = [];
        for (const waiter of waiters) waiter(result);
        void name;
      };

      const recordOf = (incarnation: ModuleIncarnation<E>): ModuleRecord<E> | undefined => {
        const record = records.get(incarnation.name);
        return record !== undefined && record.current === incarnation ? record : undefined;
      };

      const spawnModule = (module: LoadableModule<E>, extraTypes: Iterable<string> = []): ModuleRecord<E> => {
        const policy = module.restart ?? {};
        const supervision: SupervisorOptions = {
          strategy: 'one-for-one',
          maxRestarts: policy.maxRestarts ?? DEFAULT_RESTART_POLICY.maxRestarts,
          withinMs: policy.withinMs ?? DEFAULT_RESTART_POLICY.withinMs,
          ...(policy.backoff === undefined ? {} : { backoff: policy.backoff }),
        };
        const restartType = policy.type ?? DEFAULT_RESTART_POLICY.type;
        const instance =
          module.instanceBehavior?.(services) ?? moduleInstanceBehavior(module as unknown as ModuleDefinition<E>, services);
        const shutdownTimeoutMs = module.shutdownTimeoutMs ?? deps.defaultShutdownTimeoutMs;
        const host = ctx.spawn<unknown>(
          {
            create: (hostCtx) => {
              hostCtx.spawn(instance, {
                name: 'instance',
                restart: restartType,
                shutdownTimeoutMs,
                ...(module.mailboxCapacity === undefined ? {} : { mailboxCapacity: module.mailboxCapacity }),
                priorityCapacity: module.priorityCapacity ?? DEFAULT_PRIORITY_CAPACITY,
              });
              return { receive: () => undefined };
            },
          },
          { name: module.name, supervision, shutdownTimeoutMs: shutdownTimeoutMs + 1000 },
        );
        ctx.watch(host);
        const record: ModuleRecord<E> = {
          module,
          host,
          restartType,
          current: null,
          lifecycle: getInitialSnapshot(moduleLifecycleMachine),
          health: 'healthy',
          restarts: 0,
          stopping: false,
          subscribed: false,
          extraTypes: new Set(extraTypes),
          waiters: [],
        };
        records.set(module.name, record);
        return record;
      };

      const transition = (record: ModuleRecord<E>, event: ModuleLifecycleEvent['type']): void => {
        const oldState = record.lifecycle.value as ModuleState;
        record.lifecycle = getNextSnapshot(moduleLifecycleMachine, record.lifecycle, { type: event });
        const newState = record.lifecycle.value as ModuleState;
        if (newState !== oldState) publish('ModuleStateChanged', { moduleName: record.module.name, oldState, newState });
      };

      /** Stops a module's host (and so its incarnation) and publishes its unload. */
      const stopModule = async (name: string, record: ModuleRecord<E>): Promise<void> => {
        record.stopping = true;
        transition(record, 'STOP');
        ctx.unwatch(record.host);
        await ctx.stop(record.host);
        const incarnation = record.current;
        if (incarnation !== null) {
          ctx.unwatch(incarnation.ref);
          await askEm<boolean>((reply) => ({ kind: 'gone', incarnation, crash: null, reply }));
        }
        transition(record, 'STOPPED');
        publish('ModuleStopped', { moduleName: name });
        records.delete(name);
        settle(name, record, new ModactorError('module-startup-failed', `Module "${name}" was stopped before it finished starting`));
      };

      const onStartup = async (incarnation: ModuleIncarnation<E>, types: readonly string[]): Promise<void> => {
        const record = recordOf(incarnation);
        if (record === undefined || !incarnation.ref.isAlive) return;
        transition(record, 'HANDSHAKE');
        const all = [...types, ...record.extraTypes];
        await askEm<string[]>((reply) => ({ kind: 'subscribe', incarnation, types: all, reply }));
        record.subscribed = recordOf(incarnation) === record;
        const announced = await askEm<boolean>((reply) => ({ kind: 'announce', incarnation, reply }));
        if (!announced || recordOf(incarnation) !== record) return;
        transition(record, 'ANNOUNCED');
        publish('ModuleStarted', { moduleName: incarnation.name });
        setHealth(incarnation.name, record, 'healthy');
        settle(incarnation.name, record, info(incarnation.name, record));
      };

      const onInstanceTerminated = async (record: ModuleRecord<E>, incarnation: ModuleIncarnation<E>, reason: ExitReason): Promise<void> => {
        const crash: Failure | null = reason.kind === 'failed' || reason.kind === 'killed' ? reason.failure : null;
        await askEm<boolean>((reply) => ({ kind: 'gone', incarnation, crash, reply }));
        if (record.stopping) return;
        transition(record, 'CRASH');
        setHealth(incarnation.name, record, 'degraded');
        if (record.restartType === 'temporary' || (crash === null && record.restartType === 'transient')) {
          await giveUp(incarnation.name, record, crash);
        }
      };

      const giveUp = async (name: string, record: ModuleRecord<E>, crash: Failure | null): Promise<void> => {
        if (records.get(name) !== record) return;
        record.stopping = true;
        ctx.unwatch(record.host);
        await ctx.stop(record.host);
        transition(record, 'GIVE_UP');
        setHealth(name, record, 'unhealthy');
        records.delete(name);
        settle(
          name,
          record,
          new ModactorError('module-startup-failed', `Module "${name}" stopped for good: ${crash?.message ?? 'not restarted'}`),
        );
      };

      const barrier = (incarnation: ModuleIncarnation<E>, timeoutMs: number): Promise<void> =>
        new Promise((resolve) => {
          const timer = system.scheduler.setTimer(timeoutMs, resolve);
          const done = (): void => {
            timer.cancel();
            resolve();
          };
          if (incarnation.ref.tellPriority(new Barrier(done)) !== 'enqueued') done();
          void system.whenTerminated(incarnation.ref).then(done);
        });

      return {
        async receive(message) {
          switch (message.kind) {
            case 'load': {
              const { module } = message;
              if (records.has(module.name)) {
                message.reply(new ModactorError('duplicate-module', `Expected a module name not yet loaded, got "${module.name}" twice`));
                return;
              }
              spawnModule(module).waiters.push(message.reply);
              return;
            }
            case 'instance-started': {
              const record = records.get(message.incarnation.name);
              if (record === undefined || record.stopping) return;
              const restarted = record.current !== null;
              record.current = message.incarnation;
              record.subscribed = false;
              ctx.watch(message.incarnation.ref);
              if (restarted) {
                record.restarts++;
                transition(record, 'RESTART');
              }
              return;
            }
            case 'handshake':
              await onStartup(message.incarnation, message.types);
              return;
            case 'subscribe': {
              if (recordOf(message.incarnation) === undefined) return;
              const { incarnation, types } = message;
              await askEm<string[]>((reply) => ({ kind: 'subscribe', incarnation, types, reply }));
              return;
            }
            case 'unsubscribe': {
              if (recordOf(message.incarnation) === undefined) return;
              const { incarnation, types } = message;
              await askEm<void>((reply) => ({ kind: 'unsubscribe', name: incarnation.name, types, reply }));
              return;
            }
            case 'subscribe-module': {
              const record = records.get(message.name);
              if (record === undefined) {
                message.reply(new ModactorError('unknown-module', `Expected a loaded module, got "${message.name}"`));
                return;
              }
              const { types } = message;
              for (const type of types) {
                if (message.unsubscribe) record.extraTypes.delete(type);
                else record.extraTypes.add(type);
              }
              // Until the incarnation has subscribed, its handshake will include these types.
              const incarnation = record.current;
              if (incarnation !== null && record.subscribed) {
                await (message.unsubscribe
                  ? askEm<void>((reply) => ({ kind: 'unsubscribe', name: incarnation.name, types, reply }))
                  : askEm<string[]>((reply) => ({ kind: 'subscribe', incarnation, types, reply })));
              }
              message.reply(undefined);
              return;
            }
            case 'health': {
              const record = recordOf(message.incarnation);
              if (record !== undefined) setHealth(message.incarnation.name, record, message.health);
              return;
            }
            case 'unload': {
              const record = records.get(message.name);
              if (record === undefined) {
                message.reply(new ModactorError('unknown-module', `Expected a loaded module, got "${message.name}"`));
                return;
              }
              const last = info(message.name, record);
              await stopModule(message.name, record);
              message.reply({ ...last, state: 'stopped' });
              return;
            }
            case 'reload': {
              const record = records.get(message.name);
              if (record === undefined) {
                message.reply(new ModactorError('unknown-module', `Expected a loaded module, got "${message.name}"`));
                return;
              }
              const next = message.module ?? record.module;
              if (next.name !== message.name) {
                message.reply(new ModactorError('invalid-argument', `Expected a module named "${message.name}", got "${next.name}"`));
                return;
              }
              const oldVersion = record.module.version;
              await stopModule(message.name, record);
              // A reload keeps the subscriptions added from outside, like a restart does.
              spawnModule(next, record.extraTypes).waiters.push((result) => {
                if (!(result instanceof ModactorError)) {
                  publish('ModuleReloaded', { moduleName: next.name, oldVersion, newVersion: next.version });
                }
                message.reply(result);
              });
              return;
            }
            case 'modules':
              message.reply([...records].map(([name, record]) => info(name, record)));
              return;
            case 'shutdown': {
              const started = ctx.now();
              publish('NodeShutdown', { reason: message.reason, timeoutSeconds: message.timeoutSeconds });
              // Every module gets its shutdown timeout to take NodeShutdown (priority lane) ...
              await Promise.all(
                [...records.values()].map((record) =>
                  record.current === null
                    ? Promise.resolve()
                    : barrier(record.current, record.module.shutdownTimeoutMs ?? deps.defaultShutdownTimeoutMs),
                ),
              );
              // ... then modules stop in reverse load order.
              for (const [name, record] of [...records].reverse()) await stopModule(name, record);
              publish('NodeShutdownCompleted', { durationMs: Math.max(0, ctx.now() - started) });
              message.reply();
              return;
            }
          }
        },
        onTerminated(target, reason) {
          for (const [name, record] of records) {
            if (record.host === target) return giveUp(name, record, reason.kind === 'failed' || reason.kind === 'killed' ? reason.failure : null);
            if (record.current !== null && record.current.ref === target) return onInstanceTerminated(record, record.current, reason);
          }
          return undefined;
        },
      };
    },
  };
}

/** Hosts that exceeded their module's restart intensity are stopped, never restarted. @internal */
export const moduleSupervisorOptions: SupervisorOptions = {
  strategy: 'one-for-one',
  decide: () => 'stop',
};

export type { ActorContext };
