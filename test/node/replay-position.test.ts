/**
 * A module's replay position on a node with a store, at its edges: what it handled ahead of older
 * events across a node crash, an event offered while its incarnation was dying, and when the
 * position is saved; on a simulated disk and clock.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type NodeEvent } from '../../src/index.js';
import { block, createMemoryDisk, diskNode, drive, heights, range, savedModule, settle } from './support.js';

/** A promise with its resolve function. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A module with replay that records blocks as `b<height>` and maintenance as `maintenance`, held on block 1 until `held` opens. */
function recorder(held: Promise<void> | null) {
  const seen: string[] = [];
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: ['NewBlock', 'DataMaintenance'],
    replay: true,
    async handle(event: NodeEvent) {
      if (held !== null && event.type === 'NewBlock' && event.payload.height === 1) await held;
      seen.push(event.type === 'NewBlock' ? `b${event.payload.height}` : 'maintenance');
    },
  });
  return { module, seen };
}

describe('the replay position of a module', () => {
  it('keeps what it handled ahead of older events across a node crash: replayed after, the critical events it took are not given again', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    const held = gate();
    const a = recorder(held.promise);
    await drive(first.scheduler, first.node.load(a.module));
    for (let h = 1; h <= 3; h++) first.node.events.publish(block(h));
    first.node.publisher.dataMaintenance('flush', 'high', 'manual');
    first.node.publisher.dataMaintenance('cleanup', 'high', 'manual');
    await settle(first.scheduler);
    // b1 in hand (held), both critical events overtook b2 and b3.
    expect(a.seen).toEqual(['maintenance', 'maintenance']);
    await drive(first.scheduler, first.node.events.flush());
    const saved = await savedModule(disk, 'm');
    expect(saved?.ahead).toHaveLength(2);
    expect(saved?.ahead).toEqual([...(saved?.ahead ?? [])].sort((x, y) => x - y));
    expect((saved?.ahead ?? []).every((seq) => seq > (saved?.position ?? 0))).toBe(true);
    disk.crash(); // b1 never finished

    const second = diskNode(disk);
    const b = recorder(null);
    await drive(second.scheduler, second.node.load(b.module));
    second.node.events.publish(block(4));
    await settle(second.scheduler);
    expect(b.seen).toEqual(['b1', 'b2', 'b3', 'b4']);
    await drive(second.scheduler, second.node.events.flush());
    // Caught up: its position passed what it had handled ahead, which is no longer kept.
    const caughtUp = await savedModule(disk, 'm');
    expect(caughtUp?.ahead).toEqual([]);
    expect(caughtUp?.position).toBeGreaterThan(Math.max(...(saved?.ahead ?? [])));
    await drive(second.scheduler, second.node.shutdown());
  });

  it('gives the events offered while its incarnation was dying to its next load', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const a = heights('m', {
      replay: true,
      restart: { type: 'temporary' },
      handle: (event) => {
        if (event.type === 'NewBlock' && event.payload.height === 1) throw new Error('crash on 1');
      },
    });
    await drive(scheduler, node.load(a.module));
    let terminated = false;
    node.system.inspect((event) => {
      if (event.actor === '/modules/m' && event.type === 'terminated') terminated = true;
    });
    node.events.publish(block(1));
    for (let turns = 0; !terminated && turns < 100; turns++) {
      scheduler.step();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(terminated).toBe(true);
    // Its mailbox is closed; the node has not yet taken the incarnation out of its subscriptions.
    expect(node.events.publish(block(2))).toMatchObject({ enqueued: 0, failed: 1 });
    // The first closed offer took it out of the subscriptions: the next is not offered to it.
    expect(node.events.publish(block(3))).toMatchObject({ enqueued: 0, failed: 0 });
    await settle(scheduler);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    const b = heights('m', { replay: true });
    await drive(scheduler, node.load(b.module));
    node.events.publish(block(4));
    await settle(scheduler);
    expect([a.seen, b.seen]).toEqual([[], [2, 3, 4]]);
    await drive(scheduler, node.shutdown());
  });

  it('is saved when the module settles an event, without a flush or another event', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk, { store: { saveDelayMs: 100 } });
    const held = gate();
    const later = gate();
    const a = heights('m', {
      replay: true,
      handle: async (event) => {
        if (event.type === 'NewBlock' && event.payload.height === 1) await held.promise;
        if (event.type === 'NewBlock' && event.payload.height === 3) await later.promise;
      },
    });
    await drive(first.scheduler, first.node.load(a.module));
    first.node.events.publish(block(1));
    first.node.events.publish(block(2));
    await settle(first.scheduler); // the events are written and the state saved with 1 and 2 not handled
    const before = (await savedModule(disk, 'm'))?.position ?? 0;
    held.open();
    await settle(first.scheduler);
    expect(a.seen).toEqual([1, 2]);
    const after = await savedModule(disk, 'm');
    expect(after?.position).toBe(a.seqs.at(-1));
    expect(after?.position).toBeGreaterThan(before);
    first.node.events.publish(block(3)); // in its hands, not handled: the position stays below it
    await settle(first.scheduler);
    expect((await savedModule(disk, 'm'))?.position).toBe(a.seqs.at(-1));
    disk.crash();

    const second = diskNode(disk);
    const b = heights('m', { replay: true });
    await drive(second.scheduler, second.node.load(b.module));
    second.node.events.publish(block(4));
    await settle(second.scheduler);
    expect(b.seen).toEqual([3, 4]);
    await drive(second.scheduler, second.node.shutdown());
  });

  it('stays below the replayed events a critical event overtook, while that critical event is in its hands', async () => {
    const disk = createMemoryDisk();
    const before = diskNode(disk);
    await drive(before.scheduler, before.node.start());
    for (let h = 1; h <= 200; h++) before.node.events.publish(block(h));
    await drive(before.scheduler, before.node.events.flush());
    await drive(before.scheduler, before.node.shutdown());

    // Transactions are critical here: they overtake what is queued.
    const isCritical = (event: NodeEvent): boolean => event.type === 'NewTransaction';
    const first = diskNode(disk, { node: { isCritical } });
    const held = gate();
    const seen: number[] = [];
    const replaying = (handleTransaction: () => Promise<void>) =>
      defineModule({
        name: 'm',
        version: '1.0.0',
        subscribe: ['NewBlock', 'NewTransaction'],
        replay: { fromSeq: 1 },
        mailboxCapacity: 4,
        async handle(event: NodeEvent, ctx) {
          if (event.type !== 'NewBlock') return handleTransaction();
          seen.push(event.payload.height);
          // The last block of the replay's first read: the next read is under way.
          if (event.payload.height === 64) ctx.publish({ type: 'NewTransaction', payload: { txHash: 'cd'.repeat(32) } });
        },
      });
    await drive(first.scheduler, first.node.load(replaying(() => held.promise)));
    await settle(first.scheduler);
    // The transaction is in its hands; the replay read on and queued blocks behind it.
    expect(seen).toEqual(range(1, 64));
    await drive(first.scheduler, first.node.events.flush());
    disk.crash();

    const second = diskNode(disk, { node: { isCritical } });
    seen.length = 0;
    let transactions = 0;
    await drive(second.scheduler, second.node.load(replaying(() => {
        transactions++;
        return Promise.resolve();
      })));
    await settle(second.scheduler);
    expect(seen).toEqual(range(65, 200));
    expect(transactions).toBe(1);
    await drive(second.scheduler, second.node.shutdown());
  });
});
