/** The saved state: coalesced, atomic, durable on flush; and the store that opens it with the log. */
import { existsSync, readdirSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { createMemoryDisk, type MemoryDisk } from '../../src/store/memory-disk.js';
import { EMPTY_STATE, openStateFile, type SavedState } from '../../src/store/state-file.js';
import { openStore } from '../../src/store/store.js';
import { block, clock, range, realPlace, releaseNext, settleGated } from './support.js';

const DIR = '/store';

function stateAt(lastSeq: number): SavedState {
  return {
    lastSeq,
    modules: {
      indexer: { position: lastSeq, stats: { successful: lastSeq, channelFull: 1 }, restarts: 2 },
      mempool: { health: [{ time: 5, health: 'degraded', reason: 'slow' }] },
    },
  };
}

async function prepared(disk: MemoryDisk = createMemoryDisk()) {
  await settleGated(disk, disk.mount().mkdir(DIR));
  return disk;
}

const open = (disk: MemoryDisk, scheduler = clock()) => openStateFile({ dir: DIR, fs: disk.mount(), scheduler });

describe('the saved state', () => {
  it('coalesces saves: one write per delay, holding the newest state', async () => {
    const disk = await prepared();
    const scheduler = clock();
    const state = await open(disk, scheduler);
    expect(state.recovery).toEqual({ found: false, corrupt: false });
    expect(state.loaded).toEqual(EMPTY_STATE);
    for (const seq of range(1, 100)) state.save(stateAt(seq));
    await scheduler.advanceBy(999);
    expect(disk.counts.rename).toBe(0);
    await scheduler.advanceBy(1);
    await state.flush();
    expect(disk.counts.rename).toBe(1);
    expect(state.status()).toMatchObject({ state: 'ok', pending: false, writes: 1 });
    expect((await open(disk)).loaded).toEqual(stateAt(100));
  });

  it('writes at once on flush, and not again when nothing changed', async () => {
    const disk = await prepared();
    const state = await open(disk);
    state.save(stateAt(7));
    await state.flush();
    await state.flush();
    expect(disk.counts.rename).toBe(1);
    expect(disk.counts.datasync).toBe(1);
    expect(disk.counts.syncDir).toBe(1);
    expect(disk.list(DIR)).toEqual(['state.json']);
  });

  it('calls a state function when it writes, so a frequent save costs nothing until then', async () => {
    const disk = await prepared();
    const state = await open(disk);
    let seq = 1;
    let calls = 0;
    for (; seq < 50; seq++)
      state.save(() => {
        calls++;
        return stateAt(seq);
      });
    await state.flush();
    expect(calls).toBe(1);
    expect((await open(disk)).loaded.lastSeq).toBe(50);
  });

  it('writes a save made during a write after it', async () => {
    const disk = await prepared(createMemoryDisk({ gated: true }));
    const state = await settleGated(disk, open(disk));
    state.save(stateAt(1));
    const first = state.flush();
    expect(await releaseNext(disk)).toBe(true);
    state.save(stateAt(2));
    await settleGated(disk, first);
    await settleGated(disk, state.flush());
    expect((await settleGated(disk, open(disk))).loaded).toEqual(stateAt(2));
  });

  it('holds one complete save after a power loss at any disk call of a write', async () => {
    const steps = async (disk: MemoryDisk, stop: number) => {
      const state = await settleGated(disk, open(disk));
      state.save(stateAt(2));
      void state.flush().catch(() => undefined);
      let n = 0;
      while (n < stop && (await releaseNext(disk))) n++;
      return n;
    };
    const seeded = async () => {
      const disk = await prepared(createMemoryDisk({ gated: true }));
      const state = await settleGated(disk, open(disk));
      state.save(stateAt(1));
      await settleGated(disk, state.flush());
      return disk;
    };
    const total = await steps(await seeded(), Number.POSITIVE_INFINITY);
    expect(total).toBeGreaterThanOrEqual(6); // open, write, datasync, close, rename, directory sync
    const seen = new Set<number>();
    for (let stop = 0; stop <= total; stop++) {
      const disk = await seeded();
      await steps(disk, stop);
      disk.powerLoss({ keepUnsynced: (_, bytes) => bytes / 2 });
      const again = await settleGated(disk, open(disk));
      expect(again.recovery.corrupt).toBe(false);
      expect([stateAt(1), stateAt(2)]).toContainEqual(again.loaded);
      seen.add(again.loaded.lastSeq);
    }
    expect(seen).toEqual(new Set([1, 2]));
  });

  it('loses to a process crash only the saves not yet written', async () => {
    const disk = await prepared();
    const state = await open(disk);
    state.save(stateAt(1));
    await state.flush();
    state.save(stateAt(2)); // waits for its delay: the process dies first
    disk.crash();
    expect((await open(disk)).loaded).toEqual(stateAt(1));
  });

  it('rejects flush with store-failed when a write fails, stays pending, and writes on the next try', async () => {
    const disk = await prepared();
    const state = await open(disk);
    disk.injectFault({ op: 'rename', code: 'EIO' });
    state.save(stateAt(3));
    const error = await state.flush().catch((e: unknown) => e);
    expect(isModactorError(error, 'store-failed')).toBe(true);
    expect(state.status()).toMatchObject({ state: 'degraded', pending: true, failedWrites: 1, lastError: { code: 'EIO' } });
    await state.flush();
    expect(state.status()).toMatchObject({ state: 'ok', pending: false, writes: 1 });
    expect((await open(disk)).loaded).toEqual(stateAt(3));
  });

  it('refuses a state it cannot keep with invalid-argument naming the field', async () => {
    const state = await open(await prepared());
    const bad = { lastSeq: 1, modules: { indexer: { position: -1 } } } as SavedState;
    let error: unknown;
    try {
      state.save(bad);
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'invalid-argument')).toBe(true);
    expect((error as { issues: { path: string }[] }).issues[0]?.path).toBe('state.modules.indexer.position');
  });

  it('reports an unreadable file and starts from an empty state', async () => {
    const disk = await prepared();
    disk.write(`${DIR}/state.json`, Buffer.from('00000000 {"format":"modactor-state"}\n'));
    const logged: { level: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number }) });
    const state = await openStateFile({ dir: DIR, fs: disk.mount(), scheduler: clock(), logger });
    expect(state.recovery).toEqual({ found: true, corrupt: true });
    expect(state.loaded).toEqual(EMPTY_STATE);
    expect(logged.filter((l) => l.level === 40)).toHaveLength(1);
  });
});

