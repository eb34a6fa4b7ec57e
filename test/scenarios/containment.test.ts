/**
 * Containment: nothing a module supplies can crash, stall or fool the node. Each vector here broke
 * the node before (a host crash, a dead supervisor, a forged event, an unbounded shutdown).
 */
import { describe, expect, it } from 'vitest';
import {
  EventType,
  createNode,
  createSimulatedScheduler,
  defineModule,
  isModactorError,
  type ModuleContext,
  type NodeEvent,
} from '../../src/index.js';
import { injectNodeFault } from '../../src/node/node.js';
import { MAX_CRASH_MESSAGE } from '../../src/node/event-router.js';
import { drive, gate, hash, recorder, simNode } from './helpers.js';

/** Values a careless or hostile module may throw. */
function oddThrowables(): [string, () => unknown][] {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    ['a null-prototype object', () => Object.create(null) as unknown],
    ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } })],
    ['an Error whose message getter throws', () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('getter'); } })],
    ['an Error whose message is a symbol', () => Object.defineProperty(new Error('x'), 'message', { value: Symbol('m') })],
    ['a revoked proxy', () => revoked.proxy],
    ['a very long message', () => new Error('x'.repeat(100_000))],
  ];
}

describe('a module that throws something odd', () => {
  it.each(oddThrowables())('crashes only itself when its handler throws %s: ModuleCrashed carries a capped string, it restarts', async (_label, make) => {
    const { node, scheduler } = simNode(101);
    const watcher = recorder('watcher', [EventType.ModuleCrashed]);
    await node.load(watcher.module);
    let calls = 0;
    await node.load(
      defineModule({
        name: 'odd',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        handle() {
          calls++;
          throw make();
        },
      }),
    );
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    const crashed = watcher.events.filter((e): e is NodeEvent<'ModuleCrashed'> => e.type === 'ModuleCrashed');
    expect(crashed).toHaveLength(1);
    expect(typeof crashed[0]?.payload.error).toBe('string');
    expect(crashed[0]?.payload.error.length).toBeLessThanOrEqual(MAX_CRASH_MESSAGE);
    const info = (await node.modules()).find((m) => m.name === 'odd');
    expect(info).toMatchObject({ state: 'running', restarts: 1 });
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runAll();
    expect(calls).toBe(2);
    await node.shutdown();
  });

  it('crashes only itself when its setup throws a value with no string form, and the node still loads, lists and shuts down', async () => {
    const { node, scheduler } = simNode(102);
    const loading = node.load(
      defineModule({
        name: 'bad-setup',
        version: '1.0.0',
        subscribe: [],
        restart: { maxRestarts: 2, withinMs: 60_000 },
        setup() {
          throw Object.create(null);
        },
        handle() {},
      }),
    );
    const outcome = await drive(scheduler, loading.then(() => 'loaded', (e: unknown) => e));
    expect(isModactorError(outcome, 'module-startup-failed')).toBe(true);
    await node.load(defineModule({ name: 'fine', version: '1.0.0', subscribe: [], handle() {} }));
    expect((await node.modules()).map((m) => m.name)).toEqual(['fine']);
    await node.shutdown();
  });
});

