/**
 * Deliberately broken mailboxes. The mailbox properties must fail on each of them; if one passes,
 * the property is too weak to catch that bug.
 */
import { Mailbox, type OfferResult } from '../../../src/index.js';

/** What the mailbox model test drives: the public surface of {@link Mailbox}. */
export interface MailboxUnderTest {
  readonly size: number;
  readonly prioritySize: number;
  readonly closed: boolean;
  offer(message: number): OfferResult;
  offerPriority(message: number): OfferResult;
  offerSystem(message: number): OfferResult;
  takeUser(): { message: number; lane: 'priority' | 'user' } | undefined;
  takeSystem(): number | undefined;
  close(): number[];
}

export type MailboxFactory = (capacity: number, priorityCapacity: number) => MailboxUnderTest;

/** The real one. */
export const realMailbox: MailboxFactory = (capacity, priorityCapacity) => new Mailbox<number, number>(capacity, priorityCapacity);

/** Capacity off by one: a classic `>` where `>=` was meant, modelled as one slot too many. */
class OffByOneMailbox extends Mailbox<number, number> {
  constructor(capacity: number, priorityCapacity: number) {
    super(capacity + 1, priorityCapacity + 1);
  }
}
export const offByOneMailbox: MailboxFactory = (capacity, priorityCapacity) => new OffByOneMailbox(capacity, priorityCapacity);

/**
 * A hand-rolled ring buffer with the classic growth bug: when it grows it copies slots in array
 * order instead of from `head`, so after a wrap-around the order of the queue is scrambled.
 */
class SloppyRing {
  private items: (number | undefined)[] = new Array<number | undefined>(2);
  private head = 0;
  count = 0;
  constructor(readonly capacity: number) {}
  push(item: number): boolean {
    if (this.count >= this.capacity) return false;
    if (this.count === this.items.length) {
      const next = new Array<number | undefined>(this.items.length * 2);
      for (let i = 0; i < this.count; i++) next[i] = this.items[i]; // bug: ignores head
      this.items = next;
      this.head = 0;
    }
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    return true;
  }
  shift(): number | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }
}

class SloppyRingMailbox implements MailboxUnderTest {
  private readonly user: SloppyRing;
  private readonly priority: SloppyRing;
  private readonly system: number[] = [];
  closed = false;
  constructor(capacity: number, priorityCapacity: number) {
    this.user = new SloppyRing(capacity);
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
    return this.user.push(message) ? 'enqueued' : 'full';
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
    if (this.user.count > 0) return { message: this.user.shift() as number, lane: 'user' };
    return undefined;
  }
  takeSystem(): number | undefined {
    return this.system.shift();
  }
  close(): number[] {
    this.closed = true;
    const left: number[] = [];
    for (let m = this.priority.shift(); m !== undefined; m = this.priority.shift()) left.push(m);
    for (let m = this.user.shift(); m !== undefined; m = this.user.shift()) left.push(m);
    this.system.length = 0;
    return left;
  }
}
export const sloppyRingMailbox: MailboxFactory = (capacity, priorityCapacity) => new SloppyRingMailbox(capacity, priorityCapacity);

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
