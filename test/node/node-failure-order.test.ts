/**
 * What a node answers when things fail in an unlucky order (src/node/node.ts): a store failing
 * after a node actor already failed the node, a store that throws while it takes the opened store
 * into service, calls in flight when the supervisor fails, a supervisor that fails during the shutdown,
 * and a store that fails while the node shuts down.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, defineModule } from '../../src/index.js';
import { injectNodeFault } from '../../src/node/node.js';
import { memoryLogger } from '../kernel/support.js';
import { createMemoryDisk, diskNode, driveGated } from './support.js';

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code?: string; cause?: unknown },
  );
}

const idle = (name: string) => defineModule({ name, version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} });

describe('a node that already failed', () => {
  it('keeps its first failure when its store then fails to open: every call gets the node actor\'s failure', async () => {
    const disk = createMemoryDisk({ gated: true });
    disk.injectFault({ op: 'mkdir', code: 'EIO', times: Number.POSITIVE_INFINITY });
    disk.injectFault({ op: 'open', code: 'EIO', times: Number.POSITIVE_INFINITY });
    const { node, scheduler } = diskNode(disk);
    // The store waits at the disk's gate; meanwhile the event manager fails.
    injectNodeFault(node, 'events', new Error('a bug in the event manager'));
    await scheduler.runAll();
    const first = node.status().failure;
    expect(first).toMatch(/^The node failed: its actor \/events terminated/);
    // Now the store's opening reaches the disk, and fails.
    const failure = await driveGated(scheduler, disk, rejection(node.start()));
    expect(node.status().store).toMatchObject({ state: 'failed' });
    expect(failure).toMatchObject({ code: 'node-failed', message: expect.stringMatching(/^The node failed: its actor \/events terminated/) as string });
    expect(node.status()).toMatchObject({ state: 'failed', failure: first });
    expect(await rejection(node.events.flush())).toBe(failure);
    await driveGated(scheduler, disk, node.shutdown());
    expect(node.status()).toMatchObject({ state: 'failed', failure: first });
  });
});

describe('a node whose store throws while it takes the opened store into service', () => {
  it('fails as a whole: status, start, load and publish all answer the store failure', async () => {
    // The store opened, then its "open" log line threw (a logger whose stream fails).
    const logger = pino({ level: 'info' }, {
      write(line: string) {
        if ((JSON.parse(line) as { msg?: string }).msg === 'node store open') throw new Error('the log stream broke');
      },
    });
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk, { node: { logger } });
    const failure = await driveGated(scheduler, disk, rejection(node.start()));
    expect(failure).toMatchObject({ code: 'node-failed', message: expect.stringMatching(/the log stream broke; shut it down$/) as string });
    expect(failure.cause).toMatchObject({ code: 'store-failed' });
    expect(node.status()).toMatchObject({ state: 'failed', failure: failure.message, store: { state: 'failed' } });
    expect(await rejection(node.load(idle('m')))).toBe(failure);
    expect(() => node.events.publish({ type: EventType.HealthCheck, payload: {} } as never)).toThrow(failure);
    await driveGated(scheduler, disk, node.shutdown());
  });
});

describe('a call in flight when the node\'s supervisor fails', () => {
  it('an unload answers the node\'s failure, the one every later call gets', async () => {
    const scheduler = createSimulatedScheduler({ seed: 601, autoRun: true });
    const node = createNode({ scheduler });
    await node.load(idle('m'));
    injectNodeFault(node, 'modules', new Error('a bug in the supervisor'));
    // Asked before the supervisor took its fault: the ask fails when the supervisor terminates.
    const failure = await rejection(node.unload('m'));
    expect(failure).toMatchObject({ code: 'node-failed', message: expect.stringMatching(/^The node failed: its actor \/modules terminated/) as string });
    expect(await rejection(node.modules())).toBe(failure);
    expect(await rejection(node.events.subscribe('m', [EventType.HealthCheck]))).toBe(failure);
    await node.shutdown();
  });

  it('a modules() query answers the node\'s failure, the one every later call gets', async () => {
    const scheduler = createSimulatedScheduler({ seed: 602, autoRun: true });
    const node = createNode({ scheduler });
    await node.load(idle('m'));
    injectNodeFault(node, 'modules', new Error('a bug in the supervisor'));
    const failure = await rejection(node.modules());
    expect(failure).toMatchObject({ code: 'node-failed', message: expect.stringMatching(/^The node failed: its actor \/modules terminated/) as string });
    expect(await rejection(node.unload('m'))).toBe(failure);
    await node.shutdown();
  });
});

describe('a shutdown the supervisor does not answer', () => {
  it('is logged as an error with the ask\'s error, then completes: the node stopped, with no list of modules killed', async () => {
    const scheduler = createSimulatedScheduler({ seed: 603, autoRun: true });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger });
    await node.load(idle('m'));
    // The supervisor fails before it takes the shutdown: the shutdown's ask fails.
    injectNodeFault(node, 'modules', new Error('a bug in the supervisor'));
    await node.shutdown();
    const incomplete = lines.filter((line) => line['msg'] === 'graceful shutdown did not complete: stopping what is left');
    expect(incomplete).toHaveLength(1);
    expect(incomplete[0]).toMatchObject({ level: 50, err: { message: expect.stringContaining('/modules') as string } });
    // A shutdown stops a node whose actor ends during it: no failure.
    expect(node.status()).toEqual({ state: 'stopped', started: false });
    expect(Object.hasOwn(node.status(), 'killedAtShutdown')).toBe(false);
  });
});

describe('a store that fails while the node shuts down', () => {
  it('leaves the node failed, and a failed node says nothing of modules killed at the shutdown', async () => {
    const disk = createMemoryDisk({ gated: true });
    disk.injectFault({ op: 'mkdir', code: 'EIO', times: Number.POSITIVE_INFINITY });
    disk.injectFault({ op: 'open', code: 'EIO', times: Number.POSITIVE_INFINITY });
    const { node, scheduler } = diskNode(disk);
    // The store is still opening (at the disk's gate) when the shutdown begins; the supervisor
    // answers it (nothing killed), then the store fails.
    const stopping = node.shutdown();
    await driveGated(scheduler, disk, stopping);
    const status = node.status();
    expect(status).toMatchObject({ state: 'failed', failure: expect.stringMatching(/^The node failed: .*EIO/) as string });
    expect(Object.hasOwn(status, 'killedAtShutdown')).toBe(false);
  });
});