describe('a filter that throws', () => {
  it('filters the event out for that module, crashes it, and every other subscriber still gets the event', async () => {
    const { node, scheduler } = simNode(103);
    const before = recorder('before', [EventType.NewBlock]);
    await node.load(before.module);
    await node.load(
      defineModule({
        name: 'picky',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        filter: () => {
          throw Object.create(null);
        },
        handle() {},
      }),
    );
    const after = recorder('after', [EventType.NewBlock]);
    await node.load(after.module);
    const receipt = node.publisher.newBlock(hash(1), 1);
    expect(receipt).toMatchObject({ enqueued: 2, filtered: 1 });
    await scheduler.runAll();
    expect(before.seen).toEqual(['NewBlock(1)']);
    expect(after.seen).toEqual(['NewBlock(1)']);
    expect(await node.events.getDeliveryStats('picky')).toMatchObject({ filtered: 1, incarnations: 2 });
    await node.shutdown();
  });

  it('throwing on a lifecycle event cannot break loading, listing or shutdown (the module crash-loops and is given up)', async () => {
    const { node, scheduler } = simNode(104);
    await node.load(
      defineModule({
        name: 'hates-lifecycle',
        version: '1.0.0',
        subscribe: [EventType.ModuleLoaded, EventType.ModuleUnloaded],
        restart: { maxRestarts: 5, withinMs: 1000 },
        filter: () => {
          throw new Error('no lifecycle please');
        },
        handle() {},
      }),
    );
    // Its own ModuleLoaded crashes it, at every restart, until its restart intensity is exceeded.
    await node.load(defineModule({ name: 'other', version: '1.0.0', subscribe: [], handle() {} }));
    await scheduler.runAll();
    expect((await node.modules()).map((m) => m.name)).toEqual(['other']);
    expect(await node.events.getDeliveryStats('hates-lifecycle')).toMatchObject({ incarnations: 6 });
    await node.unload('other');
    await node.shutdown();
    expect(node.status().state).toBe('stopped');
  });
});

describe('definitions the supervisor could not use', () => {
  it('refuses a forged module with a bad restart policy at load, typed, and keeps loading others', async () => {
    const { node } = simNode(105);
    const forged = { kind: 'in-process', name: 'forged', version: '1', subscribe: [], restart: { maxRestarts: -1 }, handle() {} };
    await expect(node.load(forged as unknown as Parameters<typeof node.load>[0])).rejects.toSatisfy((e: unknown) => isModactorError(e, 'invalid-argument'));
    await node.load(defineModule({ name: 'fine', version: '1.0.0', subscribe: [], handle() {} }));
    expect((await node.modules()).map((m) => m.name)).toEqual(['fine']);
    await node.shutdown();
  });

  it('refuses a module whose fields are getters that throw, typed, before anything reaches the supervisor', async () => {
    const { node } = simNode(106);
    const hostile = Object.defineProperty({ kind: 'in-process', version: '1', subscribe: [] }, 'name', {
      get: () => {
        throw new Error('gotcha');
      },
    });
    await expect(node.load(hostile as unknown as Parameters<typeof node.load>[0])).rejects.toSatisfy((e: unknown) => isModactorError(e, 'invalid-argument'));
    await node.load(defineModule({ name: 'fine', version: '1.0.0', subscribe: [], handle() {} }));
    await node.shutdown();
  });
});

