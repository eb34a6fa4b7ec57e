/**
 * Deliberately broken mailboxes. The mailbox properties must fail on each of them; if one passes,
 * the property is too weak to catch that bug.
 */
import { Mailbox, type OfferResult } from '../../../src/kernel/mailbox.js';

/** What the mailbox model test drives: the public surface of {@link Mailbox}. */
export interface MailboxUnderTest {
  readonly size: number;
  readonly routineSize: number;
  readonly prioritySize: number;
  readonly closed: boolean;
  offer(message: number): OfferResult;
  offerReserved(message: number): OfferResult;
  offerPriority(message: number): OfferResult;
  offerSystem(message: number): OfferResult;
  takeUser(): { message: number; lane: 'priority' | 'user' } | undefined;
  takeSystem(): number | undefined;
  close(): number[];
}

export type MailboxFactory = (capacity: number, priorityCapacity: number, reserveCapacity: number) => MailboxUnderTest;

/** The real one. */
export const realMailbox: MailboxFactory = (capacity, priorityCapacity, reserveCapacity) =>
  new Mailbox<number, number>(capacity, priorityCapacity, reserveCapacity);

/** Capacity off by one: a classic `>` where `>=` was meant, modelled as one slot too many. */
class OffByOneMailbox extends Mailbox<number, number> {
  constructor(capacity: number, priorityCapacity: number, reserveCapacity: number) {
    super(capacity + 1, priorityCapacity + 1, reserveCapacity);
  }
}
export const offByOneMailbox: MailboxFactory = (capacity, priorityCapacity, reserveCapacity) =>
  new OffByOneMailbox(capacity, priorityCapacity, reserveCapacity);

/**
 * Reserved messages in a lane of their own, taken before routine ones (as membership events once
 * travelled in the priority lane): never dropped behind a flood, but out of order.
 */
class OvertakingReserveMailbox extends Mailbox<number, number> {
  private readonly reservedLane: number[] = [];
  constructor(capacity: number, priorityCapacity: number, private readonly reserve: number) {
    super(capacity, priorityCapacity, reserve);
  }
  override get size(): number {
    return super.size + this.reservedLane.length;
  }
  override offerReserved(message: number): OfferResult {
    if (this.closed) return 'closed';
    if (this.reservedLane.length >= this.reserve) return 'full';
    this.reservedLane.push(message);
    return 'enqueued';
  }
  override takeUser(): { message: number; lane: 'priority' | 'user' } | undefined {
    if (this.prioritySize === 0 && this.reservedLane.length > 0) return { message: this.reservedLane.shift() as number, lane: 'user' };
    return super.takeUser();
  }
  override close(): number[] {
    const left = super.close();
    left.push(...this.reservedLane.splice(0));
    return left;
  }
}
export const overtakingReserveMailbox: MailboxFactory = (capacity, priorityCapacity, reserveCapacity) =>
  new OvertakingReserveMailbox(capacity, priorityCapacity, reserveCapacity);

/**
 * A hand-rolled ring buffer with the classic growth bug: when it grows it copies slots in array
 * order instead of from `head`, so after a wrap-around the order of the queue is scrambled.
 */
class SloppyRing<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(2);
  private head = 0;
  count = 0;
  constructor(readonly capacity: number) {}
  push(item: T): boolean {
    if (this.count >= this.capacity) return false;
    if (this.count === this.items.length) {
      const next = new Array<T | undefined>(this.items.length * 2);
      for (let i = 0; i < this.count; i++) next[i] = this.items[i]; // bug: ignores head
      this.items = next;
      this.head = 0;
    }
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    return true;
  }
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }
}

class SloppyRingMailbox implements MailboxUnderTest {
  private readonly user: SloppyRing<{ readonly message: number; readonly reserved: boolean }>;
  private readonly priority: SloppyRing<number>;
  private readonly system: number[] = [];
  routineSize = 0;
  closed = false;
  constructor(
    private readonly capacity: number,
    priorityCapacity: number,
    private readonly reserveCapacity: number,
  ) {
    this.user = new SloppyRing(capacity + reserveCapacity);
    this.priority = new SloppyRing(priorityCapacity);
  }
  get size(): number {
    return this.user.count;
  }
  get prioritySize(): number {
    return this.priority.count;
  }
  offer(message: number): OfferResult {
    if (this.closed) return 'closed';
    if (this.routineSize >= this.capacity) return 'full';
    this.user.push({ message, reserved: false });
    this.routineSize++;
    return 'enqueued';
  }
  offerReserved(message: number): OfferResult {
    if (this.closed) return 'closed';
    if (this.user.count - this.routineSize >= this.reserveCapacity) return 'full';
    this.user.push({ message, reserved: true });
    return 'enqueued';
  }
  private takeFromUser(): number {
    const entry = this.user.shift() as { readonly message: number; readonly reserved: boolean };
    if (!entry.reserved) this.routineSize--;
    return entry.message;
  }
  offerPriority(message: number): OfferResult {
    if (this.closed) return 'closed';
    return this.priority.push(message) ? 'enqueued' : 'full';
  }
  offerSystem(message: number): OfferResult {
    if (this.closed) return 'closed';
    this.system.push(message);
    return 'enqueued';
  }
  takeUser(): { message: number; lane: 'priority' | 'user' } | undefined {
    if (this.priority.count > 0) return { message: this.priority.shift() as number, lane: 'priority' };
    if (this.user.count > 0) return { message: this.takeFromUser(), lane: 'user' };
    return undefined;
  }
  takeSystem(): number | undefined {
    return this.system.shift();
  }
  close(): number[] {
    this.closed = true;
    const left: number[] = [];
    for (let m = this.priority.shift(); m !== undefined; m = this.priority.shift()) left.push(m);
    while (this.user.count > 0) left.push(this.takeFromUser());
    this.system.length = 0;
    return left;
  }
}
export const sloppyRingMailbox: MailboxFactory = (capacity, priorityCapacity, reserveCapacity) =>
  new SloppyRingMailbox(capacity, priorityCapacity, reserveCapacity);

/**
 * Runs `body` with every kernel mailbox forgetting its queue when it closes: the messages still
 * queued when an actor terminates vanish instead of becoming dead letters.
 */
export async function withForgetfulClose<T>(body: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(Mailbox.prototype, 'close') as PropertyDescriptor;
  Object.defineProperty(Mailbox.prototype, 'close', {
    ...original,
    value(this: Mailbox<unknown>): unknown[] {
      (original.value as (this: Mailbox<unknown>) => unknown[]).call(this);
      return [];
    },
  });
  try {
    return await body();
  } finally {
    Object.defineProperty(Mailbox.prototype, 'close', original);
  }
}
