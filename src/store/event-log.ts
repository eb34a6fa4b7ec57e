/**
 * The event log: append-only segments of checksummed records on a {@link StoreFs}, written with
 * group commit, repaired at open, rotated at a size and retained by size and age.
 *
 * - `append` is synchronous and never blocks: the record is encoded and queued. Queued records are
 *   written and `fdatasync`ed in batches of at most `batchMaxEvents`, `batchMaxDelayMs` after the
 *   first of them (at once when a batch is full or `flush` asks), one batch at a time; what
 *   arrives while a batch is on its way forms the next one, which then waits for its own delay.
 * - A failed write or sync (ENOSPC, EIO, ...) never throws out of `append`: the batch's records are
 *   counted not durable, the log reports itself `degraded`, and the next batch is tried as usual
 *   (after cutting what the failed one may have left). A successful batch makes it `ok` again.
 * - `flush` resolves once every record appended before it is durable, and rejects with
 *   `store-failed` when a record appended since the previous `flush` call could not be made durable.
 */
import { dirname, join } from 'node:path';
import { issue } from '../kernel/checks.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import { createRealScheduler, type Scheduler, type TimerHandle } from '../kernel/scheduler.js';
import { errorCode, nodeFs, type StoreFile, type StoreFs } from './fs.js';
import { openLogReader, type LogReader, type ReadOptions, type ReadSource } from './log-reader.js';
import { RecordBuffer, encodeHeader, eventBody, segmentFirstSeq, segmentName, type LoggedEvent, type PayloadJson } from './record.js';
import { scanSegment, type BadTail, type CorruptRecord } from './segment-scan.js';

/** Options of {@link openEventLog}. */
export interface EventLogOptions {
  /** The directory of the log (created when missing, unless read-only). */
  readonly dir: string;
  /** The file system. Default: the real one. */
  readonly fs?: StoreFs;
  /** Where timers and the clock (for age retention) come from. Default: a real scheduler. */
  readonly scheduler?: Pick<Scheduler, 'setTimer' | 'now'>;
  readonly logger?: Logger;
  /** Most records per batch (one write and one `fdatasync`). Default 1000. */
  readonly batchMaxEvents?: number;
  /** Longest a record waits for its batch to start, in ms. Default 2. */
  readonly batchMaxDelayMs?: number;
  /** A segment is rotated before a batch would take it past this size. Default 64 MiB. */
  readonly segmentMaxBytes?: number;
  /** Oldest segments are removed while the log is larger. Default: no limit. */
  readonly retainMaxBytes?: number;
  /** Segments whose newest record is older than this (scheduler clock) are removed. Default: no limit. */
  readonly retainMaxAgeMs?: number;
  /**
   * Most records queued and not yet written. Beyond it an append is counted not durable (memory
   * stays bounded when the disk cannot keep up). Default 100,000.
   */
  readonly maxPendingEvents?: number;
  /** Open without repairing or writing anything (to inspect a log another process may use). */
  readonly readOnly?: boolean;
  /**
   * Writes a payload's JSON text where the caller has a faster way than `JSON.stringify` (a node
   * passes its catalogue's writers). It must give exactly what `JSON.stringify(payload)` gives: the
   * log does not check. Default: `JSON.stringify`.
   */
  readonly payloadJson?: PayloadJson;
}

/** One segment as the log knows it. */
export interface SegmentInfo {
  readonly name: string;
  readonly path: string;
  /** Seq of its first record (from its name). */
  readonly firstSeq: number;
  /** The last seq written to the log before it (from its header). */
  readonly prevSeq: number;
  /** Seq of its last valid record (`prevSeq` when it has none). */
  readonly lastSeq: number;
  /** Time of its last valid record (`-Infinity` when none). */
  readonly lastTime: number;
  /** Valid records. */
  readonly records: number;
  /** Bytes up to the end of its last valid record: what readers read. */
  readonly bytes: number;
}

/** What the log found, repaired and removed at open. */
export interface RecoveryReport {
  readonly segments: number;
  readonly records: number;
  /** Seq of the oldest retained record (undefined when the log is empty). */
  readonly firstSeq: number | undefined;
  /** Seq of the newest record (0 when the log is empty): the node continues after it. */
  readonly lastSeq: number;
  /** Bytes at the end of the last segment that a crash cut: dropped (cut from the file unless read-only). */
  readonly torn: readonly (BadTail & { readonly segment: string })[];
  /** Bad records in the middle, skipped by every reader, never removed. */
  readonly corrupt: readonly CorruptRecord[];
  /** Segments removed by retention at open. */
  readonly removedSegments: number;
}

