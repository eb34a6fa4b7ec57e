/**
 * The saved state of a node next to its event log: per module name, the replay position (a
 * low-water mark of handled seqs), delivery statistics, health history and restart counts, and the
 * last seq the node had handed out. One small file, `state.json`, replaced atomically (write a
 * temporary file, `fdatasync` it, rename it over, sync the directory), so that after any crash it
 * holds one complete save: the last one that finished, or the one before.
 *
 * `save` is synchronous and coalesced: the newest state is written at most `saveDelayMs` later
 * (one write at a time; saves meanwhile coalesce into the next). `flush` writes what is pending
 * now. A failed write keeps the state pending: it is retried at the next save or flush.
 */
import { join } from 'node:path';
import { ModactorError, describeValue, type ValidationIssue } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import { createRealScheduler, type Scheduler, type TimerHandle } from '../kernel/scheduler.js';
import {
  arrayOf,
  finiteNumber,
  nonNegativeInteger,
  object,
  oneOf,
  optional,
  recordOf,
  string,
} from '../kernel/checks.js';
import { errorCode, nodeFs, type StoreFs } from './fs.js';
import { LineReader } from './line-reader.js';
import { frame, parseJson, unframe } from './record.js';

/** The file name of the saved state in the store's directory. */
export const STATE_FILE = 'state.json';
const TEMP_FILE = 'state.json.tmp';
const STATE_FORMAT = 'modactor-state';
const STATE_VERSION = 1;

/** One health change of a module. */
export interface HealthRecord {
  /** When, on the node's scheduler clock (ms). */
  readonly time: number;
  readonly health: 'healthy' | 'degraded' | 'unhealthy';
  readonly reason?: string;
}

/** What is kept of one module (by name) across node restarts. */
export interface SavedModuleState {
  /** Every event offered to the module with a seq up to this one was handled (a low-water mark). */
  readonly position?: number;
  /**
   * Seqs above `position` that were handled too (events that overtook older ones: critical
   * events, or a replay's live tail): a replay from `position` skips them.
   */
  readonly ahead?: readonly number[];
  /** Delivery statistics (counters by name). */
  readonly stats?: Readonly<Record<string, number>>;
  /** Health changes, oldest first. */
  readonly health?: readonly HealthRecord[];
  /** Restarts so far. */
  readonly restarts?: number;
}

/** The saved state of a node. */
export interface SavedState {
  /** The last seq the node had handed out when this was saved: numbering continues above it. */
  readonly lastSeq: number;
  readonly modules: Readonly<Record<string, SavedModuleState>>;
}

/** The state of an empty store. */
export const EMPTY_STATE: SavedState = Object.freeze({ lastSeq: 0, modules: Object.freeze({}) });

const checkState = object({
  lastSeq: nonNegativeInteger,
  modules: recordOf(
    object({
      position: optional(nonNegativeInteger),
      ahead: optional(arrayOf(nonNegativeInteger)),
      stats: optional(recordOf(finiteNumber)),
      health: optional(arrayOf(object({ time: finiteNumber, health: oneOf('healthy', 'degraded', 'unhealthy'), reason: optional(string) }))),
      restarts: optional(nonNegativeInteger),
    }),
  ),
});

/** Validates a saved state; throws `invalid-argument` naming the bad field. */
function validState(value: unknown, what: string): SavedState {
  const issues: ValidationIssue[] = [];
  checkState(value, 'state', issues);
  const first = issues[0];
  if (first !== undefined) {
    throw new ModactorError('invalid-argument', `Invalid ${what}: ${first.path}: ${first.message}`, { issues });
  }
  return value as SavedState;
}

/** Options of {@link openStateFile}. */
export interface StateFileOptions {
  readonly dir: string;
  readonly fs?: StoreFs;
  readonly scheduler?: Pick<Scheduler, 'setTimer'>;
  readonly logger?: Logger;
  /** Longest a save waits before it is written, in ms. Default 1000. */
  readonly saveDelayMs?: number;
}

/** What was found at open. */
export interface StateRecovery {
  /** A saved state was there. */
  readonly found: boolean;
  /** The file was there but unreadable (bad checksum or content): the store starts empty. */
  readonly corrupt: boolean;
}

/** The saved-state file's status. */
export interface StateFileStatus {
  readonly state: 'ok' | 'degraded' | 'closed';
  /** A save waits to be written. */
  readonly pending: boolean;
  /** Writes that completed since open. */
  readonly writes: number;
  readonly failedWrites: number;
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
}

/** The saved state of a store. */
export interface StateFile {
  readonly recovery: StateRecovery;
  /** The state loaded at open ({@link EMPTY_STATE} when none). */
  readonly loaded: SavedState;
  /**
   * Saves `state` (or the state a function returns when the write happens, to keep a frequent
   * save cheap). Synchronous; throws `invalid-argument` for a state it cannot keep (checked now for
   * a value, at the write for a function: then the write fails and `flush` rejects).
   */
  save(state: SavedState | (() => SavedState)): void;
  /** Writes the pending save now; resolves once it is durable. Rejects `store-failed` when it fails. */
  flush(): Promise<void>;
  status(): StateFileStatus;
  /** Flushes, then refuses further saves. */
  close(): Promise<void>;
}

