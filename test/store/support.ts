/** Helpers of the store tests: events, disks (simulated and real), reading a whole log. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulatedScheduler, type SimulatedScheduler } from '../../src/index.js';
import { createMemoryDisk, type MemoryDisk } from '../../src/store/memory-disk.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { openEventLog, type EventLog, type EventLogOptions } from '../../src/store/event-log.js';
import type { LoggedEvent } from '../../src/store/record.js';
import type { ReadOptions } from '../../src/store/log-reader.js';

/** A NewBlock event with seq `seq`, its height the seq, its time ten times the seq. */
export function block(seq: number, source = 'node'): LoggedEvent {
  return {
    type: 'NewBlock',
    payload: { blockHash: seq.toString(16).padStart(64, '0'), height: seq },
    meta: { seq, source, time: seq * 10 },
  };
}

/** Seqs from `from` to `to` inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Every record a reader returns, and the reader's stats and gap. */
export async function readAll(log: EventLog, options: ReadOptions = {}, batch = 1000) {
  const reader = log.read(options);
  const events: LoggedEvent[] = [];
  for (let got = await reader.readBatch(batch); got.length > 0; got = await reader.readBatch(batch)) events.push(...got);
  await reader.close();
  return { events, seqs: events.map((e) => e.meta.seq), stats: { ...reader.stats }, gap: reader.gap };
}

/** A place a log lives: a directory on a file system, and a way to get a fresh process's view. */
export interface Place {
  readonly kind: 'memory' | 'real';
  readonly dir: string;
  /** The file system as a (new) process sees it. */
  mount(): StoreFs;
  /** The simulated disk (memory places only). */
  readonly disk: MemoryDisk | undefined;
}

export function memoryPlace(disk: MemoryDisk = createMemoryDisk()): Place {
  return { kind: 'memory', dir: '/store', mount: () => disk.mount(), disk };
}

export function realPlace(): Place {
  const dir = join(mkdtempSync(join(tmpdir(), 'modactor-store-')), 'store');
  return { kind: 'real', dir, mount: () => nodeFs(), disk: undefined };
}

/** A simulated clock for the log's timers: batches start on flush, when full, or when time is advanced. */
export function clock(): SimulatedScheduler {
  return createSimulatedScheduler({ autoRun: false });
}

/** Opens the log of `place` with a fresh mount. */
export function openAt(place: Place, scheduler: SimulatedScheduler, options: Partial<EventLogOptions> = {}): Promise<EventLog> {
  return openEventLog({ dir: place.dir, fs: place.mount(), scheduler, ...options });
}

/**
 * Releases the next call to reach the gate of a gated disk, waiting a few turns of the event loop
 * for one to arrive; false when none does.
 */
export async function releaseNext(disk: MemoryDisk): Promise<boolean> {
  for (let turn = 0; turn < 20; turn++) {
    if ((await disk.release(1)) > 0) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** Releases the calls of a gated disk one by one until `promise` settles. */
export async function settleGated<T>(disk: MemoryDisk, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    if (!(await releaseNext(disk)) && !done) throw new Error('Expected the promise to settle once the disk calls were released, got no progress');
  }
  return promise;
}
