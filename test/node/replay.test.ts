/**
 * Modules with `replay` on a node with a store: positions, what a restarted module gets (after its
 * own crash or a node restart), in order, exactly once, paced by its mailbox; on a simulated disk
 * and clock.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, isModactorError, type NodeEvent } from '../../src/index.js';
import type { MemoryDisk } from '../../src/store/memory-disk.js';
import { block, createMemoryDisk, diskNode, drive, heights, range, savedModule, settle } from './support.js';

/** A first node on `disk` where module m (with replay) handled heights 1..`upTo`. */
async function firstRun(disk: MemoryDisk, upTo: number) {
  const run = diskNode(disk);
  const m = heights('m', { replay: true });
  await drive(run.scheduler, run.node.load(m.module));
  for (let h = 1; h <= upTo; h++) run.node.events.publish(block(h));
  await settle(run.scheduler);
  expect(m.seen).toEqual(range(1, upTo));
  return { ...run, m };
}

/** A promise with its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('modules with replay', () => {
  it('starts at the end of the log on its first load: nothing older is replayed', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.start());
    for (let h = 1; h <= 5; h++) node.events.publish(block(h));
    const m = heights('m', { replay: true });
    await drive(scheduler, node.load(m.module));
    for (let h = 6; h <= 8; h++) node.events.publish(block(h));
    await settle(scheduler);
    expect(m.seen).toEqual([6, 7, 8]);
    await drive(scheduler, node.shutdown());
  });

  it('starts at fromSeq on its first load, when given', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.start()); // seq 1: NodeStartupCompleted
    for (let h = 1; h <= 5; h++) node.events.publish(block(h)); // seqs 2..6
    const m = heights('m', { replay: { fromSeq: 4 } });
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(6));
    await settle(scheduler);
    expect(m.seen).toEqual([3, 4, 5, 6]);
    await drive(scheduler, node.shutdown());
  });

  it('gives a module restarted by its policy exactly what it missed: lost with its mailbox, and published while it restarted', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const held = gate();
    let first = true;
    const m = heights('m', {
      replay: true,
      restart: { backoff: { minMs: 500, maxMs: 500, jitter: 0 } },
      handle: async (event) => {
        if (first && event.type === 'NewBlock' && event.payload.height === 1) {
          first = false;
          await held.promise;
          throw new Error('crash while holding 2..20 in its mailbox');
        }
      },
    });
    await drive(scheduler, node.load(m.module));
    for (let h = 1; h <= 20; h++) node.events.publish(block(h));
    await settle(scheduler);
    expect(m.seen).toEqual([]);
    held.open();
    await scheduler.runUntilIdle(); // it crashed; its restart waits 500 ms
    // While it restarts (not subscribed): these wait in the log for it.
    for (let h = 21; h <= 25; h++) expect(node.events.publish(block(h)).enqueued).toBe(0);
    await settle(scheduler);
    node.events.publish(block(26));
    await settle(scheduler);
    // 1 crashed it (failed on: not given again); 2..20 were lost with its mailbox; 21..25 missed.
    expect(m.seen).toEqual(range(2, 26));
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ handlerFailed: 1, lostOnCrash: 19, handled: 25, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('after a graceful node restart, gets what was published before it loaded again, then live events, once each', async () => {
    const disk = createMemoryDisk();
    const first = await firstRun(disk, 10);
    await drive(first.scheduler, first.node.shutdown());

    const second = diskNode(disk, { seed: 2 });
    await drive(second.scheduler, second.node.start());
    for (let h = 11; h <= 15; h++) second.node.events.publish(block(h));
    const b = heights('m', { replay: true });
    await drive(second.scheduler, second.node.load(b.module));
    for (let h = 16; h <= 18; h++) second.node.events.publish(block(h));
    await settle(second.scheduler);
    expect(b.seen).toEqual(range(11, 18));
    await drive(second.scheduler, second.node.shutdown());
  });

  it('after a node crash, replays from the saved position: nothing below it again, what was handled after it at most once more', async () => {
    const disk = createMemoryDisk();
    const first = await firstRun(disk, 10);
    const a = first.m;
    await drive(first.scheduler, first.node.events.flush()); // events and position 1..10 saved
    for (let h = 11; h <= 14; h++) first.node.events.publish(block(h));
    await drive(first.scheduler, first.node.events.flush()); // acknowledged; handled maybe before the position was saved
    for (let h = 15; h <= 16; h++) first.node.events.publish(block(h)); // neither
    await first.scheduler.runUntilIdle();
    disk.crash();
    const saved = (await savedModule(disk, 'm'))?.position ?? 0;

    const second = diskNode(disk, { seed: 3 });
    const b = heights('m', { replay: true });
    await drive(second.scheduler, second.node.load(b.module));
    second.node.events.publish(block(100));
    await settle(second.scheduler);
    // Every acknowledged event it had not handled by the saved position, then live ones.
    expect(b.seqs.every((seq) => seq > saved)).toBe(true);
    expect(b.seen.at(-1)).toBe(100);
    const handledEver = new Set([...a.seen, ...b.seen]);
    for (const h of range(1, 14)) expect(handledEver.has(h)).toBe(true);
    expect(b.seen).toEqual([...b.seen].sort((x, y) => x - y));
    await drive(second.scheduler, second.node.shutdown());
  });

  it('is paced by its mailbox when behind: nothing dropped, all in order, its bound holds', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const m = heights('slow', { replay: true, mailboxCapacity: 4, handle: () => Promise.resolve() });
    await drive(scheduler, node.load(m.module));
    // What sits in its mailbox or in its hands, from the inspection stream.
    let held = 0;
    let most = 0;
    node.system.inspect((event) => {
      if (event.actor !== '/modules/slow') return;
      if (event.type === 'offered') most = Math.max(most, ++held);
      else if (event.type === 'handled') held--;
    });
    for (let h = 1; h <= 300; h++) expect(node.events.publish(block(h)).dropped).toBe(0);
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 300));
    expect(most).toBeLessThanOrEqual(4 + 1);
    expect(await drive(scheduler, node.events.getDeliveryStats('slow'))).toMatchObject({ channelFull: 0, handled: 300, successful: 300 });
    await drive(scheduler, node.shutdown());
  });

  it('does not give again a critical event it handled ahead of queued ones', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const held = gate();
    const seen: string[] = [];
    let crash = false;
    const m = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock', 'DataMaintenance'],
      replay: true,
      async handle(event: NodeEvent) {
        if (event.type === 'NewBlock' && event.payload.height === 1) await held.promise;
        if (crash && event.type === 'NewBlock' && event.payload.height === 3) {
          crash = false;
          throw new Error('crash on 3');
        }
        seen.push(event.type === 'NewBlock' ? `b${event.payload.height}` : 'maintenance');
      },
    });
    await drive(scheduler, node.load(m));
    for (let h = 1; h <= 4; h++) node.events.publish(block(h));
    node.publisher.dataMaintenance('flush', 'high', 'manual');
    await settle(scheduler);
    crash = true;
    held.open();
    await settle(scheduler);
    node.events.publish(block(5));
    await settle(scheduler);
    // b1 in hand, the critical event overtook b2..b4; b3 crashed it (failed on, not again); b4 was
    // lost with its mailbox and replayed; the critical event is not replayed.
    expect(seen).toEqual(['maintenance', 'b1', 'b2', 'b4', 'b5']);
    await drive(scheduler, node.shutdown());
  });

  it('keeps below what its feed had not given when its incarnation ends: a restart, then the node shut down before it caught up', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    let crash = true;
    const a = heights('m', {
      replay: true,
      handle: (event) => {
        if (crash && event.type === 'NewBlock') {
          crash = false;
          throw new Error('crash on 1, with 2 queued');
        }
      },
    });
    await drive(first.scheduler, first.node.load(a.module));
    first.node.events.publish(block(1));
    first.node.events.publish(block(2));
    await first.scheduler.advanceBy(0); // crashed on 1, restarted: 2 is owed to its feed
    await drive(first.scheduler, first.node.shutdown());

    const second = diskNode(disk);
    const b = heights('m', { replay: true });
    await drive(second.scheduler, second.node.load(b.module));
    await settle(second.scheduler);
    expect([a.seen, b.seen]).toEqual([[], [2]]);
    expect(await drive(second.scheduler, second.node.events.getDeliveryStats('m'))).toMatchObject({ replayGap: 0 });
    await drive(second.scheduler, second.node.shutdown());
  });

  it('keeps its position through an unload and a later load of the same name', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const a = heights('m', { replay: true });
    await drive(scheduler, node.load(a.module));
    node.events.publish(block(1));
    await settle(scheduler);
    await drive(scheduler, node.unload('m'));
    for (let h = 2; h <= 4; h++) node.events.publish(block(h));
    const b = heights('m', { replay: true });
    await drive(scheduler, node.load(b.module));
    await settle(scheduler);
    expect([a.seen, b.seen]).toEqual([[1], [2, 3, 4]]);
    await drive(scheduler, node.shutdown());
  });

  it('replays from the oldest retained record when its position is older than retention, and counts the gap', async () => {
    const disk = createMemoryDisk();
    const store = { segmentMaxBytes: 2048, retainMaxBytes: 4096, batchMaxEvents: 5 };
    const first = diskNode(disk, { store });
    const a = heights('m', { replay: true });
    await drive(first.scheduler, first.node.load(a.module));
    first.node.events.publish(block(1));
    await settle(first.scheduler);
    await drive(first.scheduler, first.node.shutdown());
    const position = (await savedModule(disk, 'm'))?.position ?? 0;

    const second = diskNode(disk, { store });
    await drive(second.scheduler, second.node.start());
    for (let h = 2; h <= 200; h++) {
      second.node.events.publish(block(h));
      if (h % 5 === 0) await drive(second.scheduler, second.node.events.flush());
    }
    await drive(second.scheduler, second.node.events.flush());
    const b = heights('m', { replay: true });
    await drive(second.scheduler, second.node.load(b.module));
    await settle(second.scheduler);
    const stats = await drive(second.scheduler, second.node.events.getDeliveryStats('m'));
    const oldest = b.seen[0] as number;
    expect(oldest).toBeGreaterThan(2);
    expect(b.seen).toEqual(range(oldest, 200));
    // Every seq from its position up to the oldest record retained, counted once.
    expect(stats?.replayGap).toBe((b.seqs[0] as number) - position - 1);
    await drive(second.scheduler, second.node.shutdown());
  });

  it('refuses a bad replay option with a typed error naming the field', () => {
    let error: unknown;
    try {
      heights('m', { replay: { fromSeq: 0 } });
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'invalid-argument')).toBe(true);
    expect((error as { issues: { path: string }[] }).issues[0]?.path).toBe('replay.fromSeq');
  });
});
