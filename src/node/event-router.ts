import { ActorCell } from '../kernel/actor.js';
import type { ActorRef } from '../kernel/behavior.js';
import { DEFAULT_RESERVE_CAPACITY, type OfferResult } from '../kernel/mailbox.js';
import { MAX_FAILURE_MESSAGE } from '../kernel/foreign.js';
import { reportObserverError } from '../kernel/inspection.js';
import type { ModactorError } from '../kernel/errors.js';
import type { Catalogue, EventMap, EventMeta, EventOf } from '../events/catalogue.js';
import { emptyStats, pendingCount, type DeliveryStats, type PublishReceipt } from './delivery-stats.js';
import type { LifecycleEventMap } from './lifecycle-events.js';

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
  /** Events this module wants; others are counted as filtered. Module code: guarded. */
  readonly filter: ((event: EventOf<E>) => boolean) | undefined;
  /**
   * Checks that the event can cross this module's boundary (serialization for process modules).
   * Returns false to drop it for this module, counted as `serializationFailed`.
   */
  readonly admit: ((event: EventOf<E>) => boolean) | undefined;
  /** Fails the incarnation from outside its turn (its filter threw while a publisher called it). */
  readonly crash: Crashable | undefined;
  /** Enqueued into this incarnation's mailbox (what waits in its backlog counts once it enters the mailbox). */
  enqueued: number;
  /** Handled or failed on by this incarnation. */
  settled: number;
  /** Set once the incarnation terminated and its remaining events were counted as lost. */
  retired: boolean;
  /** The bound of routine events this incarnation may hold (its mailbox capacity). */
  readonly capacity: number;
  /** The bound of membership events it may hold past the routine bound (its mailbox's reserve). */
  readonly reserveCapacity: number;
  /**
   * Events taken from the mailbox but not yet settled, beyond the one in hand: a process module's
   * events in flight to its child. Routine offers count them against {@link capacity}, so the bound
   * holds across a process boundary (queued + held <= capacity, plus the one in hand).
   */
  held: number;
  /** Events waiting behind a replay that is fed to the mailbox as it drains; null when none. */
  backlog: Backlog<E> | null;
  /** Set once a membership event could not be admitted (reported unhealthy once). */
  overflowed: boolean;
  /** The types it is subscribed to (a few: an array, replaced on change, never grown in place). */
  types: readonly string[];
  /** Set for a module that asked for replay of the durable events it missed (`replay`). */
  readonly replay: ReplaySpec | undefined;
  /** Its replay position while it is subscribed on a node with a store; null otherwise. */
  cursor: DurableCursor<E> | null;
}

/** Where a module with `replay` starts the first time it loads: `fromSeq`, or the end of the log. @internal */
export interface ReplaySpec {
  readonly fromSeq: number | undefined;
}

/**
 * Durable events read ahead from the store for one incarnation, merged into its backlog by seq.
 * It reads asynchronously and tells the router (`pull`) when it has more. @internal
 */
export interface ReplayFeed<E extends EventMap> {
  /** The next event read ahead, if one is buffered. */
  head(): EventOf<E> | undefined;
  /** Removes the head (it was offered). */
  shift(): void;
  /** Every event the feed may still give has a seq above this one. */
  readonly scanned: number;
  /** The highest seq below every event it still holds or may give: where the module's position may go. */
  readonly frontier: number;
  /** True once it has given everything up to its target. */
  readonly done: boolean;
  /** It must also give the events up to `seq` (a live event deferred to it). */
  extend(seq: number): void;
  close(): void;
}

/**
 * The replay position of a module with `replay` (kept across its incarnations and, with the saved
 * state, across node restarts), as the router drives it. @internal
 */
export interface DurableCursor<E extends EventMap> {
  /** A durable event was enqueued for the incarnation (its mailbox or its backlog's waiting list). */
  enqueued(seq: number): void;
  /** A durable event was handled or failed on by the incarnation. */
  settled(seq: number): void;
  /** An offer of a durable event found the mailbox closed: the position stays below it. */
  closed(seq: number): void;
  /** The incarnation's own checks kept a durable event out: settled at once, never read back by a feed. */
  screened(seq: number): void;
  /** A feed of the durable events `fromSeq` through `toSeq` (and more by `extend`), read from the store. */
  feed(fromSeq: number, toSeq: number): ReplayFeed<E>;
  /** The incarnation terminated. */
  detach(): void;
}

/** What the router asks of a node's store: which events are durable, and the positions of modules with `replay`. @internal */
export interface Durability<E extends EventMap> {
  isDurable(type: string): boolean;
  /**
   * Attaches a newly subscribed incarnation with `replay` to its module's position: its cursor, and
   * the feed of what it missed up to `lastSeq` (null when nothing).
   */
  attach(incarnation: ModuleIncarnation<E>, lastSeq: number): { readonly cursor: DurableCursor<E>; readonly feed: ReplayFeed<E> | null };
}

/**
 * A replay in progress and what was offered behind it. The replayed `ModuleLoaded` events are not
 * built until there is room for them in the mailbox, and every event offered to the module meanwhile
 * waits here, in order, so the module sees the replay first and then everything published after its
 * subscription: one FIFO, with its bound holding.
 */
