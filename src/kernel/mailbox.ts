import { ModactorError } from './errors.js';

/** What happened to one offer: exactly one of these, always. */
export type OfferResult = 'enqueued' | 'full' | 'closed';

/** The default capacity of a mailbox's user lane. */
export const DEFAULT_MAILBOX_CAPACITY = 100;

const INITIAL_SLOTS = 4;

/**
 * A bounded FIFO ring buffer that grows on demand up to its capacity, so an idle queue costs a
 * handful of slots while a busy one never holds more than `capacity` items.
 */
export class BoundedQueue<T> {
  /** Allocated on the first push: an idle queue costs no slots at all. */
  private items: (T | undefined)[] | null = null;
  private head = 0;
  private count = 0;
  /** The most items it holds. */
  protected readonly bound: number;

  constructor(bound: number) {
    this.bound = bound;
  }

  /** Items queued. */
  get size(): number {
    return this.count;
  }

  /** Appends `item`; returns false (and changes nothing) when the queue holds `capacity` items. */
  push(item: T): boolean {
    const count = this.count;
    if (count >= this.bound) return false;
    let items = this.items ?? (this.items = new Array<T | undefined>(Math.min(this.bound, INITIAL_SLOTS)));
    if (count === items.length) items = this.grow(items);
    // A compare and a subtract, not a modulo (an integer division on the hot path).
    let i = this.head + count;
    if (i >= items.length) i -= items.length;
    items[i] = item;
    this.count = count + 1;
    return true;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const items = this.items as (T | undefined)[];
    const item = items[this.head];
    items[this.head] = undefined;
    const head = this.head + 1;
    this.head = head === items.length ? 0 : head;
    this.count--;
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    while (this.count > 0) out.push(this.shift() as T);
    return out;
  }

  private grow(old: (T | undefined)[]): (T | undefined)[] {
    const next = new Array<T | undefined>(Math.min(this.bound, old.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % old.length];
    this.items = next;
    this.head = 0;
    return next;
  }
}

/** Which lane a message was taken from. */
export type Lane = 'system' | 'priority' | 'user';

/** The default room past the user lane's bound for reserved messages (see {@link Mailbox}). */
export const DEFAULT_RESERVE_CAPACITY = 1000;

/** A reserved message in the user lane: counted against the reserve, not the routine bound. */
class Reserved<M> {
  constructor(readonly message: M) {}
}

/**
 * An actor's mailbox: three lanes taken in this order: the **system** lane (stop, watch,
 * `Terminated`, supervision signals; never bounded, never dropped), the **priority** lane (critical
 * user messages, which overtake the user lane; bounded on its own) and the **user** lane: one FIFO.
 *
 * The user lane holds two classes of messages in one order. Routine messages (`offer`) are bounded
 * by `capacity` (100 by default). Reserved messages (`offerReserved`: messages that must not be lost
 * to a routine flood, such as a node's membership events) are admitted past that bound, in their
 * place in the order, up to `reserveCapacity` of them (1000 by default); only past that are they
 * refused too. So memory stays bounded (`capacity + reserveCapacity`) whatever the sender does.
 *
 * `offer` never blocks and never throws for a full or closed mailbox: it returns what happened.
 * Capacity counts queued messages only; the message being handled has already left the queue.
 */
export class Mailbox<M, S = unknown> extends BoundedQueue<M | Reserved<M>> {
  // The user lane is the mailbox's own ring (it extends the queue): one object, not two.
  /** Routine messages in the user lane (the rest are reserved ones). */
  private routine = 0;
  private priority: BoundedQueue<M> | null = null;
  private system: S[] | null = null;
  private closedFlag = false;

  constructor(
    readonly capacity: number = DEFAULT_MAILBOX_CAPACITY,
    readonly priorityCapacity: number = capacity,
    readonly reserveCapacity: number = DEFAULT_RESERVE_CAPACITY,
  ) {
    super(capacity + reserveCapacity);
    validateCapacity(capacity, 'capacity');
    validateCapacity(priorityCapacity, 'priorityCapacity');
    validateCapacity(reserveCapacity, 'reserveCapacity');
  }

