import type { ActorContext, ActorRef, BehaviorFactory } from '../kernel/behavior.js';
import { ModactorError } from '../kernel/errors.js';
import { describeThrown, errorForLog } from '../kernel/foreign.js';
import type { ActorSystem } from '../kernel/system.js';
import type { TimerHandle } from '../kernel/scheduler.js';
import type { ExitReason, Failure, RestartType, SupervisorOptions } from '../kernel/supervision.js';
import type { EventMap } from '../events/catalogue.js';
import type { EventManagerMessage } from './event-manager.js';
import type { EventRouter, ModuleIncarnation } from './event-router.js';
import type { LifecycleEventMap } from './lifecycle-events.js';
import { nextModuleState, type ModuleLifecycleEvent, type ModuleState } from './module-lifecycle.js';
import { Barrier, type InstanceReport, type ModuleServices } from './module-instance.js';
import type { ModuleRestartPolicy, ReplayOption } from './module.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { NormalizedModule } from './loadable.js';

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
  /** Membership events it may hold past its routine bound. Default 1000. */
  readonly membershipCapacity?: number;
  readonly restart?: ModuleRestartPolicy;
  readonly shutdownTimeoutMs?: number;
  /** Replay of the durable events it missed, on a node with a store (see `defineModule`). */
  readonly replay?: ReplayOption;
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
  | { readonly kind: 'load'; readonly module: NormalizedModule<E>; readonly reply: (result: ModuleInfo | ModactorError) => void }
  | { readonly kind: 'unload'; readonly name: string; readonly reply: (result: ModuleInfo | ModactorError) => void }
  | {
      readonly kind: 'reload';
      readonly name: string;
      readonly module: NormalizedModule<E> | undefined;
      readonly reply: (result: ModuleInfo | ModactorError) => void;
    }
  | {
      readonly kind: 'subscribe-module';
      readonly name: string;
      readonly types: readonly string[];
      readonly unsubscribe: boolean;
      readonly reply: (result: undefined | ModactorError) => void;
    }
  | { readonly kind: 'overflow'; readonly incarnation: ModuleIncarnation<E> }
  /** An actor of `record`'s module began its first turn (each incarnation, before anything of its own). */
  | { readonly kind: 'cell'; readonly record: ModuleRecord<E>; readonly ref: ActorRef<unknown> }
  | { readonly kind: 'health-window'; readonly name: string }
  | {
      readonly kind: 'shutdown';
      readonly reason: string;
      readonly timeoutMs: number;
      readonly reply: (result: ShutdownResult) => void;
    }
  | { readonly kind: 'modules'; readonly reply: (modules: ModuleInfo[]) => void }
  | { readonly kind: 'fault'; readonly error: unknown };

/** What a graceful shutdown did. @internal */
export interface ShutdownResult {
  /** Modules that did not stop within the deadline and were killed. */
  readonly killed: readonly string[];
}

interface ModuleRecord<E extends EventMap> {
  module: NormalizedModule<E>;
  current: ModuleIncarnation<E> | null;
  /** Where the module is in its lifecycle, advanced by the lifecycle machine's transitions. */
  lifecycle: ModuleState;
  health: ModuleHealth;
  /** The coalescing window, once a change was published (most modules never change health). */
  healthWindow: HealthWindow | null;
  restarts: number;
  /** `restarts` when this load began (the count continues across loads and node restarts with a store). */
  readonly restartsAtLoad: number;
  stopping: boolean;
  /** The current incarnation finished subscribing. */
  subscribed: boolean;
  /** Subscriptions added from outside (node.events.subscribe): kept across restarts. */
  extraTypes: Set<string> | null;
  /** Called once the module is announced (or gives up). */
  waiters: ((result: ModuleInfo | ModactorError) => void)[] | null;
}

/** Health changes of one module: at most one published per interval, the others coalesced. */
interface HealthWindow {
  /** Until when no other change is published. */
  quietUntil: number;
  /** Health reported while the window was closed, published when it reopens. */
  pending: ModuleHealth | null;
  timer: TimerHandle | null;
}

