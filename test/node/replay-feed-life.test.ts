/**
 * A replay feed's reader and frontier (a node with a store, on a simulated disk and clock): a feed
 * that has read past what it owes is done without waiting for the log, a feed closed while it waits
 * for the log closes its reader when the wait ends, and a module killed while its feed holds events
 * it has not given gets them on its next load.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type NodeEvent } from '../../src/index.js';
import { gate } from '../kernel/support.js';
import { block, createMemoryDisk, diskNode, drive, heights, range, settle, withoutTime } from './support.js';

const tx = (n: number): NodeEvent => ({ type: 'NewTransaction', payload: { txHash: n.toString(16).padStart(64, 'a') } });

describe('a replay feed', () => {
  it('is done once it has read past what it owes, without waiting for the log to write events the module does not take', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.load(heights('m', { replay: true }).module));
    await drive(scheduler, node.unload('m'));
    for (let h = 1; h <= 200; h++) node.events.publish(block(h));
    await drive(scheduler, node.events.flush());
    const { promise: held, open } = gate();
    const m = heights('m', { replay: true, mailboxCapacity: 2, handle: (event) => (event.type === 'NewBlock' && event.payload.height === 1 ? held : undefined) });
    await drive(scheduler, node.load(m.module)); // b1 in hand; its feed has read ahead as far as it may and waits
    // Transactions (durable, not for m): the first one written, the second one not yet.
    node.events.publish(tx(1));
    await withoutTime(scheduler, node.events.flush());
    node.events.publish(tx(2));
    open();
    await withoutTime(scheduler, Promise.resolve());
    expect(m.seen).toEqual(range(1, 200));
    // Its feed read the first transaction, past everything it owed: m is back to live delivery.
    expect(node.events.publish(block(201))).toMatchObject({ enqueued: 1 });
    await withoutTime(scheduler, Promise.resolve());
    expect(m.seen.at(-1)).toBe(201);
    await drive(scheduler, node.shutdown());
  });
});

describe('a replay feed as its module goes away', () => {
  it('closes its log reader when the read it was waiting on ends after the module went away', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    const { promise: held, open } = gate();
    const m = heights('m', { replay: true, mailboxCapacity: 1, handle: (event) => (event.type === 'NewBlock' && event.payload.height === 1 ? held : undefined) });
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(1));
    await withoutTime(scheduler, node.events.flush()); // b1 in hand, and written: the log's own files are open
    const openFiles = () => disk.counts.open - disk.counts.close;
    const before = openFiles();
    node.events.publish(block(2)); // queued
    node.events.publish(block(3)); // no room: a feed reads it back from the log
    await withoutTime(scheduler, node.events.flush()); // written: the feed's reader has read it
    node.events.publish(block(4)); // left to the feed too, which waits for the log to write it
    open();
    await withoutTime(scheduler, Promise.resolve());
    expect(m.seen).toEqual([1, 2, 3]);
    expect(openFiles()).toBe(before + 1); // the feed's reader, waiting for the log
    await withoutTime(scheduler, node.unload('m'));
    await settle(scheduler); // the log writes b4: the feed's wait ends
    expect(openFiles()).toBe(before);
    expect(m.seen).toEqual([1, 2, 3]);
    await drive(scheduler, node.shutdown());
  });

  it('keeps the position of a module killed while its feed holds an event it could not give yet: its next load gets it', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk, { store: { durableTypes: ['NewBlock'] }, node: { shutdownTimeoutMs: 50 } });
    const stuck = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock', 'NewTransaction'],
      replay: true,
      mailboxCapacity: 1,
      // Never finishes the first transaction: unloading it must kill it.
      handle: (event: NodeEvent) => (event.type === 'NewTransaction' ? new Promise<void>(() => undefined) : undefined),
    });
    await drive(scheduler, node.load(stuck));
    node.events.publish(tx(1));
    await withoutTime(scheduler, Promise.resolve()); // in hand, for ever
    node.events.publish(tx(2)); // queued (not durable)
    expect(node.events.publish(block(1))).toMatchObject({ enqueued: 1 }); // no room: left to a feed
    await settle(scheduler); // the feed has read b1 and holds it: the mailbox is still full
    await drive(scheduler, node.unload('m'));
    const again = heights('m', { replay: true });
    await drive(scheduler, node.load(again.module));
    node.events.publish(block(2));
    await settle(scheduler);
    expect(again.seen).toEqual([1, 2]);
    await drive(scheduler, node.shutdown());
  });
});