interface Backlog<E extends EventMap> {
  /** The modules to replay (a snapshot taken at subscription) and the next one's index. */
  replay: readonly Announced[];
  next: number;
  /**
   * The replay is published at subscription as a block of `seq` numbers (the i-th replayed event
   * gets `firstSeq + i`, with the subscription's time), built only when there is room for it.
   */
  firstSeq: number;
  time: number;
  /** Events offered while the backlog was pending, in order; counted when they enter the mailbox (or are lost with it). */
  readonly waiting: { readonly event: EventOf<E>; readonly kind: Kind }[];
  head: number;
  /** Routine events among `waiting` (they count against the routine bound). */
  routine: number;
  /** Reserved (membership) events among `waiting` (they count against the reserve). */
  reserved: number;
  /**
   * A module with `replay` catching up: durable events read from the store (what it missed, and
   * live ones deferred while it is behind), merged with the rest by seq. Null when none.
   */
  feed: ReplayFeed<E> | null;
}

function emptyBacklog<E extends EventMap>(): Backlog<E> {
  return { replay: NO_ANNOUNCED, next: 0, firstSeq: 0, time: 0, waiting: [], head: 0, routine: 0, reserved: 0, feed: null };
}

/** A loaded module in the registry. */
interface Announced {
  readonly name: string;
  readonly version: string;
  /** The local incarnation announced (compared by identity); null for a module of another node. */
  readonly incarnation: object | null;
}

/** How an event travels to a module: in order with routine traffic, past its bound, or ahead. */
type Kind = 'routine' | 'membership' | 'critical';

/** What a module's own checks kept out. */
type Screened = 'filtered' | 'serialization-failed';

/** A durable event left for a module's feed to read from the store (it is behind). */
type Deferred = 'deferred';

/** An event type's subscribers and count. */
interface Channel<E extends EventMap> {
  /** Appended to in place; a removal makes a new array (a publish may be walking the old one). */
  subscribers: readonly ModuleIncarnation<E>[];
  published: number;
  /** Its events travel as membership events (past the routine bound, in order). */
  readonly membership: boolean;
}

const NO_SUBSCRIBER_LIST: readonly never[] = Object.freeze([]);

/** Told of every accepted event, and whether it came from another node. @internal */
export type EventTap<E extends EventMap> = (event: EventOf<E>, remote: boolean) => void;

/** Told of every change of the local loaded-modules registry. @internal */
export type MembershipTap = (change: { readonly kind: 'loaded' | 'unloaded'; readonly module: string; readonly version: string }) => void;

/** What a module host gives to make an incarnation. @internal */
export interface IncarnationSpec<E extends EventMap> {
  readonly name: string;
  readonly version: string;
  readonly ref: ActorRef<unknown>;
  readonly stats: DeliveryStats;
  readonly capacity: number;
  /** Default {@link DEFAULT_RESERVE_CAPACITY}. */
  readonly reserveCapacity?: number | undefined;
  readonly filter?: ((event: EventOf<E>) => boolean) | undefined;
  readonly admit?: ((event: EventOf<E>) => boolean) | undefined;
  /** The incarnation's actor context, to fail it from outside its turn. */
  readonly crash?: Crashable | undefined;
  /** The module asked for replay of the durable events it missed. */
  readonly replay?: ReplaySpec | undefined;
}

/** What can be failed from outside its turn: an actor context. */
export interface Crashable {
  crash(error: unknown): void;
}

/**
 * An incarnation record. Module hosts make one per incarnation ({@link createIncarnation}), or are
 * one (an in-process module's instance extends it: one object per incarnation, not two). @internal
 */
export class Incarnation<E extends EventMap> implements ModuleIncarnation<E> {
  readonly name: string;
  readonly version: string;
  readonly ref: ActorRef<unknown>;
  readonly stats: DeliveryStats;
  readonly capacity: number;
  readonly reserveCapacity: number;
  readonly filter: ((event: EventOf<E>) => boolean) | undefined;
  readonly admit: ((event: EventOf<E>) => boolean) | undefined;
  readonly crash: Crashable | undefined;
  enqueued = 0;
  settled = 0;
  retired = false;
  held = 0;
  backlog: Backlog<E> | null = null;
  overflowed = false;
  types: readonly string[] = NO_TYPES;
  readonly replay: ReplaySpec | undefined;
  cursor: DurableCursor<E> | null = null;

  constructor(spec: IncarnationSpec<E>) {
    this.name = spec.name;
    this.version = spec.version;
    this.ref = spec.ref;
    this.stats = spec.stats;
    this.capacity = spec.capacity;
    this.reserveCapacity = spec.reserveCapacity ?? DEFAULT_RESERVE_CAPACITY;
    this.filter = spec.filter;
    this.admit = spec.admit;
    this.crash = spec.crash;
    this.replay = spec.replay;
  }
}

/** A fresh incarnation record. @internal */
export function createIncarnation<E extends EventMap>(spec: IncarnationSpec<E>): ModuleIncarnation<E> {
  return new Incarnation<E>(spec);
}

