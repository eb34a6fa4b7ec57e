/**
 * Disk failures and crashes on the simulated disk: ENOSPC and EIO never throw out of append, flush
 * rejects with store-failed, the log reports itself degraded and recovers; a power loss keeps
 * every flushed record, in order, without a gap, wherever it strikes.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { createMemoryDisk, type DiskFault, type MemoryDisk } from '../../src/store/memory-disk.js';
import { block, clock, memoryPlace, openAt, range, readAll, releaseNext, settleGated } from './support.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('a failing disk', () => {
  // Segments of 1000 bytes: every batch after the first starts a new one; of 64 KiB: none does.
  const faults: [string, DiskFault, number][] = [
    ['ENOSPC on a partial write into the open segment', { op: 'write', code: 'ENOSPC', partialBytes: 100 }, 65536],
    ['ENOSPC on a partial write into a new segment', { op: 'write', code: 'ENOSPC', partialBytes: 100 }, 1000],
    ['EIO on fdatasync of the open segment', { op: 'datasync', code: 'EIO' }, 65536],
    ['EIO on fdatasync of a new segment', { op: 'datasync', code: 'EIO' }, 1000],
    ['EIO on the directory sync of a new segment', { op: 'syncDir', code: 'EIO' }, 1000],
  ];

  it.each(faults)('%s: flush rejects store-failed, append never throws, the log is degraded, then writes again', async (_, fault, segmentMaxBytes) => {
    const disk = createMemoryDisk();
    const logged: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
    const log = await openAt(memoryPlace(disk), clock(), { logger, segmentMaxBytes });
    for (const seq of range(1, 5)) log.append(block(seq));
    await log.flush();

    disk.injectFault({ ...fault, times: 3 });
    for (const seq of range(6, 15)) log.append(block(seq));
    const error = await rejection(log.flush());
    expect(isModactorError(error, 'store-failed')).toBe(true);
    expect((error as Error).message).toContain(fault.code);
    expect(log.status()).toMatchObject({ state: 'degraded', notDurable: 10, durable: 5, lastError: { code: fault.code } });

    // Two more failing batches: still no throw, one error line for the whole episode.
    for (const batch of [range(16, 17), range(18, 19)]) {
      for (const seq of batch) log.append(block(seq));
      expect(isModactorError(await rejection(log.flush()), 'store-failed')).toBe(true);
    }
    expect(log.status()).toMatchObject({ state: 'degraded', notDurable: 14, failedBatches: 3 });
    expect(logged.filter((l) => l.level >= 50)).toHaveLength(1);

    for (const seq of range(20, 25)) log.append(block(seq));
    await log.flush();
    expect(log.status()).toMatchObject({ state: 'ok', notDurable: 14, durable: 11, lastSeq: 25, durableSeq: 25 });
    await log.close();

    // What failed left nothing behind: no torn tail, no corrupt record.
    const again = await openAt(memoryPlace(disk), clock());
    expect(again.recovery).toMatchObject({ torn: [], corrupt: [], lastSeq: 25 });
    expect((await readAll(again)).seqs).toEqual([...range(1, 5), ...range(20, 25)]);
  });

  it('keeps failing without throwing while the disk is full, and reports each flush window once', async () => {
    const disk = createMemoryDisk();
    const log = await openAt(memoryPlace(disk), clock());
    log.append(block(1));
    await log.flush();
    disk.injectFault({ op: 'write', code: 'ENOSPC', times: Number.POSITIVE_INFINITY });
    let seq = 1;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) log.append(block(++seq));
      const error = await rejection(log.flush());
      expect(isModactorError(error, 'store-failed')).toBe(true);
      expect((error as Error).message).toContain('Expected 100 events appended since the previous flush to be durable, got 0');
    }
    expect(log.status()).toMatchObject({ state: 'degraded', notDurable: 500, pending: 0 });
    disk.clearFaults();
    log.append(block(++seq));
    await log.flush(); // earlier failures were reported to earlier flushes
    expect(log.status().state).toBe('ok');
  });

  it('counts records beyond maxPendingEvents not durable instead of growing without bound', async () => {
    const log = await openAt(memoryPlace(), clock(), { maxPendingEvents: 5 });
    for (const seq of range(1, 8)) log.append(block(seq));
    const error = await rejection(log.flush());
    expect((error as Error).message).toContain('Expected 8 events appended since the previous flush to be durable, got 5');
    expect(log.status()).toMatchObject({ appended: 8, durable: 5, notDurable: 3, lastError: { code: 'overflow' } });
    expect((await readAll(log)).seqs).toEqual(range(1, 5));
  });

  it('makes an open fail with store-failed when the disk cannot be read', async () => {
    const disk = createMemoryDisk();
    const log = await openAt(memoryPlace(disk), clock());
    log.append(block(1));
    await log.close();
    disk.injectFault({ op: 'read', code: 'EIO' });
    expect(isModactorError(await rejection(openAt(memoryPlace(disk), clock())), 'store-failed')).toBe(true);
  });
});

describe('a crash', () => {
  it('by power loss keeps what was flushed and nothing that was not', async () => {
    const disk = createMemoryDisk();
    const log = await openAt(memoryPlace(disk), clock(), { segmentMaxBytes: 3000 });
    for (const seq of range(1, 120)) {
      log.append(block(seq));
      if (seq % 17 === 0) await log.flush();
    }
    await log.flush();
    for (const seq of range(121, 130)) log.append(block(seq)); // queued: the batch timer never fired
    disk.powerLoss();
    const again = await openAt(memoryPlace(disk), clock());
    expect(again.recovery).toMatchObject({ torn: [], corrupt: [], lastSeq: 120 });
    expect((await readAll(again)).seqs).toEqual(range(1, 120));
  });

  /**
   * Cuts the power after every possible number of disk calls of a run with three flushes, six
   * batches and rotations, keeping part of the unsynced bytes (a record torn across pages): every acknowledged
   * record is recovered, and what is recovered is a prefix of what was appended.
   */
  it('by power loss at any disk call keeps every acknowledged record, in order, with no gap', async () => {
    const run = async (disk: MemoryDisk, stopAfter: number): Promise<{ acked: number; steps: number }> => {
      const log = await settleGated(disk, openAt(memoryPlace(disk), clock(), { segmentMaxBytes: 1500, batchMaxEvents: 4 }));
      let acked = 0;
      const flushes: Promise<void>[] = [];
      for (const [from, to] of [
        [1, 6],
        [7, 15],
        [16, 20],
      ] as const) {
        for (const seq of range(from, to)) log.append(block(seq));
        flushes.push(log.flush().then(() => void (acked = to)));
      }
      let steps = 0;
      while (steps < stopAfter && (await releaseNext(disk))) steps++;
      return { acked, steps };
    };
    const total = (await run(createMemoryDisk({ gated: true }), Number.POSITIVE_INFINITY)).steps;
    expect(total).toBeGreaterThan(15);
    for (let stop = 0; stop <= total; stop++) {
      for (const keep of [0, 0.5, 1]) {
        const disk = createMemoryDisk({ gated: true });
        const { acked } = await run(disk, stop);
        disk.powerLoss({ keepUnsynced: (_, bytes) => bytes * keep });
        const again = await settleGated(disk, openAt(memoryPlace(disk), clock()));
        const { seqs } = await settleGated(disk, readAll(again));
        expect(seqs, `power lost after ${stop} calls, keeping ${keep} of the unsynced bytes`).toEqual(range(1, again.lastSeq));
        expect(again.lastSeq).toBeGreaterThanOrEqual(acked);
        expect(again.recovery.corrupt).toEqual([]);
      }
    }
  });

  it('of the process keeps every written byte: all records written before it, in order', async () => {
    const disk = createMemoryDisk({ gated: true });
    const log = await settleGated(disk, openAt(memoryPlace(disk), clock()));
    for (const seq of range(1, 10)) log.append(block(seq));
    const flushed = log.flush();
    await settleGated(disk, flushed);
    for (const seq of range(11, 20)) log.append(block(seq));
    void log.flush();
    await releaseNext(disk); // the write of 11-20 reaches the page cache; its sync never comes
    disk.crash();
    const again = await settleGated(disk, openAt(memoryPlace(disk), clock()));
    expect(again.lastSeq).toBe(20);
    expect((await settleGated(disk, readAll(again))).seqs).toEqual(range(1, 20));
  });
});
