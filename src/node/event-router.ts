import type { ActorRef } from '../kernel/behavior.js';
import type { OfferResult } from '../kernel/mailbox.js';
import type { Catalogue, EventMap, EventOf } from '../events/catalogue.js';
import { emptyStats, type DeliveryStats, type PublishReceipt } from './delivery-stats.js';
import { lifecycleEvent as membershipEvent } from './lifecycle-events.js';

/**
 * One incarnation of a module as the bus sees it: where its events go and what they cost.
 * @internal
 */
export interface ModuleIncarnation<E extends EventMap = EventMap> {
  readonly name: string;
  readonly version: string;
  /** The actor owning the module's bounded mailbox. */
  readonly ref: ActorRef<unknown>;
  /** Shared with every incarnation of this module name. */
  readonly stats: DeliveryStats;
  /** Events this module wants; others are counted as filtered. */
  readonly filter: ((event: EventOf<E>) => boolean) | undefined;
  /**
   * Checks that the event can cross this module's boundary (serialization for process modules).
   * Returns false to drop it for this module, counted as `serializationFailed`.
   */
  readonly admit: ((event: EventOf<E>) => boolean) | undefined;
  /** Enqueued into this incarnation's mailbox. */
  enqueued: number;
  /** Handled or failed on by this incarnation. */
  settled: number;
  /** Set once the incarnation terminated and its remaining events were counted as lost. */
  retired: boolean;
}

/**
 * Membership events travel in the priority lane like critical ones: a module that is busy with
 * routine traffic still learns of every load, crash and unload, in order.
 */
const MEMBERSHIP = new Set(['ModuleLoaded', 'ModuleCrashed', 'ModuleUnloaded']);

const NO_SUBSCRIBERS: PublishReceipt = Object.freeze({
  enqueued: 0,
  dropped: 0,
  failed: 0,
  filtered: 0,
  serializationFailed: 0,
});

/**
 * The routing table of the EventManager: subscriptions per event type, delivery stats per module
 * name, and the non-blocking offer path. Only the EventManager actor mutates subscriptions (in its
 * turns); publishing reads the table synchronously, so a publisher never waits on anyone.
 *
 * @internal
 */
export class EventRouter<E extends EventMap> {
  private readonly byType = new Map<string, ModuleIncarnation<E>[]>();
  private readonly byModule = new Map<string, { incarnation: ModuleIncarnation<E>; types: Set<string> }>();
  private readonly statsByName = new Map<string, DeliveryStats>();
  /** Announced (loaded) modules, in announcement order: the loaded-modules registry. */
  private readonly announced: ModuleIncarnation<E>[] = [];
  private readonly announcedName = new Set<string>();

  constructor(
    readonly catalogue: Catalogue<E>,
    private readonly isCritical: (event: EventOf<E>) => boolean,
  ) {}

  /** The stats record of a module name, created on first use and kept across restarts. */
  statsFor(name: string): DeliveryStats {
    let stats = this.statsByName.get(name);
    if (stats === undefined) {
      stats = emptyStats();
      this.statsByName.set(name, stats);
    }
    return stats;
  }

  getStats(name: string): DeliveryStats | undefined {
    return this.statsByName.get(name);
  }

  allStats(): ReadonlyMap<string, DeliveryStats> {
    return this.statsByName;
  }

  resetStats(name: string): void {
    const stats = this.statsByName.get(name);
    if (stats !== undefined) Object.assign(stats, emptyStats(), { incarnations: stats.incarnations });
  }

  /** The incarnation currently subscribed under `name`, if any. */
  current(name: string): ModuleIncarnation<E> | undefined {
    return this.byModule.get(name)?.incarnation;
  }

  /** Types `name` is subscribed to. */
  typesOf(name: string): ReadonlySet<string> {
    return this.byModule.get(name)?.types ?? new Set();
  }

  /**
   * Subscribes `incarnation` to `types`, idempotently per (module, type). Replaces a previous
   * incarnation of the same name. Returns the types that were newly added.
   */
  subscribe(incarnation: ModuleIncarnation<E>, types: Iterable<string>): string[] {
    let entry = this.byModule.get(incarnation.name);
    if (entry !== undefined && entry.incarnation !== incarnation) {
      this.remove(incarnation.name);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { incarnation, types: new Set() };
      this.byModule.set(incarnation.name, entry);
    }
    const added: string[] = [];
    for (const type of types) {
      if (entry.types.has(type)) continue;
      entry.types.add(type);
      added.push(type);
      const list = this.byType.get(type);
      if (list === undefined) this.byType.set(type, [incarnation]);
      else this.byType.set(type, [...list, incarnation]);
    }
    return added;
  }

  /** Unsubscribes `name` from `types` (all when omitted). */
  unsubscribe(name: string, types?: Iterable<string>): void {
    const entry = this.byModule.get(name);
    if (entry === undefined) return;
    for (const type of types ?? [...entry.types]) {
      if (entry.types.delete(type)) this.dropFromType(type, entry.incarnation);
    }
    if (types === undefined) this.byModule.delete(name);
  }

  /** Removes `name` from every subscription. */
  remove(name: string): void {
    this.unsubscribe(name);
  }

  /** Removes `incarnation` only if it is still the subscribed one. */
  removeIncarnation(incarnation: ModuleIncarnation<E>): void {
    if (this.byModule.get(incarnation.name)?.incarnation === incarnation) this.remove(incarnation.name);
  }

