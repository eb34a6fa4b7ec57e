/**
 * A replay feed on the store: reads a module's durable events ahead from the event log, a batch at
 * a time, while the router moves what is buffered into the module's mailbox as it drains (the
 * mailbox paces the replay; nothing is dropped). Live events deferred while the module is behind
 * extend the feed: they are read back from the log in their turn.
 *
 * The log's readers return only what is durable. When the feed has read everything durable and
 * still owes events (appended, not yet written), it waits for the log to settle them (without
 * hastening the group commit), then reads on. What retention removed, and records today's catalogue
 * refuses, are counted in the module's `replayGap`; what never became durable (a failed write) is
 * passed over (the node counts it `notDurable`).
 *
 * @internal
 */
import type { Logger } from '../kernel/logger.js';
import { ModactorError } from '../kernel/errors.js';
import type { Catalogue, EventMap, EventOf } from '../events/catalogue.js';
import type { EventLog } from '../store/event-log.js';
import type { LogReader } from '../store/log-reader.js';
import type { LoggedEvent } from '../store/record.js';
import type { ModuleIncarnation, ReplayFeed } from './event-router.js';

/** Events read ahead at most: the module's capacity, within these bounds. */
const MIN_AHEAD = 64;
const MAX_AHEAD = 1000;

/** What a feed needs. @internal */
export interface LogFeedOptions<E extends EventMap> {
  readonly log: EventLog;
  readonly catalogue: Catalogue<E>;
  readonly incarnation: ModuleIncarnation<E>;
  readonly fromSeq: number;
  readonly toSeq: number;
  /** Seqs it must not give (given live, or handled before). */
  readonly skip: (seq: number) => boolean;
  /** Called when it has read more or is done: the router pulls. */
  readonly resume: () => void;
  readonly logger: Logger;
}

/** @internal */
export class LogFeed<E extends EventMap> implements ReplayFeed<E> {
  scanned: number;
  private target: number;
  private readonly reader: LogReader;
  private buffer: EventOf<E>[] = [];
  private first = 0;
  private reading = false;
  private closed = false;
  /** The reader's gap already counted. */
  private gapCounted = 0;
  private readonly ahead: number;

  constructor(private readonly options: LogFeedOptions<E>) {
    this.scanned = options.fromSeq - 1;
    this.target = options.toSeq;
    this.reader = options.log.read({ fromSeq: options.fromSeq });
    this.ahead = Math.min(MAX_AHEAD, Math.max(MIN_AHEAD, options.incarnation.capacity));
    void this.fill();
  }

  head(): EventOf<E> | undefined {
    return this.buffer[this.first];
  }

  shift(): void {
    this.first++;
    if (this.first >= this.buffer.length) {
      this.buffer = [];
      this.first = 0;
    }
    if (this.buffered() * 2 < this.ahead) void this.fill();
  }

  get frontier(): number {
    const next = this.head();
    return next === undefined ? this.scanned : (next.meta?.seq as number) - 1;
  }

  get done(): boolean {
    return !this.reading && this.scanned >= this.target && this.buffered() === 0;
  }

  extend(seq: number): void {
    if (seq <= this.target) return;
    this.target = seq;
    void this.fill();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    this.first = 0;
    if (!this.reading) this.closeReader();
  }

  private buffered(): number {
    return this.buffer.length - this.first;
  }

  private closeReader(): void {
    this.reader.close().catch((error: unknown) => this.options.logger.warn({ err: error }, 'replay: closing a log reader failed'));
  }

  /** Reads until it holds enough, or has read up to its target. One read at a time. */
  private async fill(): Promise<void> {
    if (this.reading || this.closed) return;
    this.reading = true;
    try {
      // The target the last wait for the log covered: what is still missing up to it never became durable.
      let waitedFor: number | undefined;
      while (!this.closed && this.buffered() < this.ahead && this.scanned < this.target) {
        const batch = await this.reader.readBatch(this.ahead);
        if (this.closed) break;
        for (const record of batch) this.take(record);
        if (this.reader.position > this.scanned) this.scanned = this.reader.position;
        this.countGap(this.reader.gap - this.gapCounted);
        this.gapCounted = this.reader.gap;
        if (batch.length > 0) {
          this.options.resume();
          continue;
        }
        if (this.scanned >= this.target) break;
        if (waitedFor !== undefined) {
          // Everything appended up to it was written or failed, and read: what is missing is not
          // in the log (not durable types, or a failed write: the node counts those notDurable).
          if (waitedFor > this.scanned) this.scanned = waitedFor;
          waitedFor = undefined;
          continue;
        }
        // Caught up with what is durable: wait for the log to write what was appended.
        waitedFor = this.target;
        await this.options.log.settled();
      }
    } catch (error) {
      // The log cannot be read (a disk failure, a segment of another format): what is left is a gap.
      this.options.logger.error({ err: error, module: this.options.incarnation.name }, 'replay: the event log could not be read; the rest of this replay is counted as a gap');
      this.countGap(Math.max(0, this.target - this.scanned));
      this.scanned = Math.max(this.scanned, this.target);
    } finally {
      this.reading = false;
      if (this.closed) this.closeReader();
    }
    if (!this.closed) this.options.resume();
  }

  /** Keeps a record the module is owed (today's catalogue accepting it), as a frozen event. */
  private take(record: LoggedEvent): void {
    const seq = record.meta.seq;
    const { incarnation, catalogue } = this.options;
    if (seq > this.target || this.options.skip(seq) || !incarnation.types.includes(record.type)) return;
    const event = catalogue.check({ type: record.type, payload: record.payload }, record.meta);
    if (event instanceof ModactorError) {
      this.countGap(1);
      return;
    }
    this.buffer.push(event);
  }

  private countGap(n: number): void {
    if (n > 0) this.options.incarnation.stats.replayGap += n;
  }
}
