/**
 * A process module with `replay` (its manifest's field) on a node with a store: killed mid-stream,
 * the restarted child first gets what the dead one had not acknowledged and what was published
 * while it restarted, in order, then live events.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, type NodeEvent, type PublishReceipt } from '../../src/index.js';
import { createMemoryDisk } from '../../src/store/memory-disk.js';
import { echoModule } from '../../actors/process-modules.js';
import { sdkFixture } from './fixtures.js';
import { accounting, hash, observer, testLogger } from './helpers.js';

const isEcho = (event: NodeEvent): boolean => event.type === 'HealthCheck' && event.payload.checkType.startsWith('echo:');

describe('a process module with replay', () => {
  it('refuses a bad replay field in its manifest', () => {
    expect(() => echoModule({ replay: { fromSeq: -1 } as never })).toThrow(expect.objectContaining({ code: 'invalid-manifest' }) as Error);
  });

  it('killed mid-stream, gets every event it had not acknowledged once restarted, in order', { timeout: 30_000 }, async () => {
    const node = createNode({ logger: testLogger(), store: { dir: '/store', fs: createMemoryDisk().mount() } });
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded]);
    await node.load(obs.module);
    const echo = echoModule({ subscribe: [EventType.NewBlock], replay: true, credits: 10, mailboxCapacity: 10 });
    await node.load(echo);

    for (let h = 1; h <= 20; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(10)');
    process.kill(echo.status().pid as number, 'SIGKILL');
    for (let h = 21; h <= 40; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('ModuleLoaded(echo)', { count: 2 });
    for (let h = 41; h <= 60; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(60)');

    // Per incarnation (the echo names it), in order; every height at least once; again only what
    // the killed child handled but had not acknowledged (at most its credit window).
    const byIncarnation = new Map<string, number[]>();
    for (const event of obs.events.filter(isEcho)) {
      if (event.type !== 'HealthCheck') continue;
      const height = Number(/\((\d+)\)/.exec(event.payload.healthReport ?? '')?.[1]);
      byIncarnation.set(event.payload.checkType, [...(byIncarnation.get(event.payload.checkType) ?? []), height]);
    }
    expect(byIncarnation.size).toBe(2);
    for (const heights of byIncarnation.values()) expect(heights).toEqual([...heights].sort((a, b) => a - b));
    const echoes = [...byIncarnation.values()].flat();
    expect(new Set(echoes)).toEqual(new Set(Array.from({ length: 60 }, (_, i) => i + 1)));
    expect(echoes.length - 60).toBeLessThanOrEqual(10);
    const stats = await node.events.getDeliveryStats('echo');
    expect(stats).toMatchObject({ channelFull: 0, replayGap: 0 });
    await node.shutdown();
  });

  it('stuck, with events in flight filling its bound: leaves the durable events past it to the log, drops none, and its feed holds to the bound', { timeout: 30_000 }, async () => {
    // The simulated scheduler: actors run when work arrives, time (the log's group commit) moves only when told.
    const scheduler = createSimulatedScheduler();
    const node = createNode({ logger: testLogger(), scheduler, shutdownTimeoutMs: 1000, store: { dir: '/store', fs: createMemoryDisk().mount() } });
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const slow = sdkFixture('slow', 'stuck', { subscribe: [EventType.NewBlock], replay: true, mailboxCapacity: 10, credits: 10, shutdownTimeoutMs: 1000 });
    await node.load(slow);
    node.publisher.newBlock(hash(0), 0);
    await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    // One at a time, each forwarded to the child (which never acknowledges) while its window lasts:
    // past the bound (in flight and queued), the events are left to the log.
    const receipts: PublishReceipt[] = [];
    for (let h = 1; h <= 30; h++) {
      receipts.push(node.publisher.newBlock(hash(h), h));
      await scheduler.runUntilIdle();
    }
    expect(receipts.map((r) => [r.enqueued, r.dropped])).toEqual(receipts.map(() => [1, 0]));
    // The log writes them; its feed reads them back and offers none past the bound.
    await scheduler.advanceBy(100);
    const stats = await node.events.getDeliveryStats('slow');
    if (stats === undefined) throw new Error('no stats');
    expect(stats).toMatchObject({ successful: 11, channelFull: 0, handled: 0 });
    expect(accounting(stats)).toEqual({ offered: 11, pending: 11 });
    const done = node.shutdown();
    let finished = false;
    void done.then(() => (finished = true));
    for (let i = 0; i < 100 && !finished; i++) await scheduler.advanceBy(100);
    await done;
  });
});