/** The log's state, readable at any time. */
export interface EventLogStatus {
  /** `degraded` after a batch failed, until one succeeds. */
  readonly state: 'ok' | 'degraded' | 'closed';
  /** Seq of the last record appended. */
  readonly lastSeq: number;
  /** Seq of the last record made durable (0 when none since open and the log was empty). */
  readonly durableSeq: number;
  /** Records appended since open (those refused as bad input not included). */
  readonly appended: number;
  /** Records written and synced since open. */
  readonly durable: number;
  /** Records that could not be made durable since open (failed batches, overflow). */
  readonly notDurable: number;
  /** Records queued or on their way. */
  readonly pending: number;
  /** Batches written and synced since open. */
  readonly batches: number;
  /** Batches that failed since open. */
  readonly failedBatches: number;
  /** The last failure (a Node error code such as `ENOSPC`, or `overflow`). */
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  readonly segments: number;
  /** Bytes in all segments. */
  readonly bytes: number;
}

/** An open event log. */
export interface EventLog {
  readonly dir: string;
  readonly readOnly: boolean;
  readonly recovery: RecoveryReport;
  /** Seq of the last record appended (after open: the last one recovered). */
  readonly lastSeq: number;
  /**
   * Queues a record. Synchronous, never blocks, never throws for a disk failure. Throws
   * `invalid-argument` for a record it cannot keep (its `meta.seq` not above {@link lastSeq}, a bad
   * type, source or time, a payload JSON cannot represent), and `store-failed` once closed.
   */
  append(event: LoggedEvent): void;
  /** Resolves once every record appended before it is durable; see the module documentation. */
  flush(): Promise<void>;
  /**
   * Resolves (never rejects) once every record appended before it was written and synced, or
   * failed, without hastening its batch: what a reader waiting for the records just appended
   * awaits. Resolves at once when nothing is pending, and at close.
   */
  settled(): Promise<void>;
  status(): EventLogStatus;
  /** The segments, oldest first. */
  segments(): readonly SegmentInfo[];
  /** Reads durable records from a seq; see {@link ReadOptions}. */
  read(options?: ReadOptions): LogReader;
  /** Flushes, then closes the files. Rejects like {@link flush} when the last records failed. */
  close(): Promise<void>;
}

interface Batch {
  readonly records: RecordBuffer;
  /** Index (since open) of the batch's first record. */
  readonly start: number;
  readonly firstSeq: number;
  /** The last seq appended before this batch. */
  readonly prevSeq: number;
  lastSeq: number;
  lastTime: number;
  /** When its first record was appended (scheduler clock): it is written at most `batchMaxDelayMs` later. */
  readonly openedAt: number;
}

/** A flush waiting for its window of records `[start, end)` to settle. */
interface Waiter {
  readonly start: number;
  readonly end: number;
  /** Records of the window that failed (indexed ones, then those refused at append for overflow). */
  failed: number;
  readonly overflow: number;
  readonly resolve: () => void;
  readonly reject: (error: ModactorError) => void;
}

type Segment = { -readonly [K in keyof SegmentInfo]: SegmentInfo[K] };

interface Active {
  readonly segment: Segment;
  file: StoreFile | undefined;
}

/** What a failed batch may have left on disk, undone before the next one. */
type Repair = { readonly kind: 'truncate'; readonly to: number } | { readonly kind: 'discard'; readonly path: string; readonly file: StoreFile };

const DEFAULTS = {
  batchMaxEvents: 1000,
  batchMaxDelayMs: 5,
  segmentMaxBytes: 64 * 1024 * 1024,
  retainMaxBytes: Number.POSITIVE_INFINITY,
  retainMaxAgeMs: Number.POSITIVE_INFINITY,
  maxPendingEvents: 100_000,
} as const;

/**
 * Opens (or creates) the event log in `options.dir`: scans every segment, drops a torn tail
 * (cutting it from the file), reports corrupt records, applies retention, and recovers the last seq.
 *
 * @example
 * ```ts
 * const log = await openEventLog({ dir: './data/events', scheduler: node.scheduler });
 * log.append({ type: 'NewBlock', payload: { blockHash, height: 1 }, meta: { seq: log.lastSeq + 1, source: 'node', time: 0 } });
 * await log.flush(); // on disk
 * for await (const event of log.read({ fromSeq: 1 })) console.log(event.meta.seq, event.type);
 * ```
 */