/** What the supervisor needs from its node. @internal */
export interface SupervisorDeps<E extends EventMap> {
  readonly system: ActorSystem;
  readonly router: EventRouter<E>;
  readonly eventManager: ActorRef<EventManagerMessage<E>>;
  /** What module incarnations get from the node (their reports come to this supervisor). */
  readonly services: ModuleServices<E>;
  /** Shortest time between two `ModuleHealthChanged` of one module (later reports coalesce). */
  readonly healthIntervalMs: number;
  /** Restarts a module name had before this load (kept by the node's store across node restarts). */
  readonly restartsOf?: (name: string) => number;
}

/** A module's priority-lane capacity when it sets none (ModuleDefinition.priorityCapacity). @internal */
export const DEFAULT_PRIORITY_CAPACITY = 100;
export { DEFAULT_RESTART_POLICY } from './loadable.js';

/**
 * The ModuleSupervisor actor: loads modules (each under a host actor that applies the module's
 * own restart policy), runs every incarnation's startup (subscribe and replay, then announce),
 * watches every incarnation and publishes ModuleCrashed / ModuleUnloaded when one dies, tracks
 * lifecycle and health, and runs unload, reload and the graceful shutdown. It never runs module
 * code: modules arrive normalized (read once, validated) and their code runs in their own actors.
 * @internal
 */
