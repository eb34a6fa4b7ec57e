/**
 * The outcome of each offer, as the publisher's receipt and the module's statistics count it:
 * enqueued, declined by the module's filter, or failed on a module that died (which is then
 * unsubscribed until it is restarted), for routine, critical and filtered offers alike.
 */
import { describe, expect, it } from 'vitest';
import { EventType, defineModule, pendingCount, type DeliveryStats, type NodeEvent, type PublishReceipt } from '../../src/index.js';
import { gate, hash, recorder, simNode } from '../scenarios/helpers.js';

describe('offer outcomes', () => {
  it('counts the events a filter declines as filtered, in the receipt and the stats, and never enqueues them', async () => {
    const { node, scheduler } = simNode(601);
    const even = recorder('even', [EventType.NewBlock]);
    await node.load(defineModule({ ...even.module, filter: (e: NodeEvent) => e.type === 'NewBlock' && e.payload.height % 2 === 0 }));
    const receipts = [1, 2, 3].map((h) => node.publisher.newBlock(hash(h), h));
    expect(receipts).toEqual([
      { enqueued: 0, dropped: 0, failed: 0, filtered: 1, serializationFailed: 0 },
      { enqueued: 1, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 },
      { enqueued: 0, dropped: 0, failed: 0, filtered: 1, serializationFailed: 0 },
    ]);
    await scheduler.runUntilIdle();
    expect(even.seen).toEqual(['NewBlock(2)']);
    expect(await node.events.getDeliveryStats('even')).toMatchObject({ successful: 1, handled: 1, filtered: 2 });
    await node.shutdown();
  });

  it('counts offers a full mailbox refuses as dropped in the receipt and channelFull in the stats, for a module with a filter too', async () => {
    const { node, scheduler } = simNode(604);
    const held = gate();
    const m = recorder('m', [EventType.NewBlock], { mailboxCapacity: 1, handle: () => held.promise });
    await node.load(defineModule({ ...m.module, filter: () => true }));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle(); // in hand
    const receipts = [2, 3, 4].map((h) => node.publisher.newBlock(hash(h), h));
    expect(receipts.map((r) => [r.enqueued, r.dropped])).toEqual([
      [1, 0],
      [0, 1],
      [0, 1],
    ]);
    held.open();
    await scheduler.runUntilIdle();
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 2, handled: 2, channelFull: 2, membershipDropped: 0 });
    await node.shutdown();
  });

  it.each([
    ['a module without a filter', undefined],
    ['a module with a filter', () => true],
  ])('counts offers to %s that died, before it is retired, as failed, unsubscribes it, and subscribes it again when it restarts', async (_label, filter) => {
    const { node, scheduler } = simNode(602);
    const watcher = recorder('watcher', [EventType.ModuleCrashed]);
    await node.load(watcher.module);
    const m = recorder('m', [EventType.NewBlock, EventType.DataMaintenance], {
      handle: (event) => {
        if (event.type === 'NewBlock' && event.payload.height === 1) throw new Error('boom');
      },
    });
    await node.load(filter === undefined ? m.module : defineModule({ ...m.module, filter }));
    const atDeath: PublishReceipt[] = [];
    const stop = node.system.inspect((event) => {
      if (event.type !== 'terminated' || event.actor !== '/modules/m' || atDeath.length > 0) return;
      atDeath.push(node.publisher.newBlock(hash(2), 2));
      atDeath.push(node.publisher.dataMaintenance('flush', 'high', 'manual'));
      atDeath.push(node.publisher.newBlock(hash(3), 3));
    });
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    stop();
    // The first offer finds it closed and unsubscribes it: the others do not reach it.
    expect(atDeath.map((r) => [r.enqueued, r.failed])).toEqual([
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    expect(watcher.events.map((e) => e.payload)).toEqual([{ moduleName: 'm', error: 'boom' }]);
    node.publisher.newBlock(hash(4), 4);
    await scheduler.runAll();
    expect(m.seen).toEqual(['NewBlock(1)', 'NewBlock(4)']);
    const stats = (await node.events.getDeliveryStats('m')) as DeliveryStats;
    expect(stats).toMatchObject({ successful: 2, failed: 1, handled: 1, handlerFailed: 1, incarnations: 2 });
    expect(pendingCount(stats)).toBe(0);
    await node.shutdown();
  });

  it('counts a critical offer to a dead module as failed too', async () => {
    const { node, scheduler } = simNode(603);
    const m = recorder('m', [EventType.NewBlock, EventType.DataMaintenance], {
      handle: (event) => {
        if (event.type === 'NewBlock') throw new Error('boom');
      },
      restart: { type: 'temporary' },
    });
    await node.load(m.module);
    const atDeath: PublishReceipt[] = [];
    const stop = node.system.inspect((event) => {
      if (event.type === 'terminated' && event.actor === '/modules/m' && atDeath.length === 0) atDeath.push(node.publisher.dataMaintenance('flush', 'high', 'manual'));
    });
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    stop();
    expect(atDeath).toEqual([{ enqueued: 0, dropped: 0, failed: 1, filtered: 0, serializationFailed: 0 }]);
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 1, failed: 1, handlerFailed: 1 });
    expect(await node.events.getSubscribers(EventType.DataMaintenance)).toEqual([]);
    await node.shutdown();
  });
});
