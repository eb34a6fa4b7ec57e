/**
 * A node's store through its life, on a simulated disk and clock: its status from opening to
 * closed, a store that cannot be opened or closed (typed errors, logs), events the log refuses, and
 * what the saved state keeps for modules across node restarts.
 */
import { describe, expect, it } from 'vitest';
import {
  createNode,
  createSimulatedScheduler,
  defineCatalogue,
  isModactorError,
  nodePayloadChecks,
  object,
  string,
  type Check,
  type EventOf,
  type NodeEventMap,
} from '../../src/index.js';
import type { MemoryDisk } from '../../src/store/memory-disk.js';
import { frame } from '../../src/store/record.js';
import { loadState } from '../../src/store/state-file.js';
import { memoryLogger } from '../kernel/support.js';
import { DIR, block, createMemoryDisk, diskNode, drive, heights, range, rejection, savedModule, settle } from './support.js';

/** Writes a saved state as a node of format version `version` would have left it. */
function writeState(disk: MemoryDisk, state: unknown, version = 1): void {
  disk.write(`${DIR}/state.json`, Buffer.from(frame(JSON.stringify({ format: 'modactor-state', version, state }))));
}

describe("a node's store", () => {
  it('reports opening, then ok with its seqs, then closed; a flush after the shutdown is refused', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    expect(node.status().store).toStrictEqual({ state: 'opening', lastSeq: 0, durableSeq: 0, notDurable: 0 });
    let refused: unknown;
    try {
      node.events.publish(block(1));
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'node-not-ready',
      message: `Expected the node's store (${DIR}) to be open, got it still opening: await node.load(...) or node.start() first`,
    });
    await drive(scheduler, node.start()); // seq 1: NodeStartupCompleted, not durable
    for (let h = 1; h <= 3; h++) node.events.publish(block(h));
    await drive(scheduler, node.events.flush());
    expect(node.status().store).toStrictEqual({ state: 'ok', lastSeq: 4, durableSeq: 4, notDurable: 0 });
    await drive(scheduler, node.shutdown());
    expect(node.status().store).toMatchObject({ state: 'closed', lastSeq: 4, durableSeq: 4 });
    const late = await rejection(scheduler, node.events.flush());
    expect(isModactorError(late, 'store-failed')).toBe(true);
    expect((late as Error).message).toBe("Expected an open node store, got one closed by the node's shutdown");
  });

  it('logs that it opened, under the store module, with where and how far it is', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    await drive(first.scheduler, first.node.load(heights('m').module));
    first.node.events.publish(block(1));
    await drive(first.scheduler, first.node.shutdown());

    const { lastSeq } = (await loadState(disk.mount(), DIR)).loaded;
    expect(lastSeq).toBeGreaterThan(3);

    const { logger, lines } = memoryLogger('info');
    const second = diskNode(disk, { node: { logger } });
    await drive(second.scheduler, second.node.start());
    const open = lines.filter((line) => line.msg === 'node store open');
    expect(open).toEqual([expect.objectContaining({ level: 30, module: 'store', dir: DIR, lastSeq, modules: 1 })]);
    await drive(second.scheduler, second.node.shutdown());
  });

  it('fails the node when the disk refuses to open its saved state: the fs error is the cause, logged with the directory', async () => {
    const disk = createMemoryDisk();
    disk.injectFault({ op: 'open', code: 'EIO', path: `${DIR}/state.json` });
    const { logger, lines } = memoryLogger('info');
    const { node, scheduler } = diskNode(disk, { node: { logger } });
    const error = await rejection(scheduler, node.start());
    expect(isModactorError(error, 'node-failed')).toBe(true);
    const failure = (error as { cause?: unknown }).cause;
    expect(isModactorError(failure, 'store-failed')).toBe(true);
    const cause = (failure as { cause?: unknown }).cause as Error & { code?: string };
    expect(cause).toBeInstanceOf(Error);
    expect(cause.code).toBe('EIO');
    expect((failure as Error).message).toBe(`Expected to open the node's store in ${DIR}, got ${cause.message}`);
    expect(node.status().store).toStrictEqual({
      state: 'failed',
      lastSeq: 0,
      durableSeq: 0,
      notDurable: 0,
      lastError: { code: 'store-failed', message: (failure as Error).message },
    });
    const logged = lines.filter((line) => line.msg === 'the node store could not be opened: the node failed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, module: 'store', dir: DIR, err: { code: 'EIO' } });
    await drive(scheduler, node.shutdown());
  });

  it('fails the node with the store-failed error of the event log as it is', async () => {
    const disk = createMemoryDisk();
    disk.injectFault({ op: 'mkdir', code: 'EIO' });
    const { node, scheduler } = diskNode(disk);
    const error = await rejection(scheduler, node.start());
    const failure = (error as { cause?: unknown }).cause as Error;
    expect(isModactorError(failure, 'store-failed')).toBe(true);
    expect(failure.message).toMatch(/^Expected to open the event log in \/data, got EIO/);
    expect(node.status().store).toMatchObject({ state: 'failed', lastError: { code: 'store-failed', message: failure.message } });
    await drive(scheduler, node.shutdown());
  });

  it('wraps an option the event log refuses at open into store-failed, the refusal as its cause', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk(), { store: { batchMaxEvents: 0 } });
    const error = await rejection(scheduler, node.start());
    const failure = (error as { cause?: unknown }).cause as Error & { cause?: unknown };
    expect(isModactorError(failure, 'store-failed')).toBe(true);
    expect(isModactorError(failure.cause, 'invalid-argument')).toBe(true);
    expect(failure.message).toBe(`Expected to open the node's store in ${DIR}, got ${(failure.cause as Error).message}`);
    await drive(scheduler, node.shutdown());
  });

  it('logs a store that cannot be closed cleanly at shutdown, and the shutdown completes', async () => {
    const disk = createMemoryDisk();
    const { logger, lines } = memoryLogger('info');
    const { node, scheduler } = diskNode(disk, { node: { logger } });
    await drive(scheduler, node.start());
    disk.injectFault({ op: 'write', code: 'EIO', times: Number.POSITIVE_INFINITY });
    node.events.publish(block(1));
    await drive(scheduler, node.shutdown());
    const logged = lines.filter((line) => line.msg === 'the node store could not be closed cleanly: the last events or the saved state may not be durable');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, module: 'store', err: { code: 'store-failed' } });
    expect(node.status()).toMatchObject({ state: 'stopped', store: { state: 'closed' } });
  });

  it('fails the node with the store-failed error itself when the saved state is of another format version', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    await drive(first.scheduler, first.node.start());
    await drive(first.scheduler, first.node.shutdown());
    writeState(disk, { lastSeq: 0, modules: {} }, 2);
    const { node, scheduler } = diskNode(disk);
    const error = await rejection(scheduler, node.start());
    expect(isModactorError(error, 'node-failed')).toBe(true);
    expect(node.status().store).toStrictEqual({
      state: 'failed',
      lastSeq: 0,
      durableSeq: 0,
      notDurable: 0,
      lastError: { code: 'store-failed', message: 'Expected state format version 1, got number 2' },
    });
    await drive(scheduler, node.shutdown());
  });

  it('counts an event the log refuses not durable, logs it once, and rejects the next flush only', async () => {
    type LooseMap = NodeEventMap & { Telemetry: { readonly source: string; readonly data: unknown } };
    const anything: Check<unknown> = (value) => value;
    const catalogue = defineCatalogue<LooseMap>({ ...nodePayloadChecks, Telemetry: object({ source: string, data: anything }) });
    const telemetry = (data: unknown): EventOf<LooseMap> => ({ type: 'Telemetry', payload: { source: 's', data } });
    const disk = createMemoryDisk();
    const { logger, lines } = memoryLogger('info');
    const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false });
    const node = createNode<LooseMap>({ scheduler, logger, catalogue, store: { dir: DIR, fs: disk.mount() } });
    await drive(scheduler, node.start());
    node.events.publish(telemetry(1n)); // JSON cannot hold a bigint
    node.events.publish(telemetry(2n));
    node.events.publish(telemetry('fine'));
    expect(node.status().store).toMatchObject({ state: 'ok', notDurable: 2 });
    const failed = await rejection(scheduler, node.events.flush());
    expect(isModactorError(failed, 'store-failed')).toBe(true);
    expect((failed as Error).message).toBe('Expected every durable event published since the previous flush to be durable, got 2 the log refused');
    await drive(scheduler, node.events.flush()); // nothing refused since
    const logged = lines.filter((line) => line.msg === 'an event could not be appended to the log: counted not durable');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, module: 'store', type: 'Telemetry', err: { type: 'ModactorError', code: 'invalid-argument' } });
    node.events.publish(telemetry(3n));
    expect(((await rejection(scheduler, node.events.flush())) as Error).message).toContain('got 1 the log refused');
    expect(lines.filter((line) => line.msg === logged[0]?.msg)).toHaveLength(1);
    await drive(scheduler, node.shutdown());
  });

  it('reports the saved state’s failure when only the state file cannot be written', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.load(heights('m').module));
    disk.injectFault({ op: 'rename', code: 'EIO', times: Number.POSITIVE_INFINITY });
    node.events.publish(block(1));
    const failed = await rejection(scheduler, node.events.flush());
    expect(isModactorError(failed, 'store-failed')).toBe(true);
    const status = node.status().store;
    expect(status).toMatchObject({ state: 'degraded', notDurable: 0, lastError: { code: 'EIO' } });
    disk.clearFaults();
    await drive(scheduler, node.shutdown());
  });
});

