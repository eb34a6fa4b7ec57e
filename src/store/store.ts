/**
 * A node's store: the event log and the saved state in one directory, opened together. This is
 * what `createNode({ store })` opens before the node is ready.
 */
import { silentLogger } from '../kernel/logger.js';
import { ModactorError } from '../kernel/errors.js';
import { createRealScheduler, type Scheduler } from '../kernel/scheduler.js';
import { nodeFs } from './fs.js';
import { openEventLog, type EventLog, type EventLogOptions, type EventLogStatus } from './event-log.js';
import { openStateFile, type StateFile, type StateFileStatus } from './state-file.js';

/** Options of {@link openStore}: the event log's, and the saved state's delay. */
export interface StoreOptions extends Omit<EventLogOptions, 'readOnly' | 'scheduler'> {
  readonly scheduler?: Pick<Scheduler, 'setTimer' | 'now'>;
  /** Longest a state save waits before it is written, in ms. Default 1000. */
  readonly saveDelayMs?: number;
}

/** The store's status: `degraded` when the log or the saved state is. */
export interface StoreStatus {
  readonly state: 'ok' | 'degraded' | 'closed';
  readonly log: EventLogStatus;
  readonly saved: StateFileStatus;
}

/** An open store. */
export interface EventStore {
  readonly dir: string;
  readonly log: EventLog;
  readonly state: StateFile;
  /**
   * The highest seq the node may have handed out before: the larger of the log's last record and
   * the saved state's `lastSeq` (a module may have handled, and its position saved, an event that
   * a power loss then took from the log). Numbering continues above it.
   */
  readonly lastSeq: number;
  /** Flushes the log and the saved state; rejects `store-failed` when either failed. */
  flush(): Promise<void>;
  status(): StoreStatus;
  close(): Promise<void>;
}

/**
 * Opens the store in `options.dir` (created when missing): the event log, repaired, and the saved state.
 *
 * @example
 * ```ts
 * const store = await openStore({ dir: './data', scheduler, logger });
 * let seq = store.lastSeq;
 * store.log.append({ type: 'NewBlock', payload, meta: { seq: ++seq, source: 'node', time: scheduler.now() } });
 * store.state.save(() => ({ lastSeq: seq, modules: { indexer: { position: seq } } }));
 * await store.flush();
 * ```
 */
export async function openStore(options: StoreOptions): Promise<EventStore> {
  const scheduler = options.scheduler ?? createRealScheduler();
  const fs = options.fs ?? nodeFs();
  const logger = options.logger ?? silentLogger();
  const log = await openEventLog({ ...options, fs, scheduler, logger });
  const state = await openStateFile({
    dir: options.dir,
    fs,
    scheduler,
    logger,
    ...(options.saveDelayMs === undefined ? {} : { saveDelayMs: options.saveDelayMs }),
  });
  const lastSeq = Math.max(log.lastSeq, state.loaded.lastSeq);
  const both = async (a: Promise<void>, b: Promise<void>): Promise<void> => {
    const [x, y] = await Promise.allSettled([a, b]);
    const failed = [x, y].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason instanceof ModactorError ? failed.reason : new ModactorError('store-failed', String(failed.reason));
  };
  return {
    dir: options.dir,
    log,
    state,
    lastSeq,
    flush: () => both(log.flush(), state.flush()),
    status() {
      const logStatus = log.status();
      const saved = state.status();
      const states = [logStatus.state, saved.state];
      return {
        state: states.includes('closed') ? 'closed' : states.includes('degraded') ? 'degraded' : 'ok',
        log: logStatus,
        saved,
      };
    },
    close: () => both(log.close(), state.close()),
  };
}
