/**
 * What the router offers a module with `replay` (a node with a store): a durable event it has no
 * room for, or that comes while its feed is still catching it up, is left to the feed (read back
 * from the store in its turn) and counted as enqueued, never dropped; critical events still
 * overtake; events that are not durable are offered like to any module.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type NodeEvent } from '../../src/index.js';
import { block, createMemoryDisk, diskNode, drive, range, settle } from './support.js';

/** A module with replay recording NewBlock heights and the other events it handles, held on height `holdAt` until `open()`. */
function recorderWithReplay(subscribe: ('NewBlock' | 'NewTransaction' | 'DataMaintenance')[], mailboxCapacity: number, holdAt = 1) {
  const seen: string[] = [];
  let open!: () => void;
  const held = new Promise<void>((resolve) => (open = resolve));
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe,
    replay: true,
    mailboxCapacity,
    async handle(event: NodeEvent) {
      if (event.type === 'NewBlock' && event.payload.height === holdAt) await held;
      seen.push(event.type === 'NewBlock' ? `b${event.payload.height}` : event.type);
    },
  });
  return { module, seen, open };
}

describe('offers to a module with replay', () => {
  it('counts a durable event it has no room for as enqueued (left to its feed), drops none, and delivers all in order', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const m = recorderWithReplay(['NewBlock'], 2);
    await drive(scheduler, node.load(m.module));
    const receipts = range(1, 8).map((h) => node.events.publish(block(h)));
    expect(receipts.map((r) => [r.enqueued, r.dropped])).toEqual(range(1, 8).map(() => [1, 0]));
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 8).map((h) => `b${h}`));
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ successful: 8, handled: 8, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('offers events that are not durable as to any module: dropped when its mailbox is full', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk, { store: { durableTypes: ['NewBlock'] } });
    const m = recorderWithReplay(['NewBlock', 'NewTransaction'], 1);
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(1));
    await scheduler.runUntilIdle(); // b1 in hand
    const tx = (n: number) => node.events.publish({ type: 'NewTransaction', payload: { txHash: n.toString(16).padStart(64, '0') } });
    expect([tx(1), tx(2), tx(3)].map((r) => [r.enqueued, r.dropped])).toEqual([
      [1, 0],
      [0, 1],
      [0, 1],
    ]);
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(['b1', 'NewTransaction']);
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ successful: 2, handled: 2, channelFull: 2 });
    await drive(scheduler, node.shutdown());
  });

  it('lets a critical event overtake what its feed still has to give', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const first = recorderWithReplay(['NewBlock', 'DataMaintenance'], 2);
    first.open();
    await drive(scheduler, node.load(first.module));
    await drive(scheduler, node.unload('m'));
    for (let h = 2; h <= 60; h++) node.events.publish(block(h));
    await drive(scheduler, node.events.flush());
    const again = recorderWithReplay(['NewBlock', 'DataMaintenance'], 2, 2);
    await drive(scheduler, node.load(again.module)); // its feed reads b2..b60 from the store; b2 in hand
    expect(again.seen).toEqual([]);
    expect(node.publisher.dataMaintenance('flush', 'high', 'manual')).toMatchObject({ enqueued: 1, dropped: 0 });
    again.open();
    await settle(scheduler);
    const blocks = again.seen.filter((s) => s !== 'DataMaintenance');
    expect(blocks).toEqual(range(2, 60).map((h) => `b${h}`));
    // Right after the one in hand, ahead of b3..b60.
    expect(again.seen.indexOf('DataMaintenance')).toBe(1);
    await drive(scheduler, node.shutdown());
  });
});