describe('the saved state of a node', () => {
  it('keeps what it saved for modules not loaded in a run: a replay position survives a run without its module', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    const a = heights('m', { replay: true });
    await drive(first.scheduler, first.node.load(a.module));
    for (let h = 1; h <= 3; h++) first.node.events.publish(block(h));
    await settle(first.scheduler);
    await drive(first.scheduler, first.node.shutdown());

    const second = diskNode(disk);
    await drive(second.scheduler, second.node.start());
    for (let h = 4; h <= 6; h++) second.node.events.publish(block(h));
    await drive(second.scheduler, second.node.shutdown());

    const third = diskNode(disk);
    const b = heights('m', { replay: true });
    await drive(third.scheduler, third.node.load(b.module));
    await settle(third.scheduler);
    expect([a.seen, b.seen]).toEqual([range(1, 3), range(4, 6)]);
    await drive(third.scheduler, third.node.shutdown());
  });

  it('restores statistics saved without every counter as zeros, and restart counts saved without statistics', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    await drive(first.scheduler, first.node.start());
    await drive(first.scheduler, first.node.shutdown());
    writeState(disk, { lastSeq: 10, modules: { m: { stats: { successful: 2, handled: 2 } }, n: { restarts: 4 } } });

    const { node, scheduler } = diskNode(disk);
    const n = heights('n');
    await drive(scheduler, node.load(heights('m').module));
    await drive(scheduler, node.load(n.module));
    const stats = await drive(scheduler, node.events.getDeliveryStats('m'));
    expect(stats).toMatchObject({ successful: 2, handled: 2, handlerFailed: 0, lostOnCrash: 0, channelFull: 0, replayGap: 0 });
    for (const value of Object.values(stats ?? {})) expect(Number.isInteger(value)).toBe(true);
    const modules = await drive(scheduler, node.modules());
    expect(modules.map((info) => [info.name, info.restarts])).toEqual([
      ['m', 0],
      ['n', 4],
    ]);
    await drive(scheduler, node.shutdown());
  });

  it('counts what a module held when the last run crashed as lost, once', async () => {
    const disk = createMemoryDisk();
    const first = diskNode(disk);
    const m = heights('m', { handle: () => new Promise<void>(() => undefined) }); // never finishes the first
    await drive(first.scheduler, first.node.load(m.module));
    for (let h = 1; h <= 3; h++) first.node.events.publish(block(h));
    await drive(first.scheduler, first.node.events.flush()); // saved: 3 offered, none settled
    disk.crash();

    const second = diskNode(disk);
    await drive(second.scheduler, second.node.load(heights('m').module));
    expect(await drive(second.scheduler, second.node.events.getDeliveryStats('m'))).toMatchObject({ successful: 3, handled: 0, lostOnCrash: 3 });
    await drive(second.scheduler, second.node.shutdown());
    const third = diskNode(disk);
    await drive(third.scheduler, third.node.load(heights('m').module));
    expect(await drive(third.scheduler, third.node.events.getDeliveryStats('m'))).toMatchObject({ successful: 3, handled: 0, lostOnCrash: 3 });
    await drive(third.scheduler, third.node.shutdown());
  });

  it('adds the health changes of a new run to those of the last runs, keeping the last 32', async () => {
    const disk = createMemoryDisk();
    const saved = [];
    for (const [run, crashes] of [3, 15].entries()) {
      const { node, scheduler } = diskNode(disk, { seed: run + 1, node: { healthIntervalMs: 10 } });
      let left = crashes;
      const m = heights('m', {
        restart: { maxRestarts: 100, withinMs: 1000, backoff: { minMs: 100, maxMs: 100, jitter: 0 } },
        handle: () => {
          if (left-- > 0) throw new Error('crash');
        },
      });
      await drive(scheduler, node.load(m.module));
      for (let h = 1; h <= crashes + 1; h++) {
        node.events.publish(block(h));
        await settle(scheduler);
      }
      await drive(scheduler, node.shutdown());
      saved.push((await savedModule(disk, 'm'))?.health ?? []);
    }
    const [first = [], second = []] = saved;
    // Each crash is one degraded and one healthy again: 6 changes, then 30 more, the last 32 kept
    // (the last two of the first run among them).
    expect(first.map((h) => h.health)).toEqual(Array.from({ length: 3 }, () => ['degraded', 'healthy']).flat());
    expect(second).toHaveLength(32);
    expect(second.map((h) => h.health)).toEqual(Array.from({ length: 16 }, () => ['degraded', 'healthy']).flat());
    expect(second.slice(0, 2)).toEqual(first.slice(-2));
  });
});