describe('the store', () => {
  it('opens the log and the saved state in one directory of real files, and continues numbering after both', async () => {
    const { dir } = realPlace();
    const scheduler = clock();
    const store = await openStore({ dir, scheduler });
    expect(store.lastSeq).toBe(0);
    for (const seq of range(1, 10)) store.log.append(block(seq));
    // A module handled seq 12 (delivered live) before a power loss took 11 and 12 from the log.
    store.state.save({ lastSeq: 12, modules: { indexer: { position: 12 } } });
    await store.flush();
    expect(store.status()).toMatchObject({ state: 'ok', log: { durable: 10 }, saved: { writes: 1 } });
    await store.close();
    expect(store.status().state).toBe('closed');
    expect(readdirSync(dir).sort()).toEqual(['segment-0000000000000001.log', 'state.json']);

    const again = await openStore({ dir, scheduler });
    expect(again.log.lastSeq).toBe(10);
    expect(again.state.loaded.modules['indexer']?.position).toBe(12);
    expect(again.lastSeq).toBe(12);
    again.log.append(block(again.lastSeq + 1));
    await again.close();
    expect(existsSync(`${dir}/state.json.tmp`)).toBe(false);
  });

  it('is degraded when its log is, and its flush rejects store-failed', async () => {
    const disk = createMemoryDisk();
    const store = await openStore({ dir: DIR, fs: disk.mount(), scheduler: clock() });
    disk.injectFault({ op: 'write', code: 'ENOSPC', path: `${DIR}/segment-0000000000000001.log` });
    store.log.append(block(1));
    store.state.save(stateAt(1));
    expect(isModactorError(await store.flush().catch((e: unknown) => e), 'store-failed')).toBe(true);
    expect(store.status()).toMatchObject({ state: 'degraded', log: { state: 'degraded' }, saved: { state: 'ok' } });
  });
});
