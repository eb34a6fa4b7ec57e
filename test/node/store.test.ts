/**
 * A node with a store (createNode({ store })): durable events appended with their stamped meta,
 * flush as acknowledgement, numbering continued across restarts, disk failures reported, what
 * survives a restart; on a simulated disk and clock.
 */
import { describe, expect, it } from 'vitest';
import { EventType, isModactorError } from '../../src/index.js';
import { DIR, block, createMemoryDisk, diskNode, drive, hash, loggedHeights, range, savedModule, settle, heights } from './support.js';
import { openEventLog } from '../../src/store/event-log.js';

describe('a node with a store', () => {
  it('appends every accepted durable event with its stamped meta, never the reserved types, and flush acknowledges them', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.start());
    for (let h = 1; h <= 5; h++) node.events.publish(block(h));
    await drive(scheduler, node.events.flush());
    const log = await openEventLog({ dir: DIR, fs: disk.mount(), readOnly: true });
    const events = [];
    for await (const event of log.read()) events.push(event);
    await log.close();
    expect(events.map((e) => e.type)).toEqual(['NewBlock', 'NewBlock', 'NewBlock', 'NewBlock', 'NewBlock']);
    expect(events.map((e) => (e.payload as { height: number }).height)).toEqual(range(1, 5));
    // NodeStartupCompleted took seq 1 and is not in the log (reserved).
    const time = events[0]?.meta.time;
    expect(events.map((e) => e.meta)).toEqual(range(2, 6).map((seq) => ({ seq, source: 'node', time })));
    await drive(scheduler, node.shutdown());
  });

  it('refuses events published before the store is open (node-not-ready), then numbers above the last run', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    await drive(first.scheduler, first.node.start());
    for (let h = 1; h <= 3; h++) first.node.events.publish(block(h));
    await drive(first.scheduler, first.node.shutdown());

    const second = diskNode(disk);
    let refused: unknown;
    try {
      second.node.events.publish(block(4));
    } catch (error) {
      refused = error;
    }
    expect(isModactorError(refused, 'node-not-ready')).toBe(true);
    await drive(second.scheduler, second.node.start());
    const receipt = second.node.events.publish(block(4));
    expect(receipt.enqueued).toBe(0);
    await drive(second.scheduler, second.node.events.flush());
    expect(await loggedHeights(disk)).toEqual(range(1, 4));
    const log = await openEventLog({ dir: DIR, fs: disk.mount(), readOnly: true });
    expect(log.lastSeq).toBeGreaterThan(4);
    await log.close();
    await drive(second.scheduler, second.node.shutdown());
  });

  it('keeps every flushed event through a process crash and a power loss', async () => {
    const disk = createMemoryDisk();
    let height = 0;
    for (const how of ['crash', 'power-loss', 'crash'] as const) {
      const { node, scheduler } = diskNode(disk);
      await drive(scheduler, node.start());
      const before = await loggedHeights(disk);
      expect(before).toEqual(range(1, before.length));
      height = before.length;
      for (let i = 0; i < 20; i++) node.events.publish(block(++height));
      await drive(scheduler, node.events.flush());
      const flushed = height;
      for (let i = 0; i < 7; i++) node.events.publish(block(++height)); // not acknowledged
      await scheduler.runUntilIdle();
      if (how === 'crash') disk.crash();
      else disk.powerLoss();
      const after = await loggedHeights(disk);
      expect(after.slice(0, flushed)).toEqual(range(1, flushed));
      expect(after).toEqual(range(1, after.length)); // a suffix at most is lost, never a hole
    }
  });

  it.each([
    ['ENOSPC', 'datasync'],
    ['EIO', 'write'],
  ] as const)('rejects flush with store-failed on %s (%s), counts the events not durable, reports degraded, and publish goes on', async (code, op) => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.start());
    node.events.publish(block(1));
    await drive(scheduler, node.events.flush());
    expect(node.status().store).toMatchObject({ state: 'ok', notDurable: 0 });
    disk.injectFault({ op, code, times: Number.POSITIVE_INFINITY });
    for (let h = 2; h <= 4; h++) expect(() => node.events.publish(block(h))).not.toThrow();
    const failed = await drive(scheduler, node.events.flush()).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isModactorError(failed, 'store-failed')).toBe(true);
    expect(node.status().store).toMatchObject({ state: 'degraded', notDurable: 3, lastError: { code } });
    expect(node.status().state).toBe('running');
    disk.clearFaults();
    node.events.publish(block(5));
    await drive(scheduler, node.events.flush());
    expect(node.status().store).toMatchObject({ state: 'ok', notDurable: 3 });
    await drive(scheduler, node.shutdown());
  });

  it('fails the node when its store cannot be opened: load and start reject, shutdown completes', async () => {
    const disk = createMemoryDisk();
    disk.injectFault({ op: 'mkdir', code: 'EIO' });
    const { node, scheduler } = diskNode(disk);
    const loading = await drive(scheduler, node.load(heights('m').module)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isModactorError(loading, 'node-failed')).toBe(true);
    expect(node.status()).toMatchObject({ state: 'failed', store: { state: 'failed', lastError: { code: 'store-failed' } } });
    await drive(scheduler, node.shutdown());
  });

  it('refuses bad store options at createNode, a module with replay on a node without a store, and flush without one', async () => {
    const disk = createMemoryDisk();
    expect(() => diskNode(disk, { store: { durableTypes: ['ModuleLoaded'] } })).toThrow(expect.objectContaining({ code: 'invalid-argument' }) as Error);
    expect(() => diskNode(disk, { store: { durableTypes: ['NoSuchType'] } })).toThrow(expect.objectContaining({ code: 'unknown-event-type' }) as Error);
    expect(() => diskNode(disk, { store: { dir: '' } })).toThrow(expect.objectContaining({ code: 'invalid-argument' }) as Error);
    const { createNode, createSimulatedScheduler } = await import('../../src/index.js');
    const node = createNode({ scheduler: createSimulatedScheduler({ autoRun: true }) });
    await expect(node.load(heights('m', { replay: true }).module)).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(node.events.flush()).rejects.toMatchObject({ code: 'invalid-argument' });
    await node.shutdown();
  });

  it('appends only the durable types it is given', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk, { store: { durableTypes: [EventType.NewTransaction] } });
    await drive(scheduler, node.start());
    node.events.publish(block(1));
    node.publisher.newTransaction(hash(7));
    await drive(scheduler, node.events.flush());
    const log = await openEventLog({ dir: DIR, fs: disk.mount(), readOnly: true });
    const types = [];
    for await (const event of log.read()) types.push(event.type);
    await log.close();
    expect(types).toEqual(['NewTransaction']);
    await drive(scheduler, node.shutdown());
  });

  it('keeps delivery statistics, restart counts and health history across a node restart', async () => {
    const disk = createMemoryDisk();
    let crashNext = true;
    const make = () =>
      heights('m', {
        handle: (event) => {
          if (event.type === 'NewBlock' && event.payload.height === 2 && crashNext) {
            crashNext = false;
            throw new Error('boom');
          }
        },
      });
    const first = diskNode(disk);
    await drive(first.scheduler, first.node.load(make().module));
    for (let h = 1; h <= 2; h++) first.node.events.publish(block(h));
    await settle(first.scheduler);
    first.node.events.publish(block(3));
    await settle(first.scheduler);
    const statsBefore = await drive(first.scheduler, first.node.events.getDeliveryStats('m'));
    expect(statsBefore).toMatchObject({ successful: 3, handled: 2, handlerFailed: 1, incarnations: 2 });
    await drive(first.scheduler, first.node.shutdown());
    expect(await savedModule(disk, 'm')).toMatchObject({ restarts: 1, stats: { handled: 2, handlerFailed: 1 } });

    const second = diskNode(disk);
    await drive(second.scheduler, second.node.load(make().module));
    second.node.events.publish(block(4));
    await settle(second.scheduler);
    expect(await drive(second.scheduler, second.node.events.getDeliveryStats('m'))).toMatchObject({
      successful: 4,
      handled: 3,
      handlerFailed: 1,
      incarnations: 3,
    });
    const [info] = await drive(second.scheduler, second.node.modules());
    expect(info).toMatchObject({ name: 'm', restarts: 1 });
    const saved = await drive(second.scheduler, second.node.shutdown()).then(() => savedModule(disk, 'm'));
    expect(saved?.health?.map((h) => h.health)).toEqual(['degraded', 'healthy']);
  });
});