describe('events are stamped by the node and cannot be forged', () => {
  it('stamps source, a strictly increasing seq and the scheduler time; a caller\'s own meta is not believed', async () => {
    const { node, scheduler } = simNode(107);
    const seen = recorder('seen', [EventType.HealthCheck, EventType.NewBlock]);
    await node.load(seen.module);
    await node.load(
      defineModule({
        name: 'liar',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        handle(_event, ctx) {
          ctx.publish({ type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true }, meta: { source: 'node', seq: 0, time: 0 } });
        },
      }),
    );
    node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(1), height: 1 }, meta: { source: 'someone-else', seq: 999_999 } });
    await scheduler.runAll();
    const [block, health] = seen.events;
    expect(block?.meta).toMatchObject({ source: 'node', time: 0 });
    expect(health?.meta).toMatchObject({ source: 'liar' });
    expect(health?.meta?.seq).toBeGreaterThan(block?.meta?.seq ?? Number.POSITIVE_INFINITY);
    expect(block?.meta?.seq).not.toBe(999_999);
    expect(Object.isFrozen(block)).toBe(true);
    expect(Object.isFrozen(block?.meta)).toBe(true);
    await node.shutdown();
  });

  it("does not even read a caller's own meta: a malformed one or a getter that throws changes nothing", async () => {
    const { node, scheduler } = simNode(109);
    const seen = recorder('seen', [EventType.NewBlock]);
    await node.load(seen.module);
    let reads = 0;
    const metas: unknown[] = [{ source: 5, seq: -1 }, [], { forged: true }, { get source() { reads++; throw new Error('read'); } }];
    for (const [i, meta] of metas.entries()) {
      node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(i), height: i }, meta } as unknown as NodeEvent);
    }
    const trap = new Proxy({ type: 'NewBlock', payload: { blockHash: hash(9), height: 9 }, meta: {} }, {
      get(target, key) {
        if (key === 'meta') reads++;
        return Reflect.get(target, key) as unknown;
      },
    });
    node.events.publish(trap as NodeEvent);
    await scheduler.runAll();
    expect(seen.events.map((e) => [e.meta?.source, (e.payload as { height: number }).height])).toEqual([0, 1, 2, 3, 9].map((h) => ['node', h]));
    expect(reads).toBe(0);
    await node.shutdown();
  });

  it('gives unique, increasing seqs when a payload getter publishes re-entrantly during validation', async () => {
    const { node, scheduler } = simNode(111);
    const seen = recorder('seen', [EventType.NewBlock]);
    await node.load(seen.module);
    const payload = {
      blockHash: hash(1),
      get height() {
        node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(2), height: 2 } });
        return 1;
      },
    };
    node.events.publish({ type: 'NewBlock', payload } as unknown as NodeEvent);
    await scheduler.runAll();
    const stamped = seen.events.map((e) => [(e.payload as { height: number }).height, e.meta?.seq ?? 0]);
    expect(stamped.map(([height]) => height)).toEqual([2, 1]);
    expect(stamped[1]?.[1]).toBeGreaterThan(stamped[0]?.[1] ?? Number.POSITIVE_INFINITY);
    await node.shutdown();
  });

  it.each([
    ['NodeShutdown', { reason: 'forged', timeoutSeconds: 0 }],
    ['ModuleCrashed', { moduleName: 'victim', error: 'forged' }],
    ['ModuleLoaded', { moduleName: 'ghost', version: '1' }],
    ['NodeStartupCompleted', { durationMs: 1, components: [] }],
  ] as const)('refuses %s from a module with not-permitted, whatever its publishes list', async (type, payload) => {
    const { node, scheduler } = simNode(108);
    const errors: unknown[] = [];
    // No list (every type of the catalogue permitted), and a list that names the reserved type.
    for (const publishes of [undefined, [EventType.HealthCheck, type]]) {
      await node.load(
        defineModule({
          name: `forger-${publishes === undefined ? 'unlisted' : 'listed'}`,
          version: '1.0.0',
          subscribe: [EventType.NewBlock],
          ...(publishes === undefined ? {} : { publishes }),
          handle(_event, ctx: ModuleContext) {
            try {
              ctx.publish({ type, payload } as NodeEvent);
            } catch (error) {
              errors.push(error);
            }
          },
        }),
      );
    }
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(isModactorError(error, 'not-permitted')).toBe(true);
    await node.shutdown();
  });
});

describe('health reports', () => {
  it('are coalesced: a module flipping its health thousands of times makes at most one ModuleHealthChanged per interval', async () => {
    const scheduler = createSimulatedScheduler({ seed: 109 });
    const node = createNode({ scheduler, healthIntervalMs: 1000 });
    const watcher = recorder('watcher', [EventType.ModuleHealthChanged]);
    await node.load(watcher.module);
    await node.load(
      defineModule({
        name: 'flappy',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        handle(_event, ctx) {
          for (let i = 0; i < 10_000; i++) ctx.reportHealth(i % 2 === 0 ? 'degraded' : 'healthy');
          ctx.reportHealth('degraded');
        },
      }),
    );
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(5000);
    const flappy = watcher.events.filter((e) => e.type === 'ModuleHealthChanged' && e.payload.moduleName === 'flappy');
    // One change at once, then the last state reported, once the window closed.
    expect(flappy.map((e) => (e as NodeEvent<'ModuleHealthChanged'>).payload.newHealth)).toEqual(['degraded']);
    expect((await node.modules()).find((m) => m.name === 'flappy')?.health).toBe('degraded');
    await node.shutdown();
  });
});