/**
 * Membership events: a module learns of every load, crash and unload, in its place in the order
 * of everything else it receives, even when it is busy with routine traffic (they are admitted past
 * the routine bound, within the mailbox's reserve).
 */
const MEMBERSHIP: ReadonlySet<string> = new Set(['ModuleLoaded', 'ModuleCrashed', 'ModuleUnloaded']);

const NO_SUBSCRIBERS: PublishReceipt = Object.freeze({
  enqueued: 0,
  dropped: 0,
  failed: 0,
  filtered: 0,
  serializationFailed: 0,
});

const NO_TYPES: readonly string[] = Object.freeze([]);
const NO_ANNOUNCED: readonly Announced[] = Object.freeze([]);

/** The source named in `meta.source` of events published by node code. */
export const NODE_SOURCE = 'node';

/** What the router needs from its node. @internal */
export interface RouterOptions<E extends EventMap> {
  readonly catalogue: Catalogue<E>;
  readonly isCritical: (event: EventOf<E>) => boolean;
  /** The scheduler's clock, for `meta.time`. */
  readonly now: () => number;
  /** Called once per incarnation whose reserve overflowed: a membership event could not be admitted. */
  readonly onOverflow?: (incarnation: ModuleIncarnation<E>) => void;
}

/**
 * The routing table of the EventManager: subscriptions per event type, delivery stats per module
 * name, the loaded-modules registry, and the non-blocking offer path. Only the EventManager actor
 * changes subscriptions and the registry (in its turns); publishing reads the table synchronously,
 * so a publisher never waits on anyone.
 *
 * Every accepted event is stamped here with `meta` (`source`, a node-wide strictly increasing
 * `seq`, `time` on the scheduler's clock): a caller's own metadata is never believed.
 *
 * @internal
 */
export class EventRouter<E extends EventMap> {
  readonly catalogue: Catalogue<E>;
  /** Per event type: its subscribers (in subscription order) and its count. */
  private readonly byType = new Map<string, Channel<E>>();
  /** Per module: its incarnation and the types it is subscribed to (a few, kept in an array). */
  private readonly byModule = new Map<string, ModuleIncarnation<E>>();
  private readonly statsByName = new Map<string, DeliveryStats>();
  /** Announced (loaded) modules by name, in announcement order: the loaded-modules registry. */
  private readonly announced = new Map<string, Announced>();
  private seq = 0;
  /** Who watches every accepted event (a bus, a store); null while nobody does (one check per event). */
  private taps: EventTap<E>[] | null = null;
  /** Who watches the local loaded-modules registry (a bus). */
  private membershipTaps: MembershipTap[] | null = null;
  /** Set while routing an event that came from another node: taps are told, so none sends it back. */
  private routingRemote = false;
  /** The node's store, once it is open: durable events and the positions of modules with `replay`. */
  private durability: Durability<E> | null = null;
  /** While set, untrusted events are refused with the error it returns (a store still opening). */
  private gate: (() => ModactorError | null) | null = null;

  constructor(private readonly options: RouterOptions<E>) {
    this.catalogue = options.catalogue;
  }

  // ---- Accepting events -------------------------------------------------------------------------

  /**
   * Validates an untrusted event and returns it as frozen data stamped with its metadata: the
   * publisher's object is not what subscribers get. Throws a typed `ModactorError` for anything
   * invalid (nothing is stamped or counted then). The caller's own `meta` is not even read: the
   * catalogue is given the stamp, which replaces it.
   */
  accept(raw: unknown, source: string): EventOf<E> {
    if (this.gate !== null) {
      const refused = this.gate();
      if (refused !== null) throw refused;
    }
    // The copy the catalogue makes carries the stamp: one frozen envelope. The seq is taken only
    // once the event is accepted; if a getter published re-entrantly meanwhile, that seq is gone
    // and the event is stamped again with the next one (seqs stay unique and increasing).
    const seq = this.seq + 1;
    const event = this.catalogue.validate(raw, Object.freeze({ source, seq, time: this.options.now() }));
    if (this.seq !== seq - 1) return this.stamp(event.type, event.payload, source);
    this.seq = seq;
    return event;
  }

  /** Publishes an event built by node code (lifecycle, node events): trusted, stamped `node`. */
  publishNode<K extends keyof LifecycleEventMap>(type: K, payload: LifecycleEventMap[K]): PublishReceipt;
  publishNode(type: string, payload: object): PublishReceipt;
  publishNode(type: string, payload: object): PublishReceipt {
    return this.route(this.stamp(type, Object.freeze(payload), NODE_SOURCE));
  }

  private stamp(type: string, payload: unknown, source: string): EventOf<E> {
    const meta: EventMeta = Object.freeze({ source, seq: ++this.seq, time: this.options.now() });
    return Object.freeze({ type, payload, meta }) as unknown as EventOf<E>;
  }