export async function openEventLog(options: EventLogOptions): Promise<EventLog> {
  const settings = checkOptions(options);
  try {
    return await openChecked(options, settings);
  } catch (error) {
    if (error instanceof ModactorError) throw error;
    throw new ModactorError(
      'store-failed',
      `Expected to open the event log in ${options.dir}, got ${error instanceof Error ? error.message : describeValue(error)}`,
      { cause: error },
    );
  }
}

async function openChecked(options: EventLogOptions, settings: Settings): Promise<EventLog> {
  const fs = options.fs ?? nodeFs();
  const logger = (options.logger ?? silentLogger()).child({ module: 'store' });
  const readOnly = options.readOnly === true;
  if (!readOnly) {
    await fs.mkdir(options.dir);
    await fs.syncDir(dirname(options.dir));
  }

  const names = (await fs.readdir(options.dir))
    .map((name) => ({ name, firstSeq: segmentFirstSeq(name) }))
    .filter((s): s is { name: string; firstSeq: number } => s.firstSeq !== undefined)
    .sort((a, b) => a.firstSeq - b.firstSeq);
  const segments: Segment[] = [];
  const corrupt: CorruptRecord[] = [];
  const tails: (BadTail & { segment: string })[] = [];
  let lastSeq = 0;
  for (const { name, firstSeq } of names) {
    const path = join(options.dir, name);
    const scan = await scanSegment(fs, path, name, lastSeq);
    corrupt.push(...scan.corrupt);
    if (scan.tail !== undefined) tails.push({ segment: name, ...scan.tail });
    segments.push({
      name,
      path,
      firstSeq,
      prevSeq: scan.header?.prevSeq ?? lastSeq,
      lastSeq: scan.lastSeq,
      lastTime: scan.lastTime,
      records: scan.records,
      bytes: scan.goodEnd,
    });
    lastSeq = scan.lastSeq;
  }

  // Only the last segment can end torn (a segment is synced before the next is made); a bad end
  // anywhere else is corruption. A last segment with no valid header and no record was cut as a whole.
  const torn: (BadTail & { segment: string })[] = [];
  const last = segments.at(-1);
  for (const tail of tails) {
    if (tail.segment === last?.name) torn.push(tail);
    else corrupt.push({ segment: tail.segment, offset: tail.offset, length: tail.bytes, reason: 'cut' });
  }
  const wholeTorn = last !== undefined && last.bytes === 0 && last.records === 0;
  if (wholeTorn && torn.length === 0) torn.push({ segment: last.name, offset: 0, bytes: 0, records: 0 });
  if (!readOnly && wholeTorn) {
    await fs.unlink(last.path);
    segments.pop();
  }
  const tail = segments.at(-1);
  if (!readOnly && tail !== undefined) {
    // Cut the torn tail, and make what a process crash left in the page cache durable: the log
    // goes on from it, so a later power loss must not take it and keep what follows.
    const file = await fs.open(tail.path, 'write');
    try {
      if (tail === last && torn.length > 0) await file.truncate(tail.bytes);
      await file.datasync();
    } finally {
      await file.close();
    }
  }
  // The entries of segments a crash left may not be durable yet (one was being created): the log
  // writes on in them, so make their names durable now.
  if (!readOnly) await fs.syncDir(options.dir);
  corrupt.sort((a, b) => (a.segment === b.segment ? a.offset - b.offset : a.segment < b.segment ? -1 : 1));
  if (corrupt.length > 0) {
    logger.warn({ corrupt: corrupt.slice(0, 10), count: corrupt.length }, 'event log: corrupt records found; readers skip them');
  }
  if (torn.length > 0) {
    logger.warn({ torn }, readOnly ? 'event log: torn tail found (left as is: read-only)' : 'event log: torn tail dropped');
  }

  const log = new FileEventLog(options.dir, fs, settings, options.scheduler, logger, readOnly, segments, lastSeq, options.payloadJson);
  const removedSegments = readOnly ? 0 : await log.applyRetention();
  const report: RecoveryReport = {
    segments: log.segments().length,
    records: log.segments().reduce((n, s) => n + s.records, 0),
    firstSeq: log.segments().find((s) => s.records > 0)?.firstSeq,
    lastSeq,
    torn,
    corrupt,
    removedSegments,
  };
  log.recovery = report;
  logger.info(
    { segments: report.segments, records: report.records, firstSeq: report.firstSeq, lastSeq, removedSegments, readOnly },
    'event log opened',
  );
  return log;
}

