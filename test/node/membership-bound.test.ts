/**
 * Membership events (ModuleLoaded/Crashed/Unloaded) go past a busy module's routine bound, in
 * order, up to its `membershipCapacity`; past that they are counted (`channelFull` and
 * `membershipDropped`, never silently lost) and the module is reported unhealthy, with one
 * warning in the log however many are dropped.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, defineModule, type DeliveryStats } from '../../src/index.js';
import { memoryLogger } from '../kernel/support.js';
import { gate, hash, recorder } from '../scenarios/helpers.js';

describe('the membership bound', () => {
  it('admits membership events to a stuck module up to its reserve, then counts the rest dropped and reports it unhealthy once', async () => {
    const scheduler = createSimulatedScheduler({ seed: 401, autoRun: true });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger });
    const held = gate();
    const stuck = recorder('stuck', [EventType.NewBlock, EventType.ModuleLoaded], { mailboxCapacity: 1, handle: (e) => (e.type === 'NewBlock' ? held.promise : undefined) });
    await node.load(defineModule({ ...stuck.module, membershipCapacity: 2 }));
    await scheduler.runUntilIdle(); // its own ModuleLoaded handled
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle(); // in hand
    node.publisher.newBlock(hash(2), 2); // fills the routine bound
    await scheduler.runUntilIdle();
    for (let i = 1; i <= 5; i++) await node.load(defineModule({ name: `m${i}`, version: '1', subscribe: [], handle() {} }));
    // m1 and m2 fill the reserve; m3, m4 and m5 are dropped.
    const stats = (await node.events.getDeliveryStats('stuck')) as DeliveryStats;
    expect(stats).toMatchObject({ successful: 5, channelFull: 3, membershipDropped: 3 });
    const info = (await node.modules()).find((m) => m.name === 'stuck');
    expect(info).toMatchObject({ health: 'unhealthy', queued: 3 });
    const warnings = lines.filter((l) => l['msg'] === 'membership events dropped: the module does not take its events');
    expect(warnings).toEqual([expect.objectContaining({ level: 40, module: 'stuck', membershipCapacity: 2 })]);
    held.open();
    await scheduler.runUntilIdle();
    expect(stuck.seen).toEqual(['ModuleLoaded(stuck)', 'NewBlock(1)', 'NewBlock(2)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)']);
    await node.shutdown();
  });

  it('keeps the default reserve of 1000 when a module sets none: a busy module gets every membership event', async () => {
    const scheduler = createSimulatedScheduler({ seed: 402, autoRun: true });
    const node = createNode({ scheduler });
    const held = gate();
    const busy = recorder('busy', [EventType.NewBlock, EventType.ModuleLoaded], { mailboxCapacity: 1, handle: (e) => (e.type === 'NewBlock' ? held.promise : undefined) });
    await node.load(busy.module);
    await scheduler.runUntilIdle();
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runUntilIdle();
    for (let i = 1; i <= 5; i++) await node.load(defineModule({ name: `m${i}`, version: '1', subscribe: [], handle() {} }));
    expect(await node.events.getDeliveryStats('busy')).toMatchObject({ successful: 8, channelFull: 0, membershipDropped: 0 });
    expect((await node.modules()).find((m) => m.name === 'busy')?.health).toBe('healthy');
    held.open();
    await node.shutdown();
  });
});