  /** The last `seq` given to an accepted event. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Continues numbering after `seq` (a durable store's last): only upward. */
  continueAfter(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  /** Refuses untrusted events with what `gate` returns while it returns an error (null: lifts it). */
  hold(gate: (() => ModactorError | null) | null): void {
    this.gate = gate;
  }

  /**
   * Makes the node's store known: modules with `replay` subscribed from now on get their missed
   * durable events from it, and fall back on it when they are behind.
   */
  attachDurability(durability: Durability<E>): void {
    this.durability = durability;
  }

  /**
   * Calls `tap` with every event accepted from now on, once it was offered to the local
   * subscribers, and whether it came from another node. Returns the function that stops it.
   */
  tap(tap: EventTap<E>): () => void {
    this.taps = [...(this.taps ?? []), tap];
    return () => {
      const taps = (this.taps ?? []).filter((t) => t !== tap);
      this.taps = taps.length === 0 ? null : taps;
    };
  }

  /** Calls `tap` on every change of the local loaded-modules registry (not remote ones). */
  tapMembership(tap: MembershipTap): () => void {
    this.membershipTaps = [...(this.membershipTaps ?? []), tap];
    return () => {
      const taps = (this.membershipTaps ?? []).filter((t) => t !== tap);
      this.membershipTaps = taps.length === 0 ? null : taps;
    };
  }

  /** The local modules loaded now, in announcement order. */
  localModules(): { readonly module: string; readonly version: string }[] {
    const out: { module: string; version: string }[] = [];
    for (const a of this.announced.values()) if (a.incarnation !== null) out.push({ module: a.name, version: a.version });
    return out;
  }

  /**
   * Routes an event that came from another node (validated here like any untrusted input, stamped
   * with this node's `seq` and `source`): taps are told it is remote, so no bus sends it back.
   */
  routeRemote(raw: unknown, source: string): PublishReceipt {
    const event = this.accept(raw, source);
    this.routingRemote = true;
    try {
      return this.route(event);
    } finally {
      this.routingRemote = false;
    }
  }

  /**
   * Announces a module of another node (`name` = `<nodeId>/<module>`): ModuleLoaded to local
   * subscribers and a place in the registry, so newcomers get it by replay, exactly once. Does
   * nothing when the name is already announced.
   */
  announceRemote(name: string, version: string): void {
    if (this.announced.has(name)) return;
    const announced: Announced = { name, version, incarnation: null };
    this.announced.set(name, announced);
    this.route(this.loaded(announced));
  }

  /** Retires an announced module of another node: ModuleUnloaded to local subscribers. Does nothing for any other name. */
  retireRemote(name: string): void {
    const announced = this.announced.get(name);
    if (announced === undefined || announced.incarnation !== null) return;
    this.announced.delete(name);
    this.publishNode('ModuleUnloaded', { moduleName: name, version: announced.version });
  }

  // ---- Statistics -------------------------------------------------------------------------------

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

  /**
   * Zeroes a module's counters while keeping the accounting law: the events still pending (queued
   * or in hand) stay counted as `successful`, since each of them will still end in one outcome.
   */
  resetStats(name: string): void {
    const stats = this.statsByName.get(name);
    if (stats === undefined) return;
    const pending = pendingCount(stats);
    Object.assign(stats, emptyStats(), { incarnations: stats.incarnations, successful: pending });
  }

  /** Accepted events so far, by type. */
  publishedCounts(): ReadonlyMap<string, number> {
    const counts = new Map<string, number>();
    for (const [type, channel] of this.byType) if (channel.published > 0) counts.set(type, channel.published);
    return counts;
  }

  /** The channel of a type, made on first use (a type's count and subscribers live there). */
  private channel(type: string): Channel<E> {
    let channel = this.byType.get(type);
    if (channel === undefined) {
      channel = { subscribers: NO_SUBSCRIBER_LIST, published: 0, membership: MEMBERSHIP.has(type) };
      this.byType.set(type, channel);
    }
    return channel;
  }

  // ---- Subscriptions ----------------------------------------------------------------------------

  /**
   * Subscribes `incarnation` to `types`, idempotently per (module, type). Replaces a previous
   * incarnation of the same name. Returns the types that were newly added.
   */
  subscribe(incarnation: ModuleIncarnation<E>, types: Iterable<string>): string[] {
    const subscribed = this.byModule.get(incarnation.name);
    if (subscribed !== incarnation) {
      if (subscribed !== undefined) this.remove(incarnation.name);
      this.byModule.set(incarnation.name, incarnation);
    }
    const added: string[] = [];
    for (const type of types) {
      if (incarnation.types.includes(type) || added.includes(type)) continue;
      added.push(type);
      // Appended in place (O(1)): subscriptions change in EventManager turns, never during a publish.
      const channel = this.channel(type);
      if (channel.subscribers === NO_SUBSCRIBER_LIST) channel.subscribers = [incarnation];
      else (channel.subscribers as ModuleIncarnation<E>[]).push(incarnation);
    }
    if (added.length > 0) {
      // Its first subscription to a frozen list of distinct types (its definition's) shares that
      // list; otherwise a new array of exactly its length (an idle module keeps it).
      const whole = incarnation.types.length === 0 && Array.isArray(types) && Object.isFrozen(types) && types.length === added.length;
      incarnation.types = whole ? (types as readonly string[]) : incarnation.types.concat(added);
    }
    if (incarnation.replay !== undefined && incarnation.cursor === null && this.durability !== null && !incarnation.retired) {
      // Its position: what it missed comes first, read from the store, then live events.
      const { cursor, feed } = this.durability.attach(incarnation, this.seq);
      incarnation.cursor = cursor;
      if (feed !== null) {
        const backlog = (incarnation.backlog ??= emptyBacklog());
        backlog.feed = feed;
        this.pull(incarnation);
      }
    }
    return added;
  }

  /** Unsubscribes `name` from `types` (all when omitted). Unknown modules and types are no-ops. */
  unsubscribe(name: string, types?: Iterable<string>): void {
    const incarnation = this.byModule.get(name);
    if (incarnation === undefined) return;
    for (const type of types ?? [...incarnation.types]) {
      if (!incarnation.types.includes(type)) continue;
      incarnation.types = incarnation.types.filter((t) => t !== type);
      this.dropFromType(type, incarnation);
      // No longer a ModuleLoaded subscriber: what is left of a replay is not owed.
      const backlog = incarnation.backlog;
      if (type === 'ModuleLoaded' && backlog !== null) backlog.next = backlog.replay.length;
    }
    if (types === undefined) this.byModule.delete(name);
  }

  /** Removes `name` from every subscription. */
  remove(name: string): void {
    this.unsubscribe(name);
  }

  /** Removes `incarnation` only if it is still the subscribed one. */
  removeIncarnation(incarnation: ModuleIncarnation<E>): void {
    if (this.byModule.get(incarnation.name) === incarnation) this.remove(incarnation.name);
  }

  /** Module names subscribed to `type`, in subscription order. */
  subscribers(type: string): string[] {
    return (this.byType.get(type)?.subscribers ?? []).map((i) => i.name);
  }

  // ---- The loaded-modules registry ---------------------------------------------------------------

  /** Names of announced modules, in announcement order. */
  announcedNames(): string[] {
    return [...this.announced.keys()];
  }

  /**
   * Replays `ModuleLoaded` of every other announced module to `incarnation`, once each, in
   * announcement order, paced by its mailbox: as many as fit now, the rest as it drains (see
   * {@link EventRouter.pull}). Called when its ModuleLoaded subscription is new.
   */
  replayTo(incarnation: ModuleIncarnation<E>): void {
    const others: Announced[] = [];
    for (const announced of this.announced.values()) if (announced.name !== incarnation.name) others.push(announced);
    if (others.length === 0) return;
    // No replay is pending in its backlog (if it has one): the ModuleLoaded subscription is new,
    // and leaving it ended any replay ({@link unsubscribe}). A block of seqs above everything it
    // holds or waits for: it comes after them.
    const block = (incarnation.backlog ??= emptyBacklog());
    block.replay = others;
    block.next = 0;
    block.firstSeq = this.seq + 1;
    block.time = this.options.now();
    this.seq += others.length;
    this.pull(incarnation);
  }

  /**
   * Records a module as loaded and publishes its ModuleLoaded to every subscriber (itself
   * included). Returns false, doing nothing, when it is dead or its name is already announced.
   */
  announce(incarnation: ModuleIncarnation<E>): boolean {
    if (!incarnation.ref.isAlive || this.announced.has(incarnation.name)) return false;
    const announced: Announced = { name: incarnation.name, version: incarnation.version, incarnation };
    this.announced.set(incarnation.name, announced);
    this.route(this.loaded(announced));
    if (this.membershipTaps !== null) for (const tap of this.membershipTaps) tap({ kind: 'loaded', module: incarnation.name, version: incarnation.version });
    return true;
  }

  /**
   * After the node stopped: every incarnation still subscribed or announced is settled as
   * {@link retire} would (what it held counted lost), so the accounting law holds even when a
   * forced stop (a failed node, a shutdown past its deadline) left no turn to retire it in.
   * Publishes nothing: nobody is left to receive it.
   */
  settleAll(): void {
    for (const incarnation of this.byModule.values()) this.settle(incarnation);
    for (const announced of this.announced.values()) {
      if (announced.incarnation !== null) this.settle(announced.incarnation as ModuleIncarnation<E>);
    }
  }

  /** Counts what a terminated incarnation still held (queued, waiting or in hand) as lost. Once. */
  private settle(incarnation: ModuleIncarnation<E>): void {
    if (incarnation.retired) return;
    incarnation.retired = true;
    incarnation.stats.lostOnCrash += incarnation.enqueued - incarnation.settled;
    incarnation.settled = incarnation.enqueued;
    // What still waited behind a backlog was offered to it and is lost with it.
    const backlog = incarnation.backlog;
    const waiting = backlog === null ? 0 : backlog.waiting.length - backlog.head;
    incarnation.stats.successful += waiting;
    incarnation.stats.lostOnCrash += waiting;
    // Its position first: it stays below what its feed had not given yet.
    incarnation.cursor?.detach();
    incarnation.cursor = null;
    incarnation.backlog?.feed?.close();
    incarnation.backlog = null;
    incarnation.held = 0;
  }

  /**
   * Settles a terminated incarnation: what it still held is counted as lost, it leaves every
   * subscription and, if it was announced, the registry, with ModuleCrashed (for a crash) and
   * ModuleUnloaded published. Idempotent. Returns whether it was announced.
   */
  retire(incarnation: ModuleIncarnation<E>, crash: string | null): boolean {
    this.settle(incarnation);
    this.removeIncarnation(incarnation);
    if (this.announced.get(incarnation.name)?.incarnation !== incarnation) return false;
    this.announced.delete(incarnation.name);
    if (crash !== null) this.publishNode('ModuleCrashed', { moduleName: incarnation.name, error: capCrashMessage(crash) });
    this.publishNode('ModuleUnloaded', { moduleName: incarnation.name, version: incarnation.version });
    if (this.membershipTaps !== null) for (const tap of this.membershipTaps) tap({ kind: 'unloaded', module: incarnation.name, version: incarnation.version });
    return true;
  }

  /** A module's ModuleLoaded: stamped now, or with a replay's reserved `seq` and time. */
  private loaded(announced: Announced, replayed?: { readonly seq: number; readonly time: number }): EventOf<E> {
    const payload = Object.freeze({ moduleName: announced.name, version: announced.version });
    if (replayed === undefined) return this.stamp('ModuleLoaded', payload, NODE_SOURCE);
    const { seq, time } = replayed;
    const meta: EventMeta = Object.freeze({ source: NODE_SOURCE, seq, time });
    return Object.freeze({ type: 'ModuleLoaded', payload, meta }) as unknown as EventOf<E>;
  }

  // ---- Publishing -------------------------------------------------------------------------------

  /**
   * Offers an accepted event to every subscriber without waiting: critical events ahead of queued
   * ones, membership events in order past the routine bound, everything else in order within it.
   * Closed mailboxes unsubscribe their module.
   */
  route(event: EventOf<E>): PublishReceipt {
    const receipt = this.offerAll(event);
    if (this.taps !== null) this.tell(event);
    return receipt;
  }

  /** Tells the taps of an accepted event; a tap that throws is reported, never the publisher's problem. */
  private tell(event: EventOf<E>): void {
    const remote = this.routingRemote;
    for (const tap of this.taps ?? []) {
      try {
        tap(event, remote);
      } catch (error) {
        reportObserverError(error);
      }
    }
  }

  private offerAll(event: EventOf<E>): PublishReceipt {
    const type = event.type;
    const channel = this.channel(type);
    channel.published++;
    const subscribers = channel.subscribers;
    if (subscribers.length === 0) return NO_SUBSCRIBERS;
    const kind = this.kindOf(channel, event);
    // Whether the event is durable, asked once, only when a subscriber keeps a position.
    let durable: boolean | undefined;
    let enqueued = 0;
    let dropped = 0;
    let failed = 0;
    let filtered = 0;
    let serializationFailed = 0;
    let dead: ModuleIncarnation<E>[] | null = null;
    // A filter may crash its module, which never changes this list in this turn; a copy is not needed.
    for (let i = 0; i < subscribers.length; i++) {
      const incarnation = subscribers[i] as ModuleIncarnation<E>;
      // The common case, inline: a routine event to a module with nothing of its own to say.
      if (
        kind === 'routine' &&
        incarnation.filter === undefined &&
        incarnation.admit === undefined &&
        incarnation.backlog === null &&
        incarnation.held === 0 &&
        incarnation.cursor === null
      ) {
        const result = incarnation.ref.tell(event);
        if (result === 'enqueued') {
          incarnation.stats.successful++;
          incarnation.enqueued++;
          enqueued++;
        } else if (result === 'full') {
          // A routine event: never a membership overflow.
          incarnation.stats.channelFull++;
          dropped++;
        } else {
          this.count(incarnation, result, kind);
          failed++;
          (dead ??= []).push(incarnation);
        }
        continue;
      }
      let cursor: DurableCursor<E> | null = null;
      if (incarnation.cursor !== null) {
        durable ??= (this.durability as Durability<E>).isDurable(type);
        if (durable) cursor = incarnation.cursor;
      }
      switch (cursor === null ? this.offer(incarnation, event, kind) : this.offerDurable(incarnation, cursor, event, kind)) {
        case 'enqueued':
        case 'deferred':
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

  /** Offers one event to one incarnation and counts the outcome. The caller unsubscribes on `closed`. */
  private offer(incarnation: ModuleIncarnation<E>, event: EventOf<E>, kind: Kind): OfferResult | Screened {
    const screened = this.screen(incarnation, event);
    if (screened !== null) return screened;
    if (kind !== 'critical' && incarnation.backlog !== null) return this.wait(incarnation, incarnation.backlog, event, kind);
    let result: OfferResult;
    if (kind === 'critical') {
      result = incarnation.ref.tellPriority(event);
    } else if (kind === 'membership') {
      result = incarnation.ref.tellReserved(event);
    } else if (!this.hasRoom(incarnation)) {
      result = refuseFull(incarnation, event);
    } else {
      result = incarnation.ref.tell(event);
    }
    return this.count(incarnation, result, kind);
  }

  /**
   * Offers a durable event to a module that keeps a position. It is never dropped for want of
   * room: when the module is behind (a feed is catching it up, or its mailbox is full), it is
   * left to the feed, which reads it back from the store in its turn ({@link Deferred}; offered
   * and counted then). Critical events still overtake; only a full priority lane defers one.
   */
  private offerDurable(incarnation: ModuleIncarnation<E>, cursor: DurableCursor<E>, event: EventOf<E>, kind: Kind): OfferResult | Screened | Deferred {
    const seq = (event.meta as EventMeta & { seq: number }).seq;
    const backlog = incarnation.backlog;
    if (kind !== 'critical' && backlog !== null && backlog.feed !== null) {
      backlog.feed.extend(seq);
      return 'deferred';
    }
    const screened = this.screen(incarnation, event);
    if (screened !== null) {
      // A critical one may be ahead of the feed: reading past it, the feed must not offer it again.
      cursor.screened(seq);
      return screened;
    }
    let result: OfferResult;
    if (kind === 'critical') result = incarnation.ref.tellPriority(event);
    else if (backlog !== null) result = this.waitRoom(incarnation, backlog, kind) ? this.waitFor(incarnation, backlog, event, kind) : 'full';
    else result = this.hasRoom(incarnation) ? incarnation.ref.tell(event) : 'full';
    if (result === 'full') return this.defer(incarnation, cursor, seq);
    if (result === 'closed') {
      cursor.closed(seq);
      return this.count(incarnation, result, kind);
    }
    cursor.enqueued(seq);
    if (kind === 'critical' || backlog === null) return this.count(incarnation, result, kind);
    this.pull(incarnation); // it waits: counted when it enters the mailbox
    return result;
  }

  /** Leaves a durable event to the module's feed (started from it when there is none). */
  private defer(incarnation: ModuleIncarnation<E>, cursor: DurableCursor<E>, seq: number): Deferred {
    const backlog = (incarnation.backlog ??= emptyBacklog());
    if (backlog.feed === null) backlog.feed = cursor.feed(seq, seq);
    else backlog.feed.extend(seq);
    return 'deferred';
  }

  /**
   * The module's own say on an event before it is offered: its filter (module code, guarded: a
   * throw filters the event out and crashes the module) and its boundary check. Counts what it
   * keeps out; null when the event may be offered.
   */
  private screen(incarnation: ModuleIncarnation<E>, event: EventOf<E>): Screened | null {
    const stats = incarnation.stats;
    const filter = incarnation.filter;
    if (filter !== undefined) {
      let keep: unknown;
      try {
        keep = filter(event);
      } catch (error) {
        stats.filtered++;
        incarnation.crash?.crash(error);
        return 'filtered';
      }
      if (!keep) {
        stats.filtered++;
        return 'filtered';
      }
    }
    if (incarnation.admit !== undefined && !incarnation.admit(event)) {
      stats.serializationFailed++;
      return 'serialization-failed';
    }
    return null;
  }

  /**
   * Whether a routine event fits beside what the module already holds: the mailbox checks its own
   * bound; here, events in flight beyond it (a process module's child) count against it too.
   */
  private hasRoom(incarnation: ModuleIncarnation<E>): boolean {
    return incarnation.held === 0 || incarnation.ref.queuedRoutine + incarnation.held < incarnation.capacity;
  }

  private count(incarnation: ModuleIncarnation<E>, result: OfferResult, kind: Kind): OfferResult {
    const stats = incarnation.stats;
    if (result === 'enqueued') {
      stats.successful++;
      incarnation.enqueued++;
    } else if (result === 'full') {
      stats.channelFull++;
      if (kind === 'membership') this.overflowed(incarnation);
    } else {
      stats.failed++;
    }
    return result;
  }

  private overflowed(incarnation: ModuleIncarnation<E>): void {
    incarnation.stats.membershipDropped++;
    if (incarnation.overflowed) return;
    incarnation.overflowed = true;
    this.options.onOverflow?.(incarnation);
  }

  /**
   * An event offered while a backlog is pending waits behind it, within the same bounds. It is
   * counted when it enters the mailbox ({@link pull}), as the kernel sees it, or, when its module
   * ends before, as offered and lost then ({@link settle}).
   */
  private wait(incarnation: ModuleIncarnation<E>, backlog: Backlog<E>, event: EventOf<E>, kind: Kind): OfferResult {
    const result = this.waitRoom(incarnation, backlog, kind) ? this.waitFor(incarnation, backlog, event, kind) : refuseFull(incarnation, event);
    if (result === 'enqueued') this.pull(incarnation);
    else this.count(incarnation, result, kind);
    return result;
  }

  /** Whether an event of `kind` fits in the backlog's waiting list (its bounds are the mailbox's). */
  private waitRoom(incarnation: ModuleIncarnation<E>, backlog: Backlog<E>, kind: Kind): boolean {
    if (kind === 'membership') return backlog.reserved < incarnation.reserveCapacity;
    return backlog.routine + incarnation.ref.queuedRoutine + incarnation.held < incarnation.capacity;
  }

  /** Puts an event in the backlog's waiting list (there is room); `closed` once the module is dead. */
  private waitFor(incarnation: ModuleIncarnation<E>, backlog: Backlog<E>, event: EventOf<E>, kind: Kind): OfferResult {
    if (!incarnation.ref.isAlive) return 'closed';
    if (kind === 'membership') backlog.reserved++;
    else backlog.routine++;
    backlog.waiting.push({ event, kind });
    return 'enqueued';
  }

  /**
   * Feeds a pending backlog into the mailbox while it has room (its routine bound), in seq order
   * across its sources: the durable events its feed read from the store, the replayed
   * `ModuleLoaded` block, and what waited behind them. Called when a backlog starts, each time the
   * module takes an event, and when its feed has read more. Cheap when nothing is pending.
   */
  pull(incarnation: ModuleIncarnation<E>): void {
    const backlog = incarnation.backlog;
    if (backlog === null) return;
    const ref = incarnation.ref;
    while (ref.queued < incarnation.capacity) {
      const feed = backlog.feed;
      const blockSeq = backlog.next < backlog.replay.length ? backlog.firstSeq + backlog.next : Number.POSITIVE_INFINITY;
      const item = backlog.head < backlog.waiting.length ? (backlog.waiting[backlog.head] as { readonly event: EventOf<E>; readonly kind: Kind }) : undefined;
      const waitSeq = item === undefined ? Number.POSITIVE_INFINITY : seqOf(item.event);
      const otherSeq = Math.min(blockSeq, waitSeq);
      if (feed !== null) {
        const next = feed.head();
        if (next === undefined && feed.done) {
          backlog.feed = null;
          feed.close();
          continue;
        }
        if (next === undefined ? otherSeq > feed.scanned : seqOf(next) < otherSeq) {
          // The feed's turn, or it may still read an event older than the others: wait for it
          // (it pulls again when it has read more).
          if (next === undefined || !this.offerReplayed(incarnation, next)) return;
          feed.shift();
          continue;
        }
      }
      if (blockSeq < waitSeq) {
        const event = this.loaded(backlog.replay[backlog.next] as Announced, { seq: blockSeq, time: backlog.time });
        if (this.screen(incarnation, event) !== null) {
          backlog.next++;
          continue;
        }
        const result = ref.tellReserved(event);
        if (result === 'full') return; // a reserve smaller than the capacity: more when it drains
        backlog.next++;
        // A replayed event is offered here, counted like any other (never as channelFull).
        this.count(incarnation, result, 'membership');
        if (result === 'closed') return;
        continue;
      }
      if (item !== undefined) {
        const result = item.kind === 'membership' ? ref.tellReserved(item.event) : ref.tell(item.event);
        if (result === 'full') return;
        backlog.head++;
        if (item.kind === 'membership') backlog.reserved--;
        else backlog.routine--;
        this.count(incarnation, result, item.kind);
        if (result === 'closed') return;
        continue;
      }
      if (feed !== null) return;
      incarnation.backlog = null;
      return;
    }
  }

  /**
   * Offers an event the feed read from the store: in order with routine traffic whatever its
   * class (it is in the past), never dropped (false: no room, or the module is dead; it stays).
   * The module's checks apply as to any offer; an event of a type it no longer takes is passed over.
   */
  private offerReplayed(incarnation: ModuleIncarnation<E>, event: EventOf<E>): boolean {
    if (!incarnation.types.includes(event.type)) return true;
    if (!this.hasRoom(incarnation) || !incarnation.ref.isAlive) return false;
    if (this.screen(incarnation, event) !== null) return true;
    const result = incarnation.ref.tell(event);
    if (result !== 'enqueued') return false;
    this.count(incarnation, result, 'routine');
    incarnation.cursor?.enqueued(seqOf(event));
    return true;
  }

  /** How an event travels: membership events in order past the bound, critical ones ahead, the rest in order. */
  private kindOf(channel: Channel<E>, event: EventOf<E>): Kind {
    if (channel.membership) return 'membership';
    return this.options.isCritical(event) ? 'critical' : 'routine';
  }

  private dropFromType(type: string, incarnation: ModuleIncarnation<E>): void {
    const channel = this.byType.get(type);
    if (channel === undefined) return;
    const list = channel.subscribers;
    const index = list.indexOf(incarnation);
    if (index < 0) return;
    channel.subscribers = list.length === 1 ? NO_SUBSCRIBER_LIST : [...list.slice(0, index), ...list.slice(index + 1)];
  }
}

/** A routine or membership event the router refused for room it counts itself: dropped as a full lane drops it (a dead letter). */
function refuseFull<E extends EventMap>(incarnation: ModuleIncarnation<E>, event: EventOf<E>): 'full' {
  const ref = incarnation.ref;
  return ref instanceof ActorCell ? ref.refuseFull(event) : 'full';
}

/** The seq the router stamped on an event. */
function seqOf(event: { readonly meta?: EventMeta }): number {
  return (event.meta as EventMeta & { readonly seq: number }).seq;
}

/** `ModuleCrashed.error` is a string of at most this many characters. */
export const MAX_CRASH_MESSAGE = MAX_FAILURE_MESSAGE;

function capCrashMessage(message: string): string {
  return message.length > MAX_CRASH_MESSAGE ? `${message.slice(0, MAX_CRASH_MESSAGE - 3)}...` : message;
}