type Settings = { -readonly [K in keyof typeof DEFAULTS]: number };

function checkOptions(options: EventLogOptions): Settings {
  if (options === null || typeof options !== 'object') bad('options', 'an object { dir, ... }', options);
  if (typeof options.dir !== 'string' || options.dir.length === 0) bad('dir', 'a non-empty path', options.dir);
  const settings: Settings = { ...DEFAULTS };
  const positive = (key: keyof Settings, integer: boolean, infinite: boolean): void => {
    const value = options[key];
    if (value === undefined) return;
    const ok = (infinite && value === Number.POSITIVE_INFINITY) || (integer ? Number.isSafeInteger(value) : Number.isFinite(value));
    if (!ok || value <= 0) bad(key, `a positive ${integer ? 'integer' : 'number'}${infinite ? ' or Infinity' : ''}`, value);
    settings[key] = value;
  };
  positive('batchMaxEvents', true, false);
  positive('batchMaxDelayMs', false, false);
  positive('segmentMaxBytes', true, false);
  positive('retainMaxBytes', true, true);
  positive('retainMaxAgeMs', false, true);
  positive('maxPendingEvents', true, false);
  if (options.payloadJson !== undefined && typeof options.payloadJson !== 'function') bad('payloadJson', 'a function', options.payloadJson);
  return settings;
}

function bad(field: string, expected: string, got: unknown): never {
  throw new ModactorError('invalid-argument', `Invalid event log options: ${field}: expected ${expected}, got ${describeValue(got)}`, {
    issues: [issue(field, expected, describeValue(got))],
  });
}

/** Bytes of records between two seek points of a segment (a reader skips at most this much). */
const SEEK_STRIDE = 64 * 1024;

/** How many written batches' buffers are kept for reuse (one being written, one filling, one spare). */
const SPARE_BUFFERS = 2;

class FileEventLog implements EventLog, ReadSource {
  recovery!: RecoveryReport;
  /**
   * Where batches begin in the segments this log wrote since it opened, about every
   * {@link SEEK_STRIDE} bytes, in seq order: a reader starting mid-segment seeks to the last one
   * at or before its position instead of scanning the segment from its start.
   */
  private readonly seekPoints = new Map<string, { readonly seq: number; readonly offset: number }[]>();
  private readonly scheduler: Pick<Scheduler, 'setTimer' | 'now'>;
  private active: Active | undefined;
  private repair: Repair | undefined;
  private readonly queue: Batch[] = [];
  /** Buffers of written batches, kept for the next ones. */
  private readonly spare: RecordBuffer[] = [];
  private open: Batch | undefined;
  private timer: TimerHandle | undefined;
  private writing = false;
  private closing = false;
  private closed = false;
  // Records since open are numbered by index; settled ones are behind `settled`.
  private appendedCount = 0;
  private settledCount = 0;
  private pendingCount = 0;
  private flushMark = 0;
  private openWindowFailed = 0;
  private openWindowOverflow = 0;
  private overflowCount = 0;
  private waiters: Waiter[] = [];
  /** {@link settled} calls waiting for the records before `end` (indexed since open) to settle. */
  private idle: { readonly end: number; readonly resolve: () => void }[] = [];
  private durableSeq: number;
  private durableCount = 0;
  private notDurable = 0;
  private batches = 0;
  private failedBatches = 0;
  private degraded = false;
  private lastError: { code: string; message: string } | undefined;
  private retentionFailing = false;

  constructor(
    readonly dir: string,
    readonly fs: StoreFs,
    private readonly settings: Settings,
    scheduler: Pick<Scheduler, 'setTimer' | 'now'> | undefined,
    private readonly logger: Logger,
    readonly readOnly: boolean,
    private readonly segmentList: Segment[],
    public lastSeq: number,
    private readonly payloadJson: PayloadJson | undefined,
  ) {
    this.scheduler = scheduler ?? createRealScheduler();
    this.durableSeq = lastSeq;
    const last = segmentList.at(-1);
    if (last !== undefined) this.active = { segment: last, file: undefined };
  }

