/**
 * Reading the event log from a seq, in order, in batches the caller asks for (a replay paced by a
 * mailbox pulls what fits), one segment chunk at a time: the log is never loaded whole.
 */
import { ModactorError, describeValue } from '../kernel/errors.js';
import type { Catalogue, EventMap } from '../events/catalogue.js';
import { errorCode, type StoreFile, type StoreFs } from './fs.js';
import { LineReader, NEED_BYTES } from './line-reader.js';
import { decodeEvent, decodeHeader, peekSeqTime, unframe, type LoggedEvent, type Peeked } from './record.js';
import type { SegmentInfo } from './event-log.js';

/** Options of {@link EventLog.read}. */
export interface ReadOptions {
  /**
   * First seq wanted (inclusive). Default: the oldest retained record. Older than retention: the
   * reader starts at the oldest retained record and reports the {@link LogReader.gap}.
   */
  readonly fromSeq?: number;
  /** Last seq wanted (inclusive). Default: none (read up to what is durable). */
  readonly toSeq?: number;
  /** Only these event types; others are skipped and counted `filtered`. */
  readonly types?: readonly string[];
  /**
   * Today's check of a record (e.g. {@link acceptedBy} a catalogue): a record it refuses is
   * skipped and counted `rejected`.
   */
  readonly validate?: (event: LoggedEvent) => boolean;
}

/** What a reader skipped and returned so far. */
export interface ReadStats {
  /** Records returned. */
  readonly read: number;
  /** Corrupt records skipped (bad checksum, bad content, out of order). */
  readonly corrupt: number;
  /** Records `validate` refused. */
  readonly rejected: number;
  /** Records of other types than `types`. */
  readonly filtered: number;
}

/**
 * A reader of the log. It reads what is durable: when it has caught up, {@link readBatch} returns
 * an empty array, and a later call returns what was made durable since.
 *
 * @example
 * ```ts
 * const reader = log.read({ fromSeq: position + 1, validate: acceptedBy(nodeCatalogue) });
 * if (reader.gap > 0) log.warn({ gap: reader.gap }, 'replay starts after retention');
 * for (let batch = await reader.readBatch(100); batch.length > 0; batch = await reader.readBatch(100)) deliver(batch);
 * await reader.close();
 * ```
 */
export interface LogReader extends AsyncIterable<LoggedEvent> {
  /**
   * Seq numbers at or after `fromSeq` that retention removed (or that went missing with a segment
   * while reading): upper bound of the events this reader cannot return. 0 when none.
   */
  readonly gap: number;
  readonly stats: ReadStats;
  /**
   * The last seq returned or skipped (0 before the first read): every durable record up to it has
   * been read. After an empty {@link readBatch}, every record durable at that moment was read.
   */
  readonly position: number;
  /** Up to `max` (default 1000) next records, in seq order; empty when caught up. One call at a time. */
  readBatch(max?: number): Promise<LoggedEvent[]>;
  close(): Promise<void>;
}

/** What a reader reads from: the log's file system and its current segments. @internal */
export interface ReadSource {
  readonly fs: StoreFs;
  segments(): readonly SegmentInfo[];
  /** Where in `segment` a reader at `position` may start reading (a line start; 0 when unknown). */
  seekOffset?(segment: string, position: number): number;
}

/** A `validate` function accepting what `catalogue` accepts today. */
export function acceptedBy<Map extends EventMap>(catalogue: Catalogue<Map>): (event: LoggedEvent) => boolean {
  return (event) => !(catalogue.check(event) instanceof ModactorError);
}

/** @internal */
export function openLogReader(source: ReadSource, options: ReadOptions): LogReader {
  return new SegmentReader(source, options);
}

class SegmentReader implements LogReader {
  gap = 0;
  readonly stats = { read: 0, corrupt: 0, rejected: 0, filtered: 0 };
  private readonly toSeq: number;
  private readonly types: ReadonlySet<string> | undefined;
  /** Last seq returned or skipped: the reader's position. */
  position: number;
  private current: { name: string; file: StoreFile; lines: LineReader; end: number } | undefined;
  private started = false;
  private busy = false;
  private seeking = true;
  private readonly peeked: Peeked = { seq: 0, time: 0 };
  private finished = false;