/** Opens the saved state in `options.dir` (which must exist). */
export async function openStateFile(options: StateFileOptions): Promise<StateFile> {
  const fs = options.fs ?? nodeFs();
  const logger = (options.logger ?? silentLogger()).child({ module: 'store' });
  const saveDelayMs = options.saveDelayMs ?? 1000;
  if (!(Number.isFinite(saveDelayMs) && saveDelayMs >= 0)) {
    throw new ModactorError('invalid-argument', `Expected saveDelayMs to be a number >= 0, got ${describeValue(saveDelayMs)}`);
  }
  const { loaded, recovery } = await loadState(fs, options.dir, logger);
  return new AtomicStateFile(fs, options.dir, options.scheduler ?? createRealScheduler(), logger, saveDelayMs, loaded, recovery);
}

/** Reads the saved state; a missing file is an empty state, an unreadable one is reported. */
export async function loadState(fs: StoreFs, dir: string, logger?: Logger): Promise<{ loaded: SavedState; recovery: StateRecovery }> {
  let file;
  try {
    file = await fs.open(join(dir, STATE_FILE), 'read');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { loaded: EMPTY_STATE, recovery: { found: false, corrupt: false } };
    throw error;
  }
  try {
    const line = await new LineReader(file, 0).next();
    const checked = line?.complete === true ? unframe(line.buffer, line.start, line.end) : { fault: 'framing' as const };
    const parsed = 'fault' in checked ? undefined : (parseJson(checked.json) as { format?: unknown; version?: unknown; state?: unknown } | undefined);
    if (parsed?.format === STATE_FORMAT && parsed.version !== STATE_VERSION) {
      throw new ModactorError('store-failed', `Expected state format version ${STATE_VERSION}, got ${describeValue(parsed.version)}`);
    }
    try {
      if (parsed?.format !== STATE_FORMAT) throw new Error('not a state file');
      return { loaded: validState(parsed.state, 'saved state'), recovery: { found: true, corrupt: false } };
    } catch (error) {
      if (error instanceof ModactorError && error.code === 'store-failed') throw error;
      logger?.warn({ err: error, file: join(dir, STATE_FILE) }, 'saved state unreadable: starting from an empty state');
      return { loaded: EMPTY_STATE, recovery: { found: true, corrupt: true } };
    }
  } finally {
    await file.close();
  }
}

class AtomicStateFile implements StateFile {
  private next: SavedState | (() => SavedState) | undefined;
  private timer: TimerHandle | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  private writes = 0;
  private failedWrites = 0;
  private degraded = false;
  private lastError: { code: string; message: string } | undefined;

  constructor(
    private readonly fs: StoreFs,
    private readonly dir: string,
    private readonly scheduler: Pick<Scheduler, 'setTimer'>,
    private readonly logger: Logger,
    private readonly saveDelayMs: number,
    readonly loaded: SavedState,
    readonly recovery: StateRecovery,
  ) {}

  save(state: SavedState | (() => SavedState)): void {
    if (this.closed) throw new ModactorError('store-failed', 'Expected an open state file, got a closed one');
    this.next = typeof state === 'function' ? state : validState(state, 'state to save');
    this.timer ??= this.scheduler.setTimer(this.saveDelayMs, () => {
      this.timer = undefined;
      this.write().catch(() => undefined); // counted and logged by write; flush reports it
    });
  }

  async flush(): Promise<void> {
    // A write in flight may hold an older state than the one pending: wait for it, then write
    // (a failed write leaves its state pending, so this tries it once more and reports).
    await this.write();
  }

  status(): StateFileStatus {
    return {
      state: this.closed ? 'closed' : this.degraded ? 'degraded' : 'ok',
      pending: this.next !== undefined,
      writes: this.writes,
      failedWrites: this.failedWrites,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.timer?.cancel();
    }
  }

  /**
   * Writes the pending state, after the write in flight if any; a failure keeps the state pending
   * and rejects with `store-failed`.
   */
  private async write(): Promise<void> {
    while (this.writing !== undefined) await this.writing.catch(() => undefined);
    const pending = this.next;
    if (pending === undefined) return;
    this.next = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    const run = async (): Promise<void> => {
      try {
        const state = typeof pending === 'function' ? validState(pending(), 'state to save') : pending;
        await this.writeAtomically(frame(JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, state })));
        this.writes++;
        if (this.degraded) this.logger.info('saved state written again after a failure');
        this.degraded = false;
      } catch (error) {
        this.failedWrites++;
        this.next ??= pending; // retried at the next save or flush
        this.lastError = { code: errorCode(error) ?? (error instanceof ModactorError ? error.code : 'unknown'), message: error instanceof Error ? error.message : String(error) };
        if (!this.degraded) this.logger.error({ err: error }, 'saved state could not be written; will retry');
        this.degraded = true;
        throw new ModactorError('store-failed', `Expected the saved state to be written, got ${this.lastError.code}: ${this.lastError.message}`, { cause: error });
      }
    };
    const attempt = run();
    this.writing = attempt;
    try {
      await attempt;
    } finally {
      if (this.writing === attempt) this.writing = undefined;
    }
  }

  private async writeAtomically(text: string): Promise<void> {
    const temp = join(this.dir, TEMP_FILE);
    const file = await this.fs.open(temp, 'create');
    try {
      await file.write(Buffer.from(text), 0);
      await file.datasync();
    } finally {
      await file.close();
    }
    await this.fs.rename(temp, join(this.dir, STATE_FILE));
    await this.fs.syncDir(this.dir);
  }
}