  /** Names of announced modules, in announcement order. */
  announcedNames(): string[] {
    return this.announced.map((i) => i.name);
  }

  /**
   * Replays `ModuleLoaded` of every other announced module to `incarnation`, once each, in
   * announcement order. Called when its ModuleLoaded subscription is new.
   */
  replayTo(incarnation: ModuleIncarnation<E>): void {
    for (const other of this.announced) {
      if (other.name === incarnation.name) continue;
      const event = membershipEvent('ModuleLoaded', { moduleName: other.name, version: other.version }) as EventOf<E>;
      if (this.offer(incarnation, event) === 'closed') {
        this.removeIncarnation(incarnation);
        return;
      }
    }
  }

  /**
   * Records `incarnation` as loaded and publishes its ModuleLoaded to every subscriber (itself
   * included). Returns false, doing nothing, when it is dead or its name is already announced.
   */
  announce(incarnation: ModuleIncarnation<E>): boolean {
    if (!incarnation.ref.isAlive || this.announcedName.has(incarnation.name)) return false;
    this.announced.push(incarnation);
    this.announcedName.add(incarnation.name);
    this.publish(membershipEvent('ModuleLoaded', { moduleName: incarnation.name, version: incarnation.version }) as EventOf<E>);
    return true;
  }

  /**
   * Settles a terminated incarnation: what it still held is counted as lost, it leaves every
   * subscription and, if it was announced, the registry, with ModuleCrashed (for a crash) and
   * ModuleUnloaded published. Idempotent. Returns whether it was announced.
   */
  retire(incarnation: ModuleIncarnation<E>, crash: string | null): boolean {
    if (!incarnation.retired) {
      // Whatever it still held, queued or in hand, is lost with its mailbox.
      incarnation.retired = true;
      incarnation.stats.lostOnCrash += incarnation.enqueued - incarnation.settled;
      incarnation.settled = incarnation.enqueued;
    }
    this.removeIncarnation(incarnation);
    const index = this.announced.indexOf(incarnation);
    if (index < 0) return false;
    this.announced.splice(index, 1);
    this.announcedName.delete(incarnation.name);
    if (crash !== null) {
      this.publish(membershipEvent('ModuleCrashed', { moduleName: incarnation.name, error: crash }) as EventOf<E>);
    }
    this.publish(membershipEvent('ModuleUnloaded', { moduleName: incarnation.name, version: incarnation.version }) as EventOf<E>);
    return true;
  }

  /** Module names subscribed to `type`, in subscription order. */
  subscribers(type: string): string[] {
    return (this.byType.get(type) ?? []).map((i) => i.name);
  }

  /**
   * Publishes a validated event: a non-blocking offer to every subscriber, critical events through
   * the priority lane. Closed mailboxes unsubscribe their module.
   */
  publish(event: EventOf<E>): PublishReceipt {
    const subscribers = this.byType.get(event.type);
    if (subscribers === undefined || subscribers.length === 0) return NO_SUBSCRIBERS;
    const critical = this.prioritized(event);
    let enqueued = 0;
    let dropped = 0;
    let failed = 0;
    let filtered = 0;
    let serializationFailed = 0;
    let dead: ModuleIncarnation<E>[] | null = null;
    for (let i = 0; i < subscribers.length; i++) {
      const incarnation = subscribers[i] as ModuleIncarnation<E>;
      switch (this.offer(incarnation, event, critical)) {
        case 'enqueued':
          enqueued++;
          break;
        case 'full':
          dropped++;
          break;
        case 'closed':
          failed++;
          (dead ??= []).push(incarnation);
          break;
        case 'filtered':
          filtered++;
          break;
        case 'serialization-failed':
          serializationFailed++;
          break;
      }
    }
    if (dead !== null) for (const incarnation of dead) this.removeIncarnation(incarnation);
    return { enqueued, dropped, failed, filtered, serializationFailed };
  }

  /**
   * Offers one event to one incarnation and counts the outcome. The caller removes the module
   * from its subscriptions on `closed`.
   */
  offer(
    incarnation: ModuleIncarnation<E>,
    event: EventOf<E>,
    critical = this.prioritized(event),
  ): OfferResult | 'filtered' | 'serialization-failed' {
    const stats = incarnation.stats;
    if (incarnation.filter !== undefined && !incarnation.filter(event)) {
      stats.filtered++;
      return 'filtered';
    }
    if (incarnation.admit !== undefined && !incarnation.admit(event)) {
      stats.serializationFailed++;
      return 'serialization-failed';
    }
    const result = critical ? incarnation.ref.tellPriority(event) : incarnation.ref.tell(event);
    if (result === 'enqueued') {
      stats.successful++;
      incarnation.enqueued++;
    } else if (result === 'full') {
      stats.channelFull++;
    } else {
      stats.failed++;
    }
    return result;
  }

  /** Critical and membership events take the priority lane. */
  private prioritized(event: EventOf<E>): boolean {
    return MEMBERSHIP.has(event.type) || this.isCritical(event);
  }

  private dropFromType(type: string, incarnation: ModuleIncarnation<E>): void {
    const list = this.byType.get(type);
    if (list === undefined) return;
    const next = list.filter((i) => i !== incarnation);
    if (next.length === 0) this.byType.delete(type);
    else this.byType.set(type, next);
  }
}
