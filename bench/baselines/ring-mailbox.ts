import type { Subject, SubjectFactory } from '../lib/subject.js';

/**
 * Baseline (a), the practical limit: a bounded ring buffer per subscriber and one shared run queue
 * drained in a microtask batch. No supervision, no validation, no inspection, no logging: just
 * ring buffers, a run queue and a handler call, counting drops. Async handlers are supported the
 * minimal way (the subscriber is busy until the promise settles), because the drop case needs
 * stuck subscribers.
 */
export class RingMailbox<T> {
  private readonly slots: (T | undefined)[];
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<T | undefined>(capacity);
  }

  /** Appends; false when full (the caller counts the drop). */
  push(item: T): boolean {
    const size = this.size;
    if (size === this.capacity) return false;
    let i = this.head + size;
    if (i >= this.capacity) i -= this.capacity;
    this.slots[i] = item;
    this.size = size + 1;
    return true;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const head = this.head;
    const item = this.slots[head];
    this.slots[head] = undefined;
    this.head = head + 1 === this.capacity ? 0 : head + 1;
    this.size--;
    return item;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

interface Runnable {
  run(budget: number): void;
}

/** One shared FIFO of runnable subscribers, drained to empty in one microtask. */
export class RunQueue {
  private readonly queue: Runnable[] = [];
  private pending = false;

  constructor(readonly throughput = 32) {}

  enqueue(subscriber: Runnable): void {
    this.queue.push(subscriber);
    if (!this.pending) {
      this.pending = true;
      queueMicrotask(this.drain);
    }
  }

  private readonly drain = (): void => {
    const queue = this.queue;
    // Subscribers that still have messages re-enqueue themselves at the end: round-robin.
    for (let i = 0; i < queue.length; i++) (queue[i] as Runnable).run(this.throughput);
    queue.length = 0;
    this.pending = false;
  };
}

/** A subscriber: a ring-buffer mailbox, a handler, a drop counter. */
export class BareSubscriber<T> {
  readonly mailbox: RingMailbox<T>;
  dropped = 0;
  private scheduled = false;
  private busy = false;

  constructor(
    private readonly runQueue: RunQueue,
    private readonly handler: (message: T) => void | PromiseLike<unknown>,
    capacity: number,
  ) {
    this.mailbox = new RingMailbox<T>(capacity);
  }

  /** Non-blocking offer: false (and one more drop counted) when the mailbox is full. */
  offer(message: T): boolean {
    if (!this.mailbox.push(message)) {
      this.dropped++;
      return false;
    }
    if (!this.scheduled && !this.busy) this.schedule();
    return true;
  }

  run(budget: number): void {
    this.scheduled = false;
    const mailbox = this.mailbox;
    while (budget-- > 0 && mailbox.size > 0) {
      const result = this.handler(mailbox.shift() as T);
      if (isThenable(result)) {
        this.busy = true;
        result.then(this.settled, this.settled);
        return;
      }
    }
    if (mailbox.size > 0) this.schedule();
  }

  private readonly settled = (): void => {
    this.busy = false;
    if (this.mailbox.size > 0 && !this.scheduled) this.schedule();
  };

  private schedule(): void {
    this.scheduled = true;
    this.runQueue.enqueue(this);
  }
}

export const ringSubject: SubjectFactory = ({ n, capacity, handler }) => {
  const runQueue = new RunQueue();
  const subscribers = Array.from(
    { length: n },
    (_, i) => new BareSubscriber<Parameters<typeof handler>[0]>(runQueue, (event) => handler(event, i), capacity),
  );
  const subject: Subject = {
    publish(event) {
      let accepted = 0;
      for (let i = 0; i < subscribers.length; i++) if ((subscribers[i] as (typeof subscribers)[number]).offer(event)) accepted++;
      return accepted;
    },
  };
  return Promise.resolve(subject);
};
