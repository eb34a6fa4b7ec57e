/**
 * The core path's publisher: one event per message on `<prefix>.ev.<node>.<EventType>`, at most
 * once, never blocking.
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
import { encodeMessage, utf8Over } from './wire.js';

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
  /** Largest message, in bytes. Default 1 MiB. */
  readonly maxMessageBytes: number;
}

export const DEFAULT_CORE_SENDER: CoreSenderOptions = { maxPendingBytes: 8 * 1024 * 1024, flushBytes: 64 * 1024, maxMessageBytes: 1024 * 1024 };

export class CoreSender {
  private next = 1;
  private unconfirmedBytes = 0;
  private sinceFlush = 0;
  /** Bumped on every disconnection: round trips requested before it no longer count. */
  private generation = 0;

  constructor(
    private readonly epochJson: string,
    private readonly subjectOf: (event: StampedEvent) => string,
    private readonly transport: CoreTransport,
    private readonly stats: BusPathStats,
    private readonly options: CoreSenderOptions = DEFAULT_CORE_SENDER,
  ) {}

  /** Sends one event, or counts why not. Never blocks. */
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
    const body = encodeMessage(this.epochJson, this.next, [event]);
    if (utf8Over(body, this.options.maxMessageBytes)) {
      this.stats.tooLarge++;
      return;
    }
    try {
      this.transport.publish(this.subjectOf(event), body);
    } catch {
      this.stats.busUnavailable++;
      return;
    }
    this.next++;
    this.stats.sent++;
    this.stats.messages++;
    this.unconfirmedBytes += body.length;
    this.sinceFlush += body.length;
    if (this.sinceFlush >= this.options.flushBytes) this.roundTrip();
  }

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