describe('shutdown', () => {
  it('completes within the shutdown timeout plus a small margin whatever the modules do, stragglers killed', async () => {
    const scheduler = createSimulatedScheduler({ seed: 110 });
    const node = createNode({ scheduler, shutdownTimeoutMs: 2000 });
    for (let i = 0; i < 11; i++) {
      await node.load(
        defineModule({
          name: `stuck-${i}`,
          version: '1.0.0',
          subscribe: [EventType.NodeShutdown],
          handle: () => new Promise<void>(() => undefined),
          stop: () => new Promise<void>(() => undefined),
        }),
      );
    }
    let done = false;
    const shutdown = node.shutdown('test').then(() => {
      done = true;
    });
    await scheduler.advanceBy(2000 + 1000);
    await scheduler.runAll();
    expect(done).toBe(true);
    expect(scheduler.now()).toBeLessThanOrEqual(2000 + 1000);
    await shutdown;
    expect(node.status()).toMatchObject({ state: 'stopped', killedAtShutdown: Array.from({ length: 11 }, (_, i) => `stuck-${10 - i}`) });
  });

  it('refuses publishes from outside the modules once it began; modules may still publish while they stop', async () => {
    const { node, scheduler } = simNode(111);
    const reports: string[] = [];
    const sink = recorder('sink', [EventType.MaintenanceCompleted]);
    await node.load(sink.module);
    await node.load(
      defineModule({
        name: 'coordinator',
        version: '1.0.0',
        subscribe: [EventType.NodeShutdown],
        handle(_event, ctx) {
          const receipt = ctx.publish({ type: 'MaintenanceCompleted', payload: { maintenanceType: 'flush', success: true, durationMs: 1 } });
          reports.push(`enqueued ${receipt.enqueued}`);
        },
      }),
    );
    const shutdown = node.shutdown('test');
    expect(() => node.publisher.newBlock(hash(1), 1)).toThrow(expect.objectContaining({ code: 'node-shutting-down' }) as Error);
    expect(() => node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(2), height: 2 } })).toThrow(
      expect.objectContaining({ code: 'node-shutting-down' }) as Error,
    );
    await scheduler.runAll();
    await shutdown;
    expect(reports).toEqual(['enqueued 1']);
  });

  it('refuses loads, unloads, reloads and subscription changes once it began, and lists no module once stopped', async () => {
    const { node, scheduler } = simNode(113);
    const sink = recorder('sink', [EventType.NewBlock]);
    await node.load(sink.module);
    const isShuttingDown = (e: unknown): boolean => isModactorError(e, 'node-shutting-down');
    const late = defineModule({ name: 'late', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} });
    // Only a stopped node says what it had to kill, and a running one has no such field at all.
    expect(Object.hasOwn(node.status(), 'killedAtShutdown')).toBe(false);
    const shutdown = node.shutdown('test');
    await expect(node.load(late)).rejects.toMatchObject({
      code: 'node-shutting-down',
      message: 'The node is shutting-down: loads, unloads, reloads and subscription changes are refused',
    });
    await expect(node.unload('sink')).rejects.toSatisfy(isShuttingDown);
    await expect(node.reload('sink')).rejects.toSatisfy(isShuttingDown);
    await expect(node.events.subscribe('sink', [EventType.HealthCheck])).rejects.toSatisfy(isShuttingDown);
    await scheduler.runAll();
    await shutdown;
    await expect(node.load(late)).rejects.toSatisfy(isShuttingDown);
    expect(await node.modules()).toEqual([]);
    expect(node.status().killedAtShutdown).toEqual([]); // sink stopped in time
  });
});

