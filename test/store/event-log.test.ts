/**
 * The event log on both disks: the simulated one (which counts calls and can lose power) and real
 * files in a temporary directory.
 */
import { describe, expect, it } from 'vitest';
import { isModactorError, nodeCatalogue } from '../../src/index.js';
import { createMemoryDisk } from '../../src/store/memory-disk.js';
import { acceptedBy } from '../../src/store/log-reader.js';
import { block, clock, memoryPlace, openAt, range, readAll, realPlace, releaseNext, settleGated, type Place } from './support.js';
import type { MemoryDisk } from '../../src/store/memory-disk.js';
import { openEventLog } from '../../src/store/event-log.js';
import type { StoreFs } from '../../src/store/fs.js';

const places: [string, () => Place][] = [
  ['the simulated disk', () => memoryPlace()],
  ['real files', () => realPlace()],
];

describe.each(places)('the event log on %s', (_, makePlace) => {
  it('gives back every flushed record in order, before and after a reopen', async () => {
    const place = makePlace();
    const scheduler = clock();
    const log = await openAt(place, scheduler);
    expect(log.recovery).toMatchObject({ segments: 0, records: 0, lastSeq: 0, torn: [], corrupt: [] });
    for (const seq of range(1, 2500)) log.append(block(seq));
    await log.flush();
    const first = await readAll(log);
    expect(first.seqs).toEqual(range(1, 2500));
    expect(first.events[41]).toEqual(block(42));
    await log.close();

    const again = await openAt(place, scheduler);
    expect(again.lastSeq).toBe(2500);
    expect(again.recovery).toMatchObject({ records: 2500, firstSeq: 1, lastSeq: 2500, torn: [], corrupt: [] });
    expect((await readAll(again)).events).toEqual(first.events);
    for (const seq of range(2501, 2600)) again.append(block(seq));
    await again.close();
    expect((await readAll(await openAt(place, scheduler))).seqs).toEqual(range(1, 2600));
  });

  it('reads from a seq, by type, through a validator, and in batches of any size', async () => {
    const place = makePlace();
    const log = await openAt(place, clock());
    for (const seq of range(1, 300)) {
      log.append(seq % 3 === 0 ? { type: 'NewTransaction', payload: { txHash: 'ab'.repeat(32) }, meta: { seq, source: 'mempool', time: seq } } : block(seq));
    }
    // Stored raw, rejected by today's catalogue: a NewBlock whose height is negative.
    log.append({ type: 'NewBlock', payload: { blockHash: 'cd'.repeat(32), height: -1 }, meta: { seq: 301, source: 'node', time: 301 } });
    log.append(block(302));
    await log.flush();

    const from = await readAll(log, { fromSeq: 250 }, 7);
    expect(from.seqs).toEqual(range(250, 302));
    expect(from.gap).toBe(0);
    const tx = await readAll(log, { types: ['NewTransaction'] });
    expect(tx.seqs).toEqual(range(1, 100).map((i) => i * 3));
    expect(tx.stats).toEqual({ read: 100, corrupt: 0, rejected: 0, filtered: 202 });
    const valid = await readAll(log, { fromSeq: 290, validate: acceptedBy(nodeCatalogue) });
    expect(valid.seqs).toEqual([...range(290, 300), 302]);
    expect(valid.stats.rejected).toBe(1);
    const bounded = await readAll(log, { fromSeq: 10, toSeq: 12 });
    expect(bounded.seqs).toEqual([10, 11, 12]);
    await log.close();
  });

  it('starts a read from a seq near the end of a large segment without scanning it from its start', async () => {
    const place = makePlace();
    let bytesRead = 0;
    const mounted = place.mount();
    // The same file system, counting what readers read.
    const counting: StoreFs = {
      ...mounted,
      open: async (path, mode) => {
        const file = await mounted.open(path, mode);
        return {
          ...file,
          read: async (buffer, position) => {
            const n = await file.read(buffer, position);
            bytesRead += n;
            return n;
          },
          write: (data, position) => file.write(data, position),
          datasync: () => file.datasync(),
          truncate: (length) => file.truncate(length),
          size: () => file.size(),
          close: () => file.close(),
        };
      },
    };
    const log = await openEventLog({ dir: place.dir, fs: counting, scheduler: clock(), batchMaxEvents: 100 });
    for (let start = 1; start <= 20_000; start += 100) {
      for (const seq of range(start, start + 99)) log.append(block(seq));
      await log.flush();
    }
    expect(log.segments()).toHaveLength(1);
    const segmentBytes = log.segments()[0]?.bytes ?? 0;
    bytesRead = 0;
    const tail = await readAll(log, { fromSeq: 19_990 });
    expect(tail.seqs).toEqual(range(19_990, 20_000));
    // At most a seek stride (64 KiB) and a read chunk before it, not the whole segment (~3.6 MB).
    expect(segmentBytes).toBeGreaterThan(3_000_000);
    expect(bytesRead).toBeLessThan(300_000);
    // Every start still gives exactly what follows it.
    for (const from of [1, 99, 100, 101, 5_000, 12_345, 19_999]) {
      expect((await readAll(log, { fromSeq: from })).seqs).toEqual(range(from, 20_000));
    }
    await log.close();
  });

  it('reads one batch at a time, of a positive size', async () => {
    const log = await openAt(makePlace(), clock());
    for (const seq of range(1, 10)) log.append(block(seq));
    await log.flush();
    const reader = log.read();
    const first = reader.readBatch(4);
    const second = await reader.readBatch(4).catch((e: unknown) => e);
    expect(isModactorError(second, 'invalid-argument')).toBe(true);
    expect((await first).map((e) => e.meta.seq)).toEqual([1, 2, 3, 4]);
    expect(isModactorError(await reader.readBatch(0).catch((e: unknown) => e), 'invalid-argument')).toBe(true);
    expect((await reader.readBatch(100)).map((e) => e.meta.seq)).toEqual(range(5, 10));
    await reader.close();
    await log.close();
  });

  it('refuses a seq that does not increase and a payload JSON cannot hold, and keeps going', async () => {
    const log = await openAt(makePlace(), clock());
    log.append(block(5));
    const refused = [
      () => log.append(block(5)),
      () => log.append(block(4)),
      () => log.append({ ...block(6), meta: { seq: 6.5, source: 'node', time: 1 } }),
      () => log.append({ type: 'NewBlock', payload: { n: 10n }, meta: { seq: 7, source: 'node', time: 1 } }),
      () => log.append({ type: '', payload: {}, meta: { seq: 8, source: 'node', time: 1 } }),
    ];
    for (const append of refused) {
      let error: unknown;
      try {
        append();
      } catch (e) {
        error = e;
      }
      expect(isModactorError(error, 'invalid-argument')).toBe(true);
    }
    log.append(block(9));
    await log.close();
    let closed: unknown;
    try {
      log.append(block(10));
    } catch (e) {
      closed = e;
    }
    expect(isModactorError(closed, 'store-failed')).toBe(true);
    expect(log.status()).toMatchObject({ state: 'closed', appended: 2, durable: 2, lastSeq: 9 });
  });

  it('tails the log: a reader that caught up returns what was made durable since', async () => {
    const log = await openAt(makePlace(), clock(), { segmentMaxBytes: 2000 });
    for (const seq of range(1, 5)) log.append(block(seq));
    await log.flush();
    const reader = log.read({ fromSeq: 3 });
    expect((await reader.readBatch()).map((e) => e.meta.seq)).toEqual([3, 4, 5]);
    expect(await reader.readBatch()).toEqual([]);
    for (const seq of range(6, 40)) {
      log.append(block(seq));
      if (seq % 4 === 0) await log.flush(); // several batches, several segments
    }
    await log.flush();
    expect(log.segments().length).toBeGreaterThan(2);
    const rest: number[] = [];
    for (let got = await reader.readBatch(3); got.length > 0; got = await reader.readBatch(3)) rest.push(...got.map((e) => e.meta.seq));
    expect(rest).toEqual(range(6, 40));
    await reader.close();
    await log.close();
  });

  it('rotates segments at a size, each opening with a header naming its first and previous seq', async () => {
    const place = makePlace();
    const log = await openAt(place, clock(), { segmentMaxBytes: 4096, batchMaxEvents: 10 });
    for (const seq of range(1, 200)) log.append(block(seq));
    await log.flush();
    const segments = log.segments();
    expect(segments.length).toBeGreaterThan(5);
    for (const s of segments) expect(s.bytes).toBeLessThanOrEqual(4096);
    expect(segments.map((s) => s.name)).toEqual(segments.map((s) => `segment-${String(s.firstSeq).padStart(16, '0')}.log`));
    for (let i = 1; i < segments.length; i++) {
      const [before, s] = [segments[i - 1], segments[i]];
      expect(s?.prevSeq).toBe(before?.lastSeq);
      expect(s?.firstSeq).toBe((before?.lastSeq ?? 0) + 1);
    }
    await log.close();
    const again = await openAt(place, clock());
    expect(again.segments()).toEqual(segments);
    expect((await readAll(again)).seqs).toEqual(range(1, 200));
  });

  it('retains by size: the oldest segments go, and a reader from before them is told the gap', async () => {
    const place = makePlace();
    const log = await openAt(place, clock(), { segmentMaxBytes: 4096, batchMaxEvents: 10, retainMaxBytes: 16384 });
    for (const seq of range(1, 500)) log.append(block(seq));
    await log.flush();
    const segments = log.segments();
    const total = segments.reduce((n, s) => n + s.bytes, 0);
    expect(total).toBeLessThanOrEqual(16384 + 4096);
    const oldest = segments[0];
    expect(oldest?.firstSeq).toBeGreaterThan(1);
    const fromStart = await readAll(log, { fromSeq: 1 });
    expect(fromStart.gap).toBe(oldest?.prevSeq);
    expect(fromStart.seqs).toEqual(range(oldest?.firstSeq ?? 0, 500));
    const within = await readAll(log, { fromSeq: (oldest?.firstSeq ?? 0) + 1 });
    expect(within.gap).toBe(0);
    expect(within.seqs[0]).toBe((oldest?.firstSeq ?? 0) + 1);
    await log.close();
    // Retention holds at open too, with a smaller limit.
    const reopened = await openAt(place, clock(), { retainMaxBytes: 8192 });
    expect(reopened.recovery.removedSegments).toBeGreaterThan(0);
    expect(reopened.segments().reduce((n, s) => n + s.bytes, 0)).toBeLessThanOrEqual(8192 + 4096);
  });

  it('retains by age on the scheduler clock: segments whose newest record is older go at rotation', async () => {
    const scheduler = clock();
    const log = await openAt(makePlace(), scheduler, { segmentMaxBytes: 2048, batchMaxEvents: 5, retainMaxAgeMs: 1000 });
    const at = (seq: number, time: number) => ({ ...block(seq), meta: { seq, source: 'node', time } });
    for (const seq of range(1, 40)) log.append(at(seq, 0));
    await log.flush();
    const before = log.segments().length;
    expect(before).toBeGreaterThan(2);
    await scheduler.advanceBy(5000);
    for (const seq of range(41, 80)) log.append(at(seq, scheduler.now()));
    await log.flush();
    const kept = log.segments();
    expect(kept.length).toBeLessThan(before + 8);
    expect(kept.every((s) => s.lastTime >= 4000)).toBe(true);
    const fromStart = await readAll(log, { fromSeq: 1 });
    expect(fromStart.gap).toBe(kept[0]?.prevSeq);
    expect(fromStart.gap).toBeGreaterThan(30);
    expect(fromStart.seqs).toEqual(range((kept[0]?.prevSeq ?? 0) + 1, 80));
    await log.close();
  });
});