  /** Routine messages queued in the user lane: never more than `capacity`. */
  get routineSize(): number {
    return this.routine;
  }

  /** Messages queued in the priority lane. */
  get prioritySize(): number {
    return this.priority === null ? 0 : this.priority.size;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** True when any lane holds a message. */
  get hasMessages(): boolean {
    return this.size > 0 || this.hasSystemOrPriority;
  }

  get hasSystemMessages(): boolean {
    return this.system !== null && this.system.length > 0;
  }

  private get hasSystemOrPriority(): boolean {
    return this.hasSystemMessages || (this.priority !== null && this.priority.size > 0);
  }

  /** Non-blocking offer of a routine message to the user lane. */
  offer(message: M): OfferResult {
    if (this.closedFlag) return 'closed';
    if (this.routine >= this.capacity) return 'full';
    this.push(message);
    this.routine++;
    return 'enqueued';
  }

  /** Non-blocking offer of a reserved message to the user lane, past the routine bound. */
  offerReserved(message: M): OfferResult {
    if (this.closedFlag) return 'closed';
    if (this.size - this.routine >= this.reserveCapacity) return 'full';
    this.push(new Reserved(message));
    return 'enqueued';
  }

  /** Non-blocking offer to the priority lane, which is taken before the user lane. */
  offerPriority(message: M): OfferResult {
    if (this.closedFlag) return 'closed';
    this.priority ??= new BoundedQueue<M>(this.priorityCapacity);
    return this.priority.push(message) ? 'enqueued' : 'full';
  }

  /** Appends a system message. Never dropped while the mailbox is open. */
  offerSystem(message: S): OfferResult {
    if (this.closedFlag) return 'closed';
    (this.system ??= []).push(message);
    return 'enqueued';
  }

  /** Takes the next system message, if any. */
  takeSystem(): S | undefined {
    const system = this.system;
    if (system === null || system.length === 0) return undefined;
    const message = system.shift();
    // Mostly empty: an idle mailbox keeps no array for this lane.
    if (system.length === 0) this.system = null;
    return message;
  }

  /** Takes the next user-level message: priority lane first, then the user lane. */
  takeUser(): { message: M; lane: 'priority' | 'user' } | undefined {
    if (this.priority !== null && this.priority.size > 0) {
      return { message: this.priority.shift() as M, lane: 'priority' };
    }
    if (this.size === 0) return undefined;
    return { message: this.takeFromUser(), lane: 'user' };
  }

  /** True when the priority or user lane holds a message. */
  get hasUserMessages(): boolean {
    return this.size > 0 || (this.priority !== null && this.priority.size > 0);
  }

  /**
   * The hot loop's take: the next user-level message (priority lane first) without allocating.
   * Call only when {@link Mailbox.hasUserMessages} is true.
   */
  takeNext(): M {
    const priority = this.priority;
    if (priority !== null && priority.size > 0) return priority.shift() as M;
    return this.takeFromUser();
  }

  private takeFromUser(): M {
    const item = this.shift() as M | Reserved<M>;
    if (item instanceof Reserved) return item.message;
    this.routine--;
    return item;
  }

  /**
   * Closes the mailbox: later offers return `closed`. Returns the user-level messages still
   * queued (priority lane first), so the caller can account for every one of them.
   */
  close(): M[] {
    this.closedFlag = true;
    const left = this.priority === null ? [] : this.priority.drain();
    for (const item of this.drain()) left.push(item instanceof Reserved ? item.message : item);
    this.routine = 0;
    this.system = null;
    return left;
  }
}

function validateCapacity(capacity: number, field: string): void {
  if (!Number.isSafeInteger(capacity) || capacity < 1) {
    throw new ModactorError(
      'invalid-capacity',
      `Expected mailbox ${field} to be a positive safe integer, got ${String(capacity)}`,
    );
  }
}