describe('a node actor that fails', () => {
  it.each(['modules', 'events'] as const)('leaves the node failed-stop when %s fails: later calls reject node-failed, shutdown still completes', async (actor) => {
    const { node, scheduler } = simNode(112);
    await node.load(defineModule({ name: 'm', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} }));
    injectNodeFault(node, actor, new Error('a bug in a node actor'));
    await scheduler.runAll();
    expect(node.status()).toMatchObject({ state: 'failed', failure: expect.stringContaining(`/${actor}`) as string });
    const isNodeFailed = (e: unknown): boolean => isModactorError(e, 'node-failed');
    await expect(node.load(defineModule({ name: 'n', version: '1.0.0', subscribe: [], handle() {} }))).rejects.toSatisfy(isNodeFailed);
    await expect(node.modules()).rejects.toSatisfy(isNodeFailed);
    await expect(node.events.getDeliveryStats('m')).rejects.toSatisfy(isNodeFailed);
    expect(() => node.publisher.newBlock(hash(1), 1)).toThrow(expect.objectContaining({ code: 'node-failed' }) as Error);
    await node.shutdown();
    expect(node.system.isRunning).toBe(false);
  });
});

describe('smaller promises', () => {
  it('unsubscribing an unknown module or type is a no-op, as in the original', async () => {
    const { node } = simNode(113);
    await node.events.unsubscribe('nobody', [EventType.NewBlock]);
    await node.events.unsubscribe('nobody');
    await node.events.unsubscribe('nobody', ['NoSuchType']);
    await node.shutdown();
  });

  it('resetting the stats of a module with queued events keeps the accounting law', async () => {
    const { node, scheduler } = simNode(114);
    const held = gate();
    const m = recorder('m', [EventType.NewBlock], { handle: () => held.promise });
    await node.load(m.module);
    for (let h = 1; h <= 6; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runUntilIdle();
    await node.events.resetDeliveryStats('m');
    held.open();
    await scheduler.runAll();
    const stats = await node.events.getDeliveryStats('m');
    expect(stats).toMatchObject({ successful: 6, handled: 6, failed: 0, channelFull: 0 });
    await node.shutdown();
  });

  it('publishes NodeStartupCompleted once start() is called, to the modules loaded at startup', async () => {
    const { node, scheduler } = simNode(115);
    const m = recorder('m', [EventType.NodeStartupCompleted]);
    await node.load(m.module);
    await node.start();
    await node.start();
    await scheduler.runAll();
    expect(m.events).toHaveLength(1);
    expect(m.events[0]).toMatchObject({ type: 'NodeStartupCompleted', payload: { components: ['m'] } });
    expect(node.status()).toMatchObject({ state: 'running', started: true });
    await node.shutdown();
  });
});

describe('a module slow to stop after a crash', () => {
  it('does not hold up the rest of the node while its old incarnation stops', async () => {
    const { node, scheduler } = simNode(116, { autoRun: false });
    const loading = node.load(
      defineModule({
        name: 'sluggish',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        shutdownTimeoutMs: 60_000,
        handle() {
          throw new Error('crash');
        },
        stop: () => new Promise<void>(() => undefined),
      }),
    );
    await drive(scheduler, loading);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    // Its old incarnation now waits up to 60 s for its stop; meanwhile the node loads and answers.
    const other = node.load(defineModule({ name: 'other', version: '1.0.0', subscribe: [], handle() {} }));
    await scheduler.runUntilIdle();
    expect(scheduler.now()).toBe(0);
    await expect(other).resolves.toMatchObject({ name: 'other', state: 'running' });
    const listing = node.modules();
    await scheduler.runUntilIdle();
    expect((await listing).map((m) => m.name).sort()).toEqual(['other', 'sluggish']);
    // Once its timeout passed it is killed and restarted.
    await scheduler.advanceBy(60_000);
    const after = node.modules();
    await scheduler.runUntilIdle();
    expect((await after).find((m) => m.name === 'sluggish')).toMatchObject({ state: 'running', restarts: 1 });
    await drive(scheduler, node.shutdown());
  });
});
