/**
 * The core path's publisher: at most once, never blocking, and batching where it pays.
 *
 * Events given in one turn of the event loop are gathered and sent when it ends (a microtask), or
 * as soon as `batchMax` have gathered: a lone event goes out on its type's subject,
 * `<prefix>.ev.<node>.<EventType>`; a burst goes out as batches of up to `batchMax` events on the
 * node's batch subject, `<prefix>.ev.<node>`. A message costs the client, the server and every
 * receiver the same whatever it holds, so a burst costs a fraction of one message per event.
 *
 * The NATS client writes what it is given to its socket without limit, and throws away its
 * outbound buffer when it reconnects. So the sender keeps its own bound: bytes written since the
 * last round trip the server confirmed (a flush's PONG, requested every `flushBytes`). Past
 * `maxPendingBytes` unconfirmed, events are counted `overflow`; while the connection is down
 * they are counted `busUnavailable`. What the client had written when a connection broke is lost
 * on the way; receivers count it as `missed` (a gap in the numbering). @internal
 */
import type { BusPathStats } from './bus-stats.js';
import type { StampedEvent } from './port.js';
import type { PayloadJson } from '../kernel/json-writer.js';
import { packMessage, utf8Over } from './wire.js';

/** What the sender needs of the connection. */
export interface CoreTransport {
  readonly up: boolean;
  /** Hands a message to the client (synchronous; may throw if the connection is closed). */
  publish(subject: string, body: string): void;
  /** Resolves when the server has processed everything published before. */
  flush(): Promise<void>;
}

/** Limits of the core sender. */
export interface CoreSenderOptions {
  /** Bytes written but not yet confirmed by a round trip, at most. Default 8 MiB. */
  readonly maxPendingBytes: number;
  /** A round trip is requested after this many bytes. Default 64 KiB. */
  readonly flushBytes: number;
  /** Largest message, in bytes; a batch stops at a quarter of it (in characters). Default 1 MiB. */
  readonly maxMessageBytes: number;
  /** Events per message at most; 1 sends every event on its own. Default 100. */
  readonly batchMax: number;
  /** Writes a payload's JSON (the node's accepted events: its catalogue checks' writers). Default `JSON.stringify`. */
  readonly payloadJson?: PayloadJson;
}

export const DEFAULT_CORE_SENDER: CoreSenderOptions = { maxPendingBytes: 8 * 1024 * 1024, flushBytes: 64 * 1024, maxMessageBytes: 1024 * 1024, batchMax: 100 };

export class CoreSender {
  private next = 1;
  private unconfirmedBytes = 0;
  private sinceFlush = 0;
  /** Bumped on every disconnection: round trips requested before it no longer count. */
  private generation = 0;
  /** Events given this turn, not yet sent (at most `batchMax`). */
  private gathered: StampedEvent[] = [];
  private flushScheduled = false;

  constructor(
    private readonly epochJson: string,
    private readonly subjectOf: (event: StampedEvent) => string,
    private readonly batchSubject: string,
    private readonly transport: CoreTransport,
    private readonly stats: BusPathStats,
    private readonly options: CoreSenderOptions = DEFAULT_CORE_SENDER,
  ) {}

  /** Takes one event to send (this turn), or counts why not. Never blocks. */
  send(event: StampedEvent): void {
    this.stats.offered++;
    if (!this.transport.up) {
      this.stats.busUnavailable++;
      return;
    }
    if (this.unconfirmedBytes >= this.options.maxPendingBytes) {
      this.stats.overflow++;
      return;
    }
    this.gathered.push(event);
    this.stats.pending++;
    if (this.gathered.length >= this.options.batchMax) this.sendGathered();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.sendGathered);
    }
  }

  /** Sends what was gathered, as few messages as the limits allow. */
  private readonly sendGathered = (): void => {
    this.flushScheduled = false;
    const events = this.gathered;
    if (events.length === 0) return;
    this.gathered = [];
    this.stats.pending -= events.length;
    let from = 0;
    while (from < events.length) {
      if (!this.transport.up) {
        this.stats.busUnavailable += events.length - from;
        return;
      }
      const { body, count } = packMessage(this.epochJson, this.next, events, from, this.options.batchMax, this.options.maxMessageBytes / 4, this.options.payloadJson);
      const single = events[from] as StampedEvent;
      from += count;
      if (count === 1 && utf8Over(body, this.options.maxMessageBytes)) {
        this.stats.tooLarge++;
        continue;
      }
      try {
        this.transport.publish(count === 1 ? this.subjectOf(single) : this.batchSubject, body);
      } catch {
        this.stats.busUnavailable += count;
        continue;
      }
      this.next += count;
      this.stats.sent += count;
      this.stats.messages++;
      this.unconfirmedBytes += body.length;
      this.sinceFlush += body.length;
      if (this.sinceFlush >= this.options.flushBytes) this.roundTrip();
    }
  };

  /** The connection broke: what was unconfirmed is gone with the client's buffer. */
  reset(): void {
    this.generation++;
    this.unconfirmedBytes = 0;
    this.sinceFlush = 0;
  }

  /** Bytes written and not yet confirmed by the server. */
  get pendingBytes(): number {
    return this.unconfirmedBytes;
  }

  private roundTrip(): void {
    const bytes = this.sinceFlush;
    const generation = this.generation;
    this.sinceFlush = 0;
    this.transport.flush().then(
      () => {
        if (generation === this.generation) this.unconfirmedBytes -= bytes;
      },
      () => undefined, // disconnected: reset() has cleared the count
    );
  }
}
