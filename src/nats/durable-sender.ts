/**
 * The durable path's publisher: a bounded queue, a bounded window of messages awaiting the
 * stream's acknowledgement, and batching where it pays.
 *
 * `offer` never blocks and never waits: the event is queued (or counted `overflow` /
 * `busUnavailable` when the queue is full). A pump, run in a microtask after offers and after
 * every acknowledgement, sends while fewer than `window` messages are unacknowledged: whatever
 * queued up meanwhile goes out as one message of up to `batchMax` events, so a lone event leaves
 * at once and a burst is batched. Every message has a JetStream message id `<epoch>:<first>`, so a
 * retry after a lost acknowledgement is stored once (within the stream's duplicate window).
 *
 * The stream must hold an origin's messages in number order, and pipelined publishes keep that
 * order only while the stream takes every one of them. So the window is open only while the
 * stream is *proven*: after a failure, or when the connection breaks, nothing new goes out until
 * what is in flight has settled; then the lowest failed message goes out alone, as a probe, until
 * the stream acknowledges a message (the probe, or one that was still in flight: either shows the
 * stream takes publishes again). A server that just restarted answers "no responders" for a
 * while, and a publish pipelined behind a refused one would be stored ahead of it. A lost connection
 * fails the whole window at once ({@link DurableSender.connectionLost}): it goes out again, in
 * order, from the probe on, when the connection is back.
 *
 * Failed messages are retried in number order, before anything new, after a short backoff. A
 * refusal because the stream is not there (yet) costs no attempt; a timeout or another error
 * does, and after `maxAttempts` the message's events are counted `unconfirmed` (stored or not,
 * nobody knows; if not, receivers count them missed). While the connection is down nothing is
 * sent; events wait in the queue.
 * @internal
 */
import type { BusPathStats } from './bus-stats.js';
import type { StampedEvent } from './port.js';
import type { PayloadJson } from '../kernel/json-writer.js';
import { packMessage, utf8Over } from './wire.js';

/** What the sender needs of JetStream. */
export interface DurableTransport {
  /** True while connected. */
  readonly up: boolean;
  /** Publishes and resolves on the stream's acknowledgement. */
  publish(subject: string, body: string, msgId: string): Promise<unknown>;
  /**
   * True when a failed publish was certainly not stored because nothing took it: no stream
   * listens yet ("no responders", JetStream not ready after a server restart). Costs no attempt.
   */
  notReady(error: unknown): boolean;
  /** Runs `fn` after `ms` (the backoff before a retry); returns its cancel. */
  later(ms: number, fn: () => void): () => void;
}

/** Limits of the durable sender. */
export interface DurableSenderOptions {
  /** Events queued at most (not yet in a message). Default 10,000. */
  readonly maxQueued: number;
  /** Messages awaiting acknowledgement at most. Default 32. */
  readonly window: number;
  /** Events per message at most. Default 100. */
  readonly batchMax: number;
  /** Attempts per message before its events are counted unconfirmed. Default 5. */
  readonly maxAttempts: number;
  /** Largest message, in bytes; a batch stops at a quarter of it (in characters). Default 1 MiB. */
  readonly maxMessageBytes: number;
  /** Writes a payload's JSON (the node's accepted events: its catalogue checks' writers). Default `JSON.stringify`. */
  readonly payloadJson?: PayloadJson;
}

export const DEFAULT_DURABLE_SENDER: DurableSenderOptions = { maxQueued: 10_000, window: 32, batchMax: 100, maxAttempts: 5, maxMessageBytes: 1024 * 1024 };

/** Backoff before a retry: doubling from the first, up to the last, after consecutive failures. */
export const RETRY_BACKOFF_MS = { first: 50, max: 1000 } as const;

interface Outgoing {
  readonly first: number;
  readonly count: number;
  readonly subject: string;
  readonly body: string;
  /** Attempts that count towards `maxAttempts`. */
  attempts: number;
}

