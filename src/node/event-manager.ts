import type { ActorSystem } from '../kernel/system.js';
import type { ActorRef, BehaviorObject } from '../kernel/behavior.js';
import type { Failure } from '../kernel/supervision.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import { offeredCount, pendingCount, type DeliveryStats, type PublishReceipt } from './delivery-stats.js';
import type { EventRouter, ModuleIncarnation } from './event-router.js';
import { lifecycleEvent, type LifecycleEventMap } from './lifecycle-events.js';

/** Messages of the EventManager actor. @internal */
export type EventManagerMessage<Map extends EventMap> =
  | {
      readonly kind: 'subscribe';
      readonly incarnation: ModuleIncarnation<Map>;
      readonly types: readonly string[];
      readonly reply: (added: string[]) => void;
    }
  | { readonly kind: 'unsubscribe'; readonly name: string; readonly types: readonly string[] | undefined; readonly reply: () => void }
  | { readonly kind: 'announce'; readonly incarnation: ModuleIncarnation<Map>; readonly reply: (announced: boolean) => void }
  | {
      readonly kind: 'gone';
      readonly incarnation: ModuleIncarnation<Map>;
      readonly crash: Failure | null;
      readonly reply: (wasAnnounced: boolean) => void;
    }
  | { readonly kind: 'stats'; readonly name: string; readonly reply: (stats: DeliveryStats | undefined) => void }
  | { readonly kind: 'all-stats'; readonly reply: (stats: Map_<string, DeliveryStats>) => void }
  | { readonly kind: 'reset'; readonly name: string; readonly reply: () => void }
  | { readonly kind: 'subscribers'; readonly type: string; readonly reply: (names: string[]) => void }
  | { readonly kind: 'announced'; readonly reply: (names: string[]) => void };

type Map_<K, V> = globalThis.Map<K, V>;

/** An announced (loaded) module, in announcement order. */
interface Announced<Map extends EventMap> {
  readonly incarnation: ModuleIncarnation<Map>;
}

/**
 * The EventManager actor: owns the subscriptions and the announcement registry (the loaded
 * modules, in the order they were announced). Every change to them happens in one of its turns,
 * so "subscribe, then replay every announced module" and "announce, then publish ModuleLoaded"
 * can never interleave: a newcomer sees each other module's ModuleLoaded exactly once, by replay
 * or live.
 *
 * @internal
 */
export function eventManagerBehavior<Map extends EventMap>(router: EventRouter<Map>): BehaviorObject<EventManagerMessage<Map>> {
  const announced: Announced<Map>[] = [];
  const lifecycle = (type: keyof LifecycleEventMap, payload: object): EventOf<Map> =>
    lifecycleEvent(type, payload) as unknown as EventOf<Map>;

  return {
    receive(message) {
      switch (message.kind) {
        case 'subscribe': {
          const { incarnation } = message;
          if (!incarnation.ref.isAlive) {
            message.reply([]);
            return;
          }
          const added = router.subscribe(incarnation, message.types);
          if (added.includes('ModuleLoaded')) {
            // Replay: every other announced module, once, in announcement order.
            for (const other of announced) {
              if (other.incarnation.name === incarnation.name) continue;
              const event = lifecycle('ModuleLoaded', { moduleName: other.incarnation.name, version: other.incarnation.version });
              if (router.offer(incarnation, event) === 'closed') {
                router.removeIncarnation(incarnation);
                break;
              }
            }
          }
          message.reply(added);
          return;
        }
        case 'unsubscribe':
          router.unsubscribe(message.name, message.types);
          message.reply();
          return;
        case 'announce': {
          const { incarnation } = message;
          if (!incarnation.ref.isAlive || announced.some((a) => a.incarnation.name === incarnation.name)) {
            message.reply(false);
            return;
          }
          announced.push({ incarnation });
          router.publish(lifecycle('ModuleLoaded', { moduleName: incarnation.name, version: incarnation.version }));
          message.reply(true);
          return;
        }
        case 'gone': {
          const { incarnation } = message;
          // Whatever this incarnation had queued or in hand is lost with its mailbox.
          const lost = incarnation.enqueued - incarnation.settled;
          if (lost > 0) {
            incarnation.stats.lostOnCrash += lost;
            incarnation.settled += lost;
          }
          router.removeIncarnation(incarnation);
          const index = announced.findIndex((a) => a.incarnation === incarnation);
          if (index < 0) {
            message.reply(false);
            return;
          }
          announced.splice(index, 1);
          if (message.crash !== null) {
            router.publish(lifecycle('ModuleCrashed', { moduleName: incarnation.name, error: message.crash.message }));
          }
          router.publish(lifecycle('ModuleUnloaded', { moduleName: incarnation.name, version: incarnation.version }));
          message.reply(true);
          return;
        }
        case 'stats': {
          const stats = router.getStats(message.name);
          message.reply(stats === undefined ? undefined : { ...stats });
          return;
        }
        case 'all-stats': {
          const all = new Map<string, DeliveryStats>();
          for (const [name, stats] of router.allStats()) all.set(name, { ...stats });
          message.reply(all);
          return;
        }
        case 'reset':
          router.resetStats(message.name);
          message.reply();
          return;
        case 'subscribers':
          message.reply(router.subscribers(message.type));
          return;
        case 'announced':
          message.reply(announced.map((a) => a.incarnation.name));
          return;
      }
    },
  };
}