describe('group commit', () => {
  it('writes and syncs at most batchMaxEvents records per batch', async () => {
    const disk = createMemoryDisk();
    const log = await openAt(memoryPlace(disk), clock());
    for (const seq of range(1, 2500)) log.append(block(seq));
    await log.flush();
    expect(disk.counts.datasync).toBe(3);
    expect(disk.counts.write).toBe(3);
    expect(log.status()).toMatchObject({ batches: 3, durable: 2500, pending: 0 });
    await log.flush(); // nothing new: no write, no sync
    expect(disk.counts.datasync).toBe(3);
  });

  it('starts a batch batchMaxDelayMs after its first record, with every record that came meanwhile', async () => {
    const disk = createMemoryDisk();
    const scheduler = clock();
    const log = await openAt(memoryPlace(disk), scheduler, { batchMaxDelayMs: 5 });
    log.append(block(1));
    await scheduler.advanceBy(3);
    log.append(block(2));
    log.append(block(3));
    expect(disk.counts.write).toBe(0);
    await scheduler.advanceBy(1);
    expect(disk.counts.write).toBe(0);
    await scheduler.advanceBy(1); // 5 ms after the first record
    await log.flush();
    expect(disk.counts.write).toBe(1);
    expect(disk.counts.datasync).toBe(1);
    expect(log.status()).toMatchObject({ batches: 1, durable: 3 });
  });

  it('forms the next batch from what arrives while one is being written', async () => {
    const disk = createMemoryDisk({ gated: true });
    const log = await openGated(disk);
    for (const seq of range(1, 10)) log.append(block(seq));
    const first = log.flush();
    expect(await releaseNext(disk)).toBe(true); // the first batch is on its way: its segment is being created
    for (const seq of range(11, 30)) log.append(block(seq));
    const second = log.flush();
    await settleGated(disk, first);
    await settleGated(disk, second);
    expect(log.status()).toMatchObject({ batches: 2, durable: 30 });
    expect(disk.counts.datasync).toBe(2);
  });

  // Written as soon as the previous sync ends, a batch would hold only what arrived during that
  // sync: with a publish per event-loop turn, about 12 records per fdatasync on this machine.
  it('lets a batch that filled while the previous one was written wait for its own delay', async () => {
    const disk = createMemoryDisk({ gated: true });
    const scheduler = clock();
    const log = await settleGated(disk, openAt(memoryPlace(disk), scheduler, { batchMaxDelayMs: 5 }));
    log.append(block(1));
    await scheduler.advanceBy(5); // the first batch is due: its calls wait at the gate
    expect(await releaseNext(disk)).toBe(true);
    for (const seq of range(2, 6)) log.append(block(seq)); // the next batch opens now, at 5 ms
    while (await releaseNext(disk)); // the first batch's calls, and nothing more
    expect(log.status()).toMatchObject({ batches: 1, durable: 1, pending: 5 });
    expect(disk.counts.write).toBe(1);
    await scheduler.advanceBy(4);
    expect(await releaseNext(disk)).toBe(false); // 4 ms after its first record: still waiting
    await scheduler.advanceBy(1);
    await settleGated(disk, log.settled());
    expect(log.status()).toMatchObject({ batches: 2, durable: 6, pending: 0 });
    expect(disk.counts.write).toBe(2);
  });

  it('writes a waiting batch at once when a flush asks', async () => {
    const disk = createMemoryDisk({ gated: true });
    const scheduler = clock();
    const log = await settleGated(disk, openAt(memoryPlace(disk), scheduler, { batchMaxDelayMs: 5 }));
    log.append(block(1));
    const first = log.flush();
    expect(await releaseNext(disk)).toBe(true);
    for (const seq of range(2, 6)) log.append(block(seq));
    await settleGated(disk, first);
    expect(log.status()).toMatchObject({ batches: 1, durable: 1 });
    await settleGated(disk, log.flush()); // no time passes
    expect(log.status()).toMatchObject({ batches: 2, durable: 6, pending: 0 });
  });

  it('resolves flush only once the records before it are synced', async () => {
    const disk = createMemoryDisk({ gated: true });
    const log = await openGated(disk);
    for (const seq of range(1, 3)) log.append(block(seq));
    let flushed = false;
    const done = log.flush().then(() => {
      flushed = true;
    });
    // open (the first segment), write, datasync, directory sync: resolved only after the last.
    const syncs = () => disk.counts.datasync + disk.counts.syncDir;
    const before = syncs();
    const steps: [number, boolean][] = [];
    while (await releaseNext(disk)) steps.push([syncs() - before, flushed]);
    await done;
    expect(steps.at(-1)).toEqual([2, true]);
    expect(steps.slice(0, -1).every(([, f]) => !f)).toBe(true);
  });
});

/** Opens a log on a gated disk, releasing the calls of the open itself. */
function openGated(disk: MemoryDisk) {
  return settleGated(disk, openAt(memoryPlace(disk), clock()));
}