export class DurableSender {
  /** Queued events: `queue[head ..]`. */
  private queue: StampedEvent[] = [];
  private head = 0;
  /** Failed messages to send again, in number order, before anything new. */
  private readonly retry: Outgoing[] = [];
  /** Messages awaiting the stream's acknowledgement on the current connection. */
  private readonly flying = new Set<Outgoing>();
  /** Bumped when the connection is lost: answers to attempts made before no longer count. */
  private generation = 0;
  private closed = false;
  /**
   * True while the stream took the last message answered: the window is open. False after a failure
   * or a lost connection, until the stream acknowledges a message (a probe sent alone, or one still
   * in flight).
   */
  protected proven = true;
  /** Failures since the last acknowledgement (the backoff doubles with them). */
  private failures = 0;
  /** Cancels the pending backoff; while set, nothing is sent. */
  private backoff: (() => void) | null = null;
  private next = 1;
  private pumpScheduled = false;
  /** Most messages ever awaiting acknowledgement at once (for tests of the window). */
  maxInFlightSeen = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly epochJson: string,
    private readonly epoch: string,
    private readonly subjectOf: (event: StampedEvent) => string,
    private readonly batchSubject: string,
    private readonly transport: DurableTransport,
    private readonly stats: BusPathStats,
    private readonly options: DurableSenderOptions = DEFAULT_DURABLE_SENDER,
  ) {}

  /** Queues a local event for the stream. Never blocks. */
  offer(event: StampedEvent): void {
    this.stats.offered++;
    if (this.queue.length - this.head >= this.options.maxQueued) {
      if (this.transport.up) this.stats.overflow++;
      else this.stats.busUnavailable++;
      return;
    }
    this.queue.push(event);
    this.stats.pending++;
    this.schedulePump();
  }

  /** Sends what the window allows; called again by acknowledgements, the backoff and reconnection. */
  readonly pump = (): void => {
    this.pumpScheduled = false;
    const limit = this.proven ? this.options.window : 1;
    while (!this.closed && this.transport.up && this.backoff === null && this.flying.size < limit) {
      const out = this.retry.shift() ?? this.take();
      if (out === undefined) break;
      this.send(out);
    }
    this.settleIdle();
  };

  /** Events waiting (queued, in flight or to retry). */
  get pendingEvents(): number {
    return this.stats.pending;
  }

  /** Resolves when nothing is queued, in flight or awaiting retry. */
  whenIdle(): Promise<void> {
    if (this.stats.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Gives up on everything still waiting (the bus is closing): queued events count as
   * `busUnavailable`, those to retry (and those in flight, if their publish fails) as `unconfirmed`.
   */
  abandon(): void {
    this.closed = true;
    this.cancelBackoff();
    const queued = this.queue.length - this.head;
    this.stats.busUnavailable += queued;
    let retried = 0;
    for (const out of this.retry) retried += out.count;
    this.stats.unconfirmed += retried;
    this.stats.pending -= queued + retried;
    this.queue = [];
    this.head = 0;
    this.retry.length = 0;
    this.settleIdle();
  }

  /**
   * The connection broke. The client does not fail what is awaiting an acknowledgement (each
   * publish times out on its own, maybe after the connection is back and newer messages were
   * stored, which would leave a gap): so every message in flight is taken back now, as failed
   * (costing no attempt: the connection failed, not the message), to go out again first, in
   * order, from a probe, with its id (the stream keeps a message it already had once). Late
   * answers to these attempts are ignored.
   */
  connectionLost(): void {
    this.generation++;
    this.proven = false;
    this.cancelBackoff();
    this.failures = 0;
    const lost = [...this.flying];
    this.flying.clear();
    for (const out of lost) this.retryOrGiveUp(out, false);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pump);
  }

  /**
   * Takes up to `batchMax` queued events as one message (fewer when they reach a quarter of the
   * message size limit). An event too large for a message on its own is counted and dropped.
   */
  private take(): Outgoing | undefined {
    for (;;) {
      if (this.head === this.queue.length) return undefined;
      const single = this.queue[this.head] as StampedEvent;
      const { body, count } = packMessage(this.epochJson, this.next, this.queue, this.head, this.options.batchMax, this.options.maxMessageBytes / 4, this.options.payloadJson);
      this.advance(count);
      if (count === 1 && utf8Over(body, this.options.maxMessageBytes)) {
        this.stats.tooLarge++;
        this.stats.pending--;
        continue;
      }
      const first = this.next;
      this.next += count;
      return { first, count, subject: count === 1 ? this.subjectOf(single) : this.batchSubject, body, attempts: 0 };
    }
  }

  /** Drops `count` events from the front of the queue. */
  private advance(count: number): void {
    this.head += count;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private send(out: Outgoing): void {
    out.attempts++;
    this.flying.add(out);
    if (this.flying.size > this.maxInFlightSeen) this.maxInFlightSeen = this.flying.size;
    const generation = this.generation;
    let promise: Promise<unknown>;
    try {
      promise = this.transport.publish(out.subject, out.body, `${this.epoch}:${out.first}`);
    } catch (error) {
      promise = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    promise.then(
      () => {
        if (generation !== this.generation) return; // an attempt from before the connection broke: sent again since
        this.flying.delete(out);
        this.proven = true;
        this.failures = 0;
        this.stats.sent += out.count;
        this.stats.pending -= out.count;
        this.stats.messages++;
        this.pump();
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.flying.delete(out);
        this.failed(out, error);
        this.pump();
      },
    );
  }

  /**
   * A failed attempt: the window closes until a probe gets through; the message is retried in
   * number order after a backoff, or given up after its last attempt.
   */
  private failed(out: Outgoing, error: unknown): void {
    this.proven = false;
    this.retryOrGiveUp(out, !this.transport.notReady(error));
    if (this.closed || this.backoff !== null) return;
    const delay = Math.min(RETRY_BACKOFF_MS.first * 2 ** this.failures, RETRY_BACKOFF_MS.max);
    this.failures++;
    this.backoff = this.transport.later(delay, () => {
      this.backoff = null;
      this.pump();
    });
  }

  /**
   * Puts a failed message back on the retry list, in number order; or counts its events
   * unconfirmed after its last attempt, or when the sender is closed.
   */
  private retryOrGiveUp(out: Outgoing, costsAttempt: boolean): void {
    if (!costsAttempt) out.attempts--;
    if (this.closed || out.attempts >= this.options.maxAttempts) {
      this.stats.unconfirmed += out.count;
      this.stats.pending -= out.count;
      return;
    }
    this.stats.retries++;
    let i = this.retry.length;
    while (i > 0 && (this.retry[i - 1] as Outgoing).first > out.first) i--;
    this.retry.splice(i, 0, out);
  }

  private cancelBackoff(): void {
    this.backoff?.();
    this.backoff = null;
  }

  private settleIdle(): void {
    if (this.stats.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
