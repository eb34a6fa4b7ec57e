import type { ActorSystem } from '../kernel/system.js';
import type { ActorRef, BehaviorObject } from '../kernel/behavior.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import { offeredCount, pendingCount, type DeliveryStats, type PublishReceipt } from './delivery-stats.js';
import type { EventRouter, ModuleIncarnation } from './event-router.js';

/** Messages of the EventManager actor. @internal */
export type EventManagerMessage<E extends EventMap> =
  | {
      readonly kind: 'subscribe';
      readonly incarnation: ModuleIncarnation<E>;
      readonly types: readonly string[];
      readonly reply: (added: string[]) => void;
    }
  | { readonly kind: 'unsubscribe'; readonly name: string; readonly types: readonly string[] | undefined; readonly reply: () => void }
  | { readonly kind: 'announce'; readonly incarnation: ModuleIncarnation<E>; readonly reply: (announced: boolean) => void }
  | {
      readonly kind: 'gone';
      readonly incarnation: ModuleIncarnation<E>;
      /** The crash's description, or null for a stop. */
      readonly crash: string | null;
      readonly reply: (wasAnnounced: boolean) => void;
    }
  | { readonly kind: 'stats'; readonly name: string; readonly reply: (stats: DeliveryStats | undefined) => void }
  | { readonly kind: 'all-stats'; readonly reply: (stats: Map<string, DeliveryStats>) => void }
  | { readonly kind: 'reset'; readonly name: string; readonly reply: () => void }
  | { readonly kind: 'subscribers'; readonly type: string; readonly reply: (names: string[]) => void }
  | { readonly kind: 'announced'; readonly reply: (names: string[]) => void }
  | { readonly kind: 'published'; readonly reply: (counts: Map<string, number>) => void }
  | { readonly kind: 'fault'; readonly error: unknown };

/**
 * The EventManager actor: owns the router's subscriptions and its announcement registry (the
 * loaded modules, in the order they were announced). Every change to them happens in one of its turns,
 * so "subscribe, then replay every announced module" and "announce, then publish ModuleLoaded"
 * can never interleave: a newcomer sees each other module's ModuleLoaded exactly once, by replay
 * or live.
 *
 * @internal
 */
export function eventManagerBehavior<E extends EventMap>(router: EventRouter<E>): BehaviorObject<EventManagerMessage<E>> {
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
          if (added.includes('ModuleLoaded')) router.replayTo(incarnation);
          message.reply(added);
          return;
        }
        case 'unsubscribe':
          router.unsubscribe(message.name, message.types);
          message.reply();
          return;
        case 'announce':
          message.reply(router.announce(message.incarnation));
          return;
        case 'gone':
          message.reply(router.retire(message.incarnation, message.crash));
          return;
        case 'stats':
          message.reply(statsSnapshot(router, message.name));
          return;
        case 'all-stats':
          message.reply(allStatsSnapshot(router));
          return;
        case 'reset':
          router.resetStats(message.name);
          message.reply();
          return;
        case 'subscribers':
          message.reply(router.subscribers(message.type));
          return;
        case 'announced':
          message.reply(router.announcedNames());
          return;
        case 'published':
          message.reply(new Map(router.publishedCounts()));
          return;
        case 'fault':
          // Only the node's internal fault hook sends this: a failure of this actor, for tests.
          throw message.error;
      }
    },
  };
}

function statsSnapshot<E extends EventMap>(router: EventRouter<E>, name: string): DeliveryStats | undefined {
  const stats = router.getStats(name);
  return stats === undefined ? undefined : { ...stats };
}

function allStatsSnapshot<E extends EventMap>(router: EventRouter<E>): Map<string, DeliveryStats> {
  const all = new Map<string, DeliveryStats>();
  for (const [name, stats] of router.allStats()) all.set(name, { ...stats });
  return all;
}

/**
 * The EventManager as node code and tests use it: `publish` is synchronous and never blocks;
 * the queries go through the actor's mailbox.
 */
export interface EventManager<E extends EventMap> {
  /**
   * Validates `event` (throws `unknown-event-type`, `invalid-payload` or `invalid-event`, delivering
   * nothing; `node-shutting-down` once the node's shutdown began; `node-failed` after a node actor
   * failed), stamps it (`meta.source` = `node`, `meta.seq`, `meta.time`) and offers a frozen copy
   * to every subscriber without waiting. Returns the receipt.
   */
  publish(event: EventOf<E>): PublishReceipt;
  /** Subscribes a loaded module to more types (idempotent; a new ModuleLoaded subscription replays). */
  subscribe(moduleId: string, eventTypes: readonly string[]): Promise<void>;
  /** Unsubscribes a module from `eventTypes`, or from everything. */
  unsubscribe(moduleId: string, eventTypes?: readonly string[]): Promise<void>;
  getDeliveryStats(moduleId: string): Promise<DeliveryStats | undefined>;
  getAllDeliveryStats(): Promise<Map<string, DeliveryStats>>;
  resetDeliveryStats(moduleId: string): Promise<void>;
  getSubscribers(eventType: string): Promise<string[]>;
  /** Announced (loaded) modules in announcement order. */
  getLoadedModules(): Promise<string[]>;
  /** Accepted events so far, by type (whether or not anyone subscribed). */
  getPublishedCounts(): Promise<Map<string, number>>;
  /**
   * On a node with a store: resolves once every event accepted before the call is on disk (and
   * the modules' positions and statistics as of the call are saved): those events are
   * acknowledged, no crash loses them. Rejects with `store-failed` when some could not be made
   * durable (they are counted in `node.status().store.notDurable`; publishing goes on), and with
   * `invalid-argument` on a node without a store.
   */
  flush(): Promise<void>;
}

/** @internal */
export function eventManagerFacade<E extends EventMap>(
  system: ActorSystem,
  ref: ActorRef<EventManagerMessage<E>>,
  router: EventRouter<E>,
  node: Pick<EventManager<E>, 'publish' | 'subscribe' | 'unsubscribe' | 'flush'> & {
    /** Rejects when the node failed: queries then answer with the error instead of asking a dead actor. */
    readonly failure: () => Error | null;
  },
): EventManager<E> {
  // Queries go through the actor; once it stopped (after shutdown) they read the final state.
  const ask = <R>(build: (reply: (value: R) => void) => EventManagerMessage<E>, after: () => R): Promise<R> => {
    const failure = node.failure();
    if (failure !== null) return Promise.reject(failure);
    return ref.isAlive ? system.ask(ref, build) : Promise.resolve(after());
  };
  return {
    publish: node.publish,
    subscribe: node.subscribe,
    unsubscribe: node.unsubscribe,
    flush: node.flush,
    getDeliveryStats: (name) => ask((reply) => ({ kind: 'stats', name, reply }), () => statsSnapshot(router, name)),
    getAllDeliveryStats: () => ask((reply) => ({ kind: 'all-stats', reply }), () => allStatsSnapshot(router)),
    resetDeliveryStats: (name) => ask<void>((reply) => ({ kind: 'reset', name, reply }), () => router.resetStats(name)),
    getSubscribers: (type) => ask((reply) => ({ kind: 'subscribers', type, reply }), () => router.subscribers(type)),
    getLoadedModules: () => ask((reply) => ({ kind: 'announced', reply }), () => router.announcedNames()),
    getPublishedCounts: () => ask((reply) => ({ kind: 'published', reply }), () => new Map(router.publishedCounts())),
  };
}

export { offeredCount, pendingCount };