  // ---- appending ------------------------------------------------------------------------------

  append(event: LoggedEvent): void {
    if (this.closing || this.readOnly) {
      throw new ModactorError('store-failed', `Expected an open, writable event log, got one ${this.readOnly ? 'opened read-only' : 'closed'}`);
    }
    const seq = (event as { meta?: { seq?: unknown } } | null)?.meta?.seq;
    if (typeof seq !== 'number' || !(seq > this.lastSeq)) {
      throw new ModactorError('invalid-argument', `Expected meta.seq above ${this.lastSeq}, got ${describeValue(seq)}`, {
        issues: [issue('meta.seq', `a seq above ${this.lastSeq}`, describeValue(seq))],
      });
    }
    const body = eventBody(event, this.payloadJson);
    const prevSeq = this.lastSeq;
    this.lastSeq = seq;
    if (this.pendingCount >= this.settings.maxPendingEvents) {
      this.notDurable++;
      this.overflowCount++;
      this.openWindowOverflow++;
      this.fail({ code: 'overflow', message: `more than ${this.settings.maxPendingEvents} records waiting for the disk` }, 1);
      return;
    }
    let batch = this.open;
    if (batch === undefined) {
      batch = {
        records: this.spare.pop() ?? new RecordBuffer(),
        start: this.appendedCount,
        firstSeq: seq,
        prevSeq,
        lastSeq: seq,
        lastTime: event.meta.time,
        openedAt: this.scheduler.now(),
      };
      this.open = batch;
      this.queue.push(batch);
    }
    batch.records.append(event, body);
    batch.lastSeq = seq;
    batch.lastTime = event.meta.time;
    this.appendedCount++;
    this.pendingCount++;
    if (batch.records.count >= this.settings.batchMaxEvents) this.open = undefined;
    if (this.writing) return;
    if (this.open === undefined) this.startWriting();
    else this.timer ??= this.scheduler.setTimer(this.settings.batchMaxDelayMs, this.onTimer);
  }

  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new ModactorError('store-failed', 'Expected an open event log, got a closed one'));
    const waiter = new Promise<void>((resolve, reject) => {
      this.waiters.push({
        start: this.flushMark,
        end: this.appendedCount,
        failed: this.openWindowFailed,
        overflow: this.openWindowOverflow,
        resolve,
        reject,
      });
    });
    this.flushMark = this.appendedCount;
    this.openWindowFailed = 0;
    this.openWindowOverflow = 0;
    this.settleWaiters();
    if (!this.writing && this.queue.length > 0) this.startWriting();
    return waiter;
  }

  settled(): Promise<void> {
    const end = this.appendedCount;
    if (this.closed || end <= this.settledCount) return Promise.resolve();
    return new Promise((resolve) => this.idle.push({ end, resolve }));
  }

  status(): EventLogStatus {
    return {
      state: this.closed ? 'closed' : this.degraded ? 'degraded' : 'ok',
      lastSeq: this.lastSeq,
      durableSeq: this.durableSeq,
      appended: this.appendedCount + this.overflowCount,
      durable: this.durableCount,
      notDurable: this.notDurable,
      pending: this.pendingCount,
      batches: this.batches,
      failedBatches: this.failedBatches,
      lastError: this.lastError,
      segments: this.segmentList.length,
      bytes: this.segmentList.reduce((n, s) => n + s.bytes, 0),
    };
  }

  segments(): readonly SegmentInfo[] {
    return this.segmentList;
  }

  read(options: ReadOptions = {}): LogReader {
    return openLogReader(this, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    try {
      if (!this.readOnly) await this.flush();
    } finally {
      this.timer?.cancel();
      this.timer = undefined;
      this.closed = true;
      for (const waiter of this.idle.splice(0)) waiter.resolve();
      const file = this.active?.file;
      if (this.active !== undefined) this.active.file = undefined;
      await file?.close().catch(() => undefined);
      if (this.repair?.kind === 'discard') await this.repair.file.close().catch(() => undefined);
      this.logger.info({ lastSeq: this.lastSeq, durableSeq: this.durableSeq, notDurable: this.notDurable }, 'event log closed');
    }
  }

  // The batch's delay is up (the timer's clock and the scheduler's may differ by a fraction of a
  // millisecond: the timer decides).
  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (!this.writing && this.queue.length > 0) this.startWriting(true);
  };

  private startWriting(delayUp = false): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.writing = true;
    this.drain(delayUp).catch((error: unknown) => {
      // drain handles every failure of the disk itself; this is a bug, kept visible.
      this.writing = false;
      this.logger.error({ err: error }, 'event log: writer stopped');
    });
  }

  /**
   * Writes queued batches one after the other until none is left, or until the next one is the
   * batch still filling and it is not due yet: it then waits for its delay (group commit: a batch
   * written as soon as the previous sync ends would hold only what arrived during that sync).
   */
  private async drain(delayUp: boolean): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.queue[0] as Batch;
      if (!delayUp && next === this.open && !this.due(next)) break;
      delayUp = false;
      const batch = this.queue.shift() as Batch;
      if (batch === this.open) this.open = undefined;
      const count = batch.records.count;
      let failure: unknown;
      try {
        await this.writeBatch(batch);
      } catch (error) {
        failure = error;
      }
      // Written (or given up): its buffer serves a later batch.
      batch.records.clear();
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(batch.records);
      this.pendingCount -= count;
      this.settledCount += count;
      if (failure === undefined) {
        this.batches++;
        this.durableCount += count;
        this.durableSeq = batch.lastSeq;
        if (this.degraded) {
          this.degraded = false;
          this.logger.info({ notDurable: this.notDurable }, 'event log: writing again after a failure');
        }
      } else {
        this.failedBatches++;
        this.notDurable += count;
        this.blame(batch.start, batch.start + count);
        this.fail({ code: errorCode(failure) ?? 'unknown', message: failure instanceof Error ? failure.message : describeValue(failure) }, count, failure);
      }
      this.settleWaiters();
    }
    this.writing = false;
    const waiting = this.queue[0];
    if (waiting !== undefined) {
      const left = waiting.openedAt + this.settings.batchMaxDelayMs - this.scheduler.now();
      this.timer ??= this.scheduler.setTimer(Math.max(0, left), this.onTimer);
    }
  }

  /** Whether the batch still filling must be written now: its delay is up, or a flush waits on it. */
  private due(batch: Batch): boolean {
    const lastWaiter = this.waiters[this.waiters.length - 1];
    if (lastWaiter !== undefined && lastWaiter.end > batch.start) return true;
    return this.scheduler.now() - batch.openedAt >= this.settings.batchMaxDelayMs;
  }

  private fail(error: { code: string; message: string }, records: number, cause?: unknown): void {
    this.lastError = error;
    if (this.degraded) return;
    this.degraded = true;
    this.logger.error({ err: cause, code: error.code, records }, 'event log: records could not be made durable; degraded until a batch succeeds');
  }

  /** Counts failed records `[start, end)` against the flush windows holding them. */
  private blame(start: number, end: number): void {
    for (const w of this.waiters) w.failed += Math.max(0, Math.min(end, w.end) - Math.max(start, w.start));
    this.openWindowFailed += Math.max(0, end - Math.max(start, this.flushMark));
  }

  private settleWaiters(): void {
    while (this.idle.length > 0 && (this.idle[0] as { end: number }).end <= this.settledCount) (this.idle.shift() as { resolve: () => void }).resolve();
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).end <= this.settledCount) {
      const w = this.waiters.shift() as Waiter;
      const lost = w.failed + w.overflow;
      if (lost === 0) {
        w.resolve();
        continue;
      }
      const total = w.end - w.start + w.overflow;
      const last = this.lastError;
      w.reject(
        new ModactorError(
          'store-failed',
          `Expected ${total} events appended since the previous flush to be durable, got ${total - lost} (${lost} not durable, last error ${last?.code ?? 'unknown'}: ${last?.message ?? ''})`,
        ),
      );
    }
  }

  /** One batch: undo what a failed one left, rotate if due, write, sync. Throws what the disk threw. */
  private async writeBatch(batch: Batch): Promise<void> {
    const bytes = batch.records.bytes();
    await this.undoFailed();
    const active = this.active;
    if (active === undefined || (active.segment.records > 0 && active.segment.bytes + bytes.length > this.settings.segmentMaxBytes)) {
      await this.startSegment(batch, bytes);
      return;
    }
    const segment = active.segment;
    active.file ??= await this.fs.open(segment.path, 'write');
    try {
      await active.file.write(bytes, segment.bytes);
      await active.file.datasync();
    } catch (error) {
      this.repair = { kind: 'truncate', to: segment.bytes };
      throw error;
    }
    this.addSeekPoint(segment.name, batch.firstSeq, segment.bytes);
    segment.bytes += bytes.length;
    this.recordWritten(segment, batch);
  }

  private addSeekPoint(segment: string, seq: number, offset: number): void {
    let points = this.seekPoints.get(segment);
    if (points === undefined) this.seekPoints.set(segment, (points = []));
    if (offset - (points.at(-1)?.offset ?? 0) >= SEEK_STRIDE) points.push({ seq, offset });
  }

  /** The offset of a line in `segment` with every record before it at or below `position` (0: its start). */
  seekOffset(segment: string, position: number): number {
    const points = this.seekPoints.get(segment);
    if (points === undefined) return 0;
    let lo = 0;
    let hi = points.length;
    // The first point whose batch begins above position + 1; the one before it is where to start.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as { seq: number }).seq <= position + 1) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : (points[lo - 1] as { offset: number }).offset;
  }

  private async startSegment(batch: Batch, bytes: Buffer): Promise<void> {
    const name = segmentName(batch.firstSeq);
    const path = join(this.dir, name);
    const header = Buffer.from(encodeHeader({ firstSeq: batch.firstSeq, prevSeq: batch.prevSeq }));
    const file = await this.fs.open(path, 'create');
    try {
      await file.write(Buffer.concat([header, bytes]), 0);
      await file.datasync();
      await this.fs.syncDir(this.dir);
    } catch (error) {
      this.repair = { kind: 'discard', path, file };
      throw error;
    }
    const segment: Segment = {
      name,
      path,
      firstSeq: batch.firstSeq,
      prevSeq: batch.prevSeq,
      lastSeq: batch.prevSeq,
      lastTime: Number.NEGATIVE_INFINITY,
      records: 0,
      bytes: header.length + bytes.length,
    };
    const previous = this.active?.file;
    this.active = { segment, file };
    this.segmentList.push(segment);
    this.recordWritten(segment, batch);
    await previous?.close().catch(() => undefined);
    await this.applyRetention();
  }

  private recordWritten(segment: Segment, batch: Batch): void {
    segment.records += batch.records.count;
    segment.lastSeq = batch.lastSeq;
    segment.lastTime = batch.lastTime;
  }

  /** Cuts the bytes a failed batch may have left, or removes the segment it failed to start. */
  private async undoFailed(): Promise<void> {
    const repair = this.repair;
    if (repair === undefined) return;
    if (repair.kind === 'truncate') {
      const file = (this.active as Active).file ?? (await this.fs.open((this.active as Active).segment.path, 'write'));
      (this.active as Active).file = file;
      await file.truncate(repair.to);
    } else {
      await repair.file.close().catch(() => undefined);
      await this.fs.unlink(repair.path).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
      });
    }
    this.repair = undefined;
  }

  /** Removes the oldest segments (never the one being written) beyond the size and age limits. */
  async applyRetention(): Promise<number> {
    const { retainMaxBytes, retainMaxAgeMs } = this.settings;
    if (retainMaxBytes === Number.POSITIVE_INFINITY && retainMaxAgeMs === Number.POSITIVE_INFINITY) return 0;
    const horizon = this.scheduler.now() - retainMaxAgeMs;
    let total = this.segmentList.reduce((n, s) => n + s.bytes, 0);
    let removed = 0;
    try {
      while (this.segmentList.length > 1) {
        const oldest = this.segmentList[0] as Segment;
        if (total <= retainMaxBytes && oldest.lastTime >= horizon) break;
        await this.fs.unlink(oldest.path);
        this.segmentList.shift();
        this.seekPoints.delete(oldest.name);
        total -= oldest.bytes;
        removed++;
      }
      if (removed > 0) await this.fs.syncDir(this.dir);
      if (this.retentionFailing) this.logger.info('event log: retention works again');
      this.retentionFailing = false;
    } catch (error) {
      if (!this.retentionFailing) this.logger.warn({ err: error }, 'event log: retention could not remove a segment; will retry at the next rotation');
      this.retentionFailing = true;
    }
    if (removed > 0) this.logger.info({ removed, oldestSeq: this.segmentList[0]?.firstSeq }, 'event log: old segments removed');
    return removed;
  }
}