export function moduleSupervisor<E extends EventMap>(deps: SupervisorDeps<E>): {
  readonly behavior: BehaviorFactory<SupervisorMessage<E>>;
  readonly supervision: SupervisorOptions;
} {
  // Modules spawned for a load (or reload) whose first incarnation has not yet been announced. A
  // failure there is a failure to start, answered to the caller, never restarted as a crash (as an
  // OTP supervisor's start_child answers an init that fails).
  const starting = new Set<string>();
  // The failure each module's actor is being stopped or restarted for, until its end is handled: a
  // host killed at its stop timeout meanwhile still crashed of it.
  const failing = new Map<string, Failure>();
  const supervision: SupervisorOptions = {
    strategy: 'one-for-one',
    decide: (failure, child) => {
      failing.set(child.name, failure);
      return starting.has(child.name) ? 'stop' : 'restart';
    },
    // A crash is logged once, below, as `module crashed` with the module's binding.
    logFailures: false,
  };
  const behavior: BehaviorFactory<SupervisorMessage<E>> = {
    create(ctx) {
      const records = new Map<string, ModuleRecord<E>>();
      /** The module of each actor watched since its first turn, until it ended. */
      const cells = new Map<ActorRef<unknown>, ModuleRecord<E>>();
      const { system, router, eventManager, services } = deps;
      const publish = <K extends keyof LifecycleEventMap>(type: K, payload: LifecycleEventMap[K]): void => {
        router.publishNode(type, payload);
      };
      const askEm = <R>(build: (reply: (value: R) => void) => EventManagerMessage<E>): Promise<R> =>
        system.ask(eventManager, build, { timeoutMs: 60_000 });
      const moduleLog = (name: string) => ctx.log.child({ module: name });

      const info = (name: string, record: ModuleRecord<E>): ModuleInfo => ({
        name,
        version: record.module.version,
        state: record.lifecycle,
        health: record.health,
        restarts: record.restarts,
        instanceId: record.current?.ref.incarnation ?? null,
        queued: record.current?.ref.queued ?? 0,
      });

      // ---- Health: coalesced, at most one ModuleHealthChanged per module per interval ----------
      const publishHealth = (name: string, record: ModuleRecord<E>, health: ModuleHealth): void => {
        if (record.health === health) return;
        const oldHealth = record.health;
        record.health = health;
        (record.healthWindow ??= { quietUntil: 0, pending: null, timer: null }).quietUntil = ctx.now() + deps.healthIntervalMs;
        publish('ModuleHealthChanged', { moduleName: name, oldHealth, newHealth: health });
      };
      const setHealth = (name: string, record: ModuleRecord<E>, health: ModuleHealth): void => {
        const window = record.healthWindow;
        if (window === null || (ctx.now() >= window.quietUntil && window.timer === null)) {
          if (window !== null) window.pending = null;
          publishHealth(name, record, health);
          return;
        }
        window.pending = health;
        window.timer ??= ctx.scheduleOnce(Math.max(0, window.quietUntil - ctx.now()), { kind: 'health-window', name });
      };
      const healthWindow = (name: string): void => {
        const window = records.get(name)?.healthWindow;
        if (window === null || window === undefined) return;
        window.timer = null;
        const pending = window.pending;
        window.pending = null;
        if (pending !== null) publishHealth(name, records.get(name) as ModuleRecord<E>, pending);
      };
      const closeHealthWindow = (record: ModuleRecord<E>): void => {
        record.healthWindow?.timer?.cancel();
        if (record.healthWindow !== null) record.healthWindow.timer = null;
      };

      const settle = (record: ModuleRecord<E>, result: ModuleInfo | ModactorError): void => {
        const waiters = record.waiters;
        record.waiters = null;
        for (const waiter of waiters ?? []) waiter(result);
      };
      const onSettled = (record: ModuleRecord<E>, waiter: (result: ModuleInfo | ModactorError) => void): void => {
        (record.waiters ??= []).push(waiter);
      };

      const recordOf = (incarnation: ModuleIncarnation<E>): ModuleRecord<E> | undefined => {
        const record = records.get(incarnation.name);
        return record !== undefined && record.current === incarnation ? record : undefined;
      };

      /** Spawns a module's host; a failure to build it (foreign code) is a typed refusal. */
      const spawnModule = (module: NormalizedModule<E>, extraTypes: Iterable<string> = []): ModuleRecord<E> | ModactorError => {
        const restartsBefore = deps.restartsOf?.(module.name) ?? 0;
        const record: ModuleRecord<E> = {
          module,
          current: null,
          lifecycle: 'loading',
          health: 'healthy',
          healthWindow: null,
          restarts: restartsBefore,
          restartsAtLoad: restartsBefore,
          stopping: false,
          subscribed: false,
          extraTypes: null,
          waiters: null,
        };
        try {
          const instance = module.instanceBehavior?.(services) ?? module;
          // One actor per module, a child of this supervisor with the module's own restart policy:
          // the kernel restarts it alone, and past its intensity stops it for good. Each incarnation
          // says so first: one that fails before it reports (a host whose create or start throws)
          // is watched too, and ends as a crash or a failed start, never unseen.
          const reported: BehaviorFactory<unknown> = {
            create: (actx) => {
              ctx.self.tell({ kind: 'cell', record, ref: actx.self });
              return instance.create(actx);
            },
          };
          ctx.spawn<unknown>(reported, module);
        } catch (error) {
          // Foreign code building the behaviour, or options the kernel refused: a typed refusal.
          return new ModactorError('module-startup-failed', `Module "${module.name}" could not be started: ${describeThrown(error)}`, {
            cause: error,
          });
        }
        for (const type of extraTypes) (record.extraTypes ??= new Set()).add(type);
        failing.delete(module.name); // what a previous load of the name left (stopped before its end was handled)
        records.set(module.name, record);
        starting.add(module.name);
        return record;
      };

      const transition = (record: ModuleRecord<E>, event: ModuleLifecycleEvent['type']): void => {
        const oldState = record.lifecycle;
        const newState = nextModuleState(oldState, event);
        record.lifecycle = newState;
        if (newState !== oldState) publish('ModuleStateChanged', { moduleName: record.module.name, oldState, newState });
      };

      /** Stops a module's actor and publishes its unload. Returns whether it was killed. */
      const stopModule = async (name: string, record: ModuleRecord<E>, timeoutMs?: number): Promise<boolean> => {
        record.stopping = true;
        closeHealthWindow(record);
        transition(record, 'STOP');
        const incarnation = record.current;
        if (incarnation !== null) {
          ctx.unwatch(incarnation.ref);
          cells.delete(incarnation.ref);
        }
        const exit = await ctx.stopChild(name, timeoutMs);
        if (incarnation !== null) {
          await askEm<boolean>((reply) => ({ kind: 'gone', incarnation, crash: null, reply }));
        }
        transition(record, 'STOPPED');
        publish('ModuleStopped', { moduleName: name });
        records.delete(name);
        starting.delete(name);
        settle(record, new ModactorError('module-startup-failed', `Module "${name}" was stopped before it finished starting`));
        const killed = exit?.kind === 'killed';
        if (killed) moduleLog(name).warn({ timeoutMs }, 'module did not stop in time: killed');
        else moduleLog(name).info('module unloaded');
        return killed;
      };

      const onStartup = async (incarnation: ModuleIncarnation<E>, types: readonly string[]): Promise<void> => {
        const record = recordOf(incarnation);
        if (record === undefined || !incarnation.ref.isAlive) return;
        transition(record, 'HANDSHAKE');
        const all = record.extraTypes === null ? types : [...types, ...record.extraTypes];
        await askEm<string[]>((reply) => ({ kind: 'subscribe', incarnation, types: all, reply }));
        record.subscribed = recordOf(incarnation) === record;
        const announced = await askEm<boolean>((reply) => ({ kind: 'announce', incarnation, reply }));
        if (!announced || recordOf(incarnation) !== record) return;
        transition(record, 'ANNOUNCED');
        starting.delete(incarnation.name);
        publish('ModuleStarted', { moduleName: incarnation.name });
        setHealth(incarnation.name, record, 'healthy');
        if (record.restarts === record.restartsAtLoad) moduleLog(incarnation.name).info({ version: incarnation.version }, 'module loaded');
        else moduleLog(incarnation.name).info({ restarts: record.restarts }, 'module restarted');
        settle(record, info(incarnation.name, record));
      };

      /**
       * An actor of the module ended: its incarnation (announced to the event manager, which retires
       * it), or null for one that failed before it reported (its host's create or start threw).
       */
      const onInstanceTerminated = async (record: ModuleRecord<E>, incarnation: ModuleIncarnation<E> | null, reason: ExitReason): Promise<void> => {
        const name = record.module.name;
        const failure: Failure | null = reason.kind === 'failed' || reason.kind === 'killed' ? reason.failure : null;
        const failedFirst = failing.get(name);
        failing.delete(name);
        // Past its restart intensity the kernel stopped it for good: its crash is the last failure.
        // Killed at its stop timeout while it stopped for a failure: that failure is its crash.
        const exceeded = failure?.kind === 'intensity-exceeded';
        const killedAfter = failure?.kind === 'stop-timeout' ? failedFirst : undefined;
        const crash = failure?.kind === 'intensity-exceeded' ? failure.cause : (killedAfter ?? failure);
        if (crash !== null && !record.stopping) {
          const cause = crash.kind === 'thrown' || crash.kind === 'rejected' ? crash.error : crash.message;
          const killed = killedAfter === undefined ? {} : { killed: (failure as Failure).message };
          moduleLog(name).warn({ err: errorForLog(cause), ...killed }, 'module crashed');
        }
        if (incarnation !== null) {
          await askEm<boolean>((reply) => ({ kind: 'gone', incarnation, crash: crash === null ? null : crash.message, reply }));
        }
        if (record.stopping) return;
        transition(record, 'CRASH');
        setHealth(name, record, 'degraded');
        const restartType: RestartType = record.module.policy.type;
        if (starting.has(name)) {
          // Its first start failed: the caller gets the failure, nothing is retried.
          await giveUp(name, record, crash, 'failed to start');
        } else if (exceeded || reason.kind === 'stopped' || restartType === 'temporary' || (crash === null && restartType === 'transient')) {
          // Past its intensity, or stopped from outside the node (`stopped`): the kernel does not restart it.
          await giveUp(name, record, failure, 'stopped for good');
        }
      };

      const giveUp = async (name: string, record: ModuleRecord<E>, crash: Failure | null, outcome: string): Promise<void> => {
        if (records.get(name) !== record) return;
        record.stopping = true;
        await ctx.stopChild(name);
        transition(record, 'GIVE_UP');
        closeHealthWindow(record);
        publishHealth(name, record, 'unhealthy');
        records.delete(name);
        starting.delete(name);
        const reason = crash?.message ?? 'not restarted';
        moduleLog(name).warn({ reason }, `module ${outcome}`);
        const cause = crash?.kind === 'thrown' || crash?.kind === 'rejected' ? crash.error : crash;
        settle(record, new ModactorError('module-startup-failed', `Module "${name}" ${outcome}: ${reason}`, { cause }));
      };

      /** Resolves once `incarnation` took what was sent before this barrier in its priority lane, or at `deadline`. */
      const barrier = (incarnation: ModuleIncarnation<E>, deadline: number): Promise<void> =>
        new Promise((resolve) => {
          const timer = system.scheduler.setTimer(Math.max(0, deadline - ctx.now()), resolve);
          const done = (): void => {
            timer.cancel();
            resolve();
          };
          if (incarnation.ref.tellPriority(new Barrier(done)) !== 'enqueued') done();
          void system.whenTerminated(incarnation.ref).then(done);
        });

      /**
       * The graceful shutdown, within ONE deadline for all modules: NodeShutdown (critical), every
       * module given until the deadline to take it, then modules stopped in reverse load order, each
       * with what is left of the deadline; stragglers are killed and counted.
       */
      const shutdown = async (reason: string, timeoutMs: number): Promise<ShutdownResult> => {
        const started = ctx.now();
        const deadline = started + timeoutMs;
        publish('NodeShutdown', { reason, timeoutSeconds: Math.ceil(timeoutMs / 1000) });
        await Promise.all(
          [...records.values()].map((record) => (record.current === null ? Promise.resolve() : barrier(record.current, deadline))),
        );
        const killed: string[] = [];
        for (const [name, record] of [...records].reverse()) {
          if (await stopModule(name, record, Math.max(0, deadline - ctx.now()))) killed.push(name);
        }
        publish('NodeShutdownCompleted', { durationMs: Math.max(0, ctx.now() - started) });
        if (killed.length > 0) ctx.log.warn({ killed }, 'modules killed at the shutdown deadline');
        return { killed };
      };

      return {
        async receive(message) {
          switch (message.kind) {
            case 'load': {
              const { module } = message;
              if (records.has(module.name)) {
                message.reply(new ModactorError('duplicate-module', `Expected a module name not yet loaded, got "${module.name}" twice`));
                return;
              }
              const record = spawnModule(module);
              if (record instanceof ModactorError) message.reply(record);
              else onSettled(record, message.reply);
              return;
            }
            case 'instance-started': {
              const record = records.get(message.incarnation.name);
              if (record === undefined || record.stopping) return;
              const restarted = record.current !== null;
              record.current = message.incarnation;
              record.subscribed = false;
              if (restarted) {
                record.restarts++;
                transition(record, 'RESTART');
              }
              return;
            }
            case 'cell':
              if (records.get(message.record.module.name) !== message.record || message.record.stopping) return;
              cells.set(message.ref, message.record);
              ctx.watch(message.ref);
              return;
            case 'handshake':
              await onStartup(message.incarnation, message.types);
              return;
            case 'subscribe': {
              if (recordOf(message.incarnation) === undefined) return;
              const { incarnation } = message;
              const types = message.types.filter((type) => router.catalogue.has(type));
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
                // Unsubscribing a module that is not loaded changes nothing (as in the original).
                message.reply(message.unsubscribe ? undefined : new ModactorError('unknown-module', `Expected a loaded module, got "${message.name}"`));
                return;
              }
              const { types } = message;
              for (const type of types) {
                if (message.unsubscribe) record.extraTypes?.delete(type);
                else (record.extraTypes ??= new Set()).add(type);
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
            case 'overflow': {
              const record = recordOf(message.incarnation);
              if (record === undefined) return;
              moduleLog(message.incarnation.name).warn(
                { membershipCapacity: message.incarnation.reserveCapacity },
                'membership events dropped: the module does not take its events',
              );
              setHealth(message.incarnation.name, record, 'unhealthy');
              return;
            }
            case 'health-window':
              healthWindow(message.name);
              return;
            case 'unload': {
              const record = records.get(message.name);
              if (record === undefined) {
                message.reply(new ModactorError('unknown-module', `Expected a loaded module, got "${message.name}"`));
                return;
              }
              const last = info(message.name, record);
              await stopModule(message.name, record);
              message.reply({ ...last, state: 'stopped', queued: 0 });
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
              const reloaded = spawnModule(next, record.extraTypes ?? []);
              if (reloaded instanceof ModactorError) {
                message.reply(reloaded);
                return;
              }
              onSettled(reloaded, (result) => {
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
            case 'shutdown':
              message.reply(await shutdown(message.reason, message.timeoutMs));
              return;
            case 'fault':
              // Only the node's internal fault hook sends this: a failure of this actor, for tests.
              throw message.error;
          }
        },
        onTerminated(target, reason) {
          const owner = cells.get(target);
          cells.delete(target);
          const record = records.get(target.name);
          if (record === undefined) return undefined;
          if (record.current?.ref === target) return onInstanceTerminated(record, record.current, reason);
          // An actor of the module that ended before it reported its incarnation.
          if (owner === record && !record.stopping) return onInstanceTerminated(record, null, reason);
          return undefined;
        },
      };
    },
  };
  return { behavior, supervision };
}

export type { ActorContext };