  constructor(
    private readonly source: ReadSource,
    private readonly options: ReadOptions,
  ) {
    this.toSeq = options.toSeq ?? Number.POSITIVE_INFINITY;
    this.types = options.types === undefined ? undefined : new Set(options.types);
    this.position = 0;
  }

  async readBatch(max = 1000): Promise<LoggedEvent[]> {
    if (this.busy) throw new ModactorError('invalid-argument', 'Expected one readBatch at a time, got a second call while the first is pending');
    if (!Number.isSafeInteger(max) || max < 1) throw new ModactorError('invalid-argument', `Expected max to be a positive integer, got ${describeValue(max)}`);
    this.busy = true;
    try {
      return await this.read(max);
    } finally {
      this.busy = false;
    }
  }

  private async read(max: number): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    if (!this.started) this.start();
    while (out.length < max && !this.finished) {
      if (this.position >= this.toSeq) {
        this.finished = true;
        break;
      }
      if (this.current === undefined && !(await this.openNext())) break;
      const current = this.current as NonNullable<SegmentReader['current']>;
      const taken = current.lines.take();
      const line = taken === NEED_BYTES ? await current.lines.next() : taken;
      if (line === undefined) {
        // The end of what was durable when this segment was opened: more may have come since.
        const segments = this.source.segments();
        const now = segments.find((s) => s.name === current.name);
        if (now !== undefined && now.bytes > current.end) {
          current.lines = new LineReader(current.file, current.lines.position, now.bytes);
          current.end = now.bytes;
          continue;
        }
        if (now !== undefined && now === segments.at(-1)) break; // caught up: stay for the next call
        await this.closeCurrent();
        continue;
      }
      if (!line.complete) continue; // not reached below a segment's durable end; skipped if it were
      if (line.offset === 0) {
        const header = unframe(line.buffer, line.start, line.end);
        if (!('fault' in header) && decodeHeader(header.json) !== undefined) continue;
      }
      // Until past the position (a new segment, a start from a seq), records are skipped cheaply:
      // their seq is peeked, without checking or parsing them.
      if (this.seeking) {
        const body = line.buffer.subarray(line.start + 9, line.end);
        if (peekSeqTime(body, this.peeked) && this.peeked.seq <= this.position) continue;
      }
      const checked = unframe(line.buffer, line.start, line.end);
      const event = 'fault' in checked ? undefined : decodeEvent(checked.json);
      if (event === undefined || event.meta.seq <= this.position) {
        this.stats.corrupt++;
        continue;
      }
      if (event.meta.seq > this.toSeq) {
        this.finished = true;
        break;
      }
      this.position = event.meta.seq;
      this.seeking = false;
      if (this.types !== undefined && !this.types.has(event.type)) {
        this.stats.filtered++;
        continue;
      }
      if (this.options.validate !== undefined && !this.options.validate(event)) {
        this.stats.rejected++;
        continue;
      }
      this.stats.read++;
      out.push(event);
    }
    return out;
  }

  async close(): Promise<void> {
    this.finished = true;
    await this.closeCurrent();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LoggedEvent> {
    try {
      for (let batch = await this.readBatch(); batch.length > 0; batch = await this.readBatch()) yield* batch;
    } finally {
      await this.close();
    }
  }

  /**
   * The position before the first record wanted. Seqs start at 1; without `fromSeq`, the reader
   * starts at the oldest retained record and there is no gap.
   */
  private start(): void {
    this.started = true;
    this.position = this.options.fromSeq === undefined ? (this.source.segments()[0]?.prevSeq ?? 0) : Math.max(this.options.fromSeq, 1) - 1;
  }

  /** Opens the first segment with records after the position; false when there is none (caught up). */
  private async openNext(): Promise<boolean> {
    for (;;) {
      const next = this.source.segments().find((s) => s.lastSeq > this.position);
      if (next === undefined) return false;
      if (next.prevSeq > this.position) {
        // Segments between the position and this one are gone (retention while reading).
        this.gap += next.prevSeq - this.position;
        this.position = next.prevSeq;
      }
      try {
        const file = await this.source.fs.open(next.path, 'read');
        const from = this.source.seekOffset?.(next.name, this.position) ?? 0;
        this.current = { name: next.name, file, lines: new LineReader(file, from, next.bytes), end: next.bytes };
        this.seeking = true;
        return true;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
        // Removed by retention between the listing and the open: look again.
      }
    }
  }

  private async closeCurrent(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.file.close();
  }
}