/**
 * The EventManager as node code and tests use it: `publish` is synchronous and never blocks;
 * the queries go through the actor's mailbox.
 */
export interface EventManager<Map extends EventMap> {
  /**
   * Validates `event` (throws `unknown-event-type`, `invalid-payload` or `invalid-event`, delivering
   * nothing) and offers it to every subscriber without waiting. Returns the receipt.
   */
  publish(event: EventOf<Map>): PublishReceipt;
  /** Subscribes a loaded module to more types (idempotent; a new ModuleLoaded subscription replays). */
  subscribe(moduleId: string, eventTypes: readonly string[]): Promise<void>;
  /** Unsubscribes a module from `eventTypes`, or from everything. */
  unsubscribe(moduleId: string, eventTypes?: readonly string[]): Promise<void>;
  getDeliveryStats(moduleId: string): Promise<DeliveryStats | undefined>;
  getAllDeliveryStats(): Promise<Map_<string, DeliveryStats>>;
  resetDeliveryStats(moduleId: string): Promise<void>;
  getSubscribers(eventType: string): Promise<string[]>;
  /** Announced (loaded) modules in announcement order. */
  getLoadedModules(): Promise<string[]>;
}

/** @internal */
export function eventManagerFacade<Map extends EventMap>(
  system: ActorSystem,
  ref: ActorRef<EventManagerMessage<Map>>,
  router: EventRouter<Map>,
  subscribe: (moduleId: string, eventTypes: readonly string[]) => Promise<void>,
): EventManager<Map> {
  const ask = <R>(build: (reply: (value: R) => void) => EventManagerMessage<Map>): Promise<R> => system.ask(ref, build);
  return {
    publish(event) {
      return router.publish(router.catalogue.validate(event));
    },
    subscribe,
    unsubscribe: (name, types) => ask<void>((reply) => ({ kind: 'unsubscribe', name, types, reply })),
    getDeliveryStats: (name) => ask((reply) => ({ kind: 'stats', name, reply })),
    getAllDeliveryStats: () => ask((reply) => ({ kind: 'all-stats', reply })),
    resetDeliveryStats: (name) => ask<void>((reply) => ({ kind: 'reset', name, reply })),
    getSubscribers: (type) => ask((reply) => ({ kind: 'subscribers', type, reply })),
    getLoadedModules: () => ask((reply) => ({ kind: 'announced', reply })),
  };
}

export { offeredCount, pendingCount };
