import { describe, expect, it } from 'vitest';
import { EventType, defineModule, isModactorError } from '../../src/index.js';
import { gate, hash, recorder, simNode } from './helpers.js';

describe('subscriptions', () => {
  it('delivers an event once to a module that subscribed twice', async () => {
    const { node, scheduler } = simNode(11);
    const twice = recorder('twice', [EventType.NewBlock, EventType.NewBlock]);
    await node.load(twice.module);
    await node.events.subscribe('twice', [EventType.NewBlock]);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(twice.seen).toEqual(['NewBlock(1)']);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['twice']);
    await node.shutdown();
  });

  it('replays loaded modules when a module subscribes to ModuleLoaded later, once', async () => {
    const { node, scheduler } = simNode(12);
    await node.load(defineModule({ name: 'first', version: '1', subscribe: [], handle() {} }));
    const late = recorder('late', [EventType.NewBlock]);
    await node.load(late.module);
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['ModuleLoaded(first)']);
    await node.shutdown();
  });

  it('stops delivering after unsubscribe', async () => {
    const { node, scheduler } = simNode(13);
    const m = recorder('m', [EventType.NewBlock, EventType.NewTransaction]);
    await node.load(m.module);
    await node.events.unsubscribe('m', [EventType.NewBlock]);
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newTransaction(hash(2));
    await scheduler.runUntilIdle();
    expect(m.seen).toEqual(['NewTransaction']);
    await node.shutdown();
  });
});

describe('validation', () => {
  it('rejects an unknown event type with a typed error and delivers it to no one', async () => {
    const { node, scheduler } = simNode(14);
    const m = recorder('m', [EventType.NewBlock]);
    await node.load(m.module);
    let error: unknown;
    try {
      node.events.publish({ type: 'NoSuchEvent', payload: {} } as never);
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'unknown-event-type')).toBe(true);
    await scheduler.runUntilIdle();
    expect(m.seen).toEqual([]);
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0 });
    await node.shutdown();
  });

  it('rejects a payload that does not match its type, naming the field, and delivers it to no one', async () => {
    const { node, scheduler } = simNode(15);
    const m = recorder('m', [EventType.NewBlock]);
    await node.load(m.module);
    let error: unknown;
    try {
      node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(1), height: -1 } });
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'invalid-payload')).toBe(true);
    expect(isModactorError(error) && error.issues.map((i) => i.path)).toEqual(['payload.height']);
    await scheduler.runUntilIdle();
    expect(m.seen).toEqual([]);
    await node.shutdown();
  });
});

describe('priority lane', () => {
  it('gets NodeShutdown and urgent DataMaintenance to a module whose mailbox is full, ahead of routine events', async () => {
    const { node, scheduler } = simNode(16, { shutdownTimeoutMs: 1000 });
    const stuck = gate();
    const busy = recorder('busy', [EventType.NewBlock, EventType.DataMaintenance, EventType.NodeShutdown], {
      handle: (event) => (event.type === 'NewBlock' && event.payload.height === 0 ? stuck.promise : undefined),
    });
    await node.load(busy.module);
    node.publisher.newBlock(hash(0), 0);
    await scheduler.runUntilIdle();
    for (let h = 1; h <= 120; h++) node.publisher.newBlock(hash(h), h);
    const low = node.publisher.dataMaintenance('flush', 'low', 'periodic');
    const high = node.publisher.dataMaintenance('flush', 'high', 'low_disk');
    expect(low).toMatchObject({ dropped: 1 });
    expect(high).toMatchObject({ enqueued: 1 });
    const shutdown = node.shutdown('test');
    await scheduler.runUntilIdle();
    stuck.open();
    await scheduler.runAll();
    await shutdown;
    expect(busy.seen.slice(0, 3)).toEqual(['NewBlock(0)', 'DataMaintenance', 'NodeShutdown']);
  });
});

describe('crash and restart', () => {
  it('publishes ModuleCrashed then ModuleUnloaded, restarts the module and announces it again', async () => {
    const { node, scheduler } = simNode(17);
    const watcher = recorder('watcher', [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await node.load(watcher.module);
    const crashy = recorder('crashy', [EventType.NewBlock], {
      handle: (event) => {
        if (event.type === 'NewBlock' && event.payload.height === 13) throw new Error('unlucky block');
      },
    });
    await node.load(crashy.module);
    node.publisher.newBlock(hash(12), 12);
    node.publisher.newBlock(hash(13), 13);
    await scheduler.runAll();
    expect(watcher.seen).toEqual([
      'ModuleLoaded(watcher)',
      'ModuleLoaded(crashy)',
      'ModuleCrashed(crashy)',
      'ModuleUnloaded(crashy)',
      'ModuleLoaded(crashy)',
    ]);
    const [info] = (await node.modules()).filter((m) => m.name === 'crashy');
    expect(info).toMatchObject({ state: 'running', restarts: 1 });
    node.publisher.newBlock(hash(14), 14);
    await scheduler.runUntilIdle();
    expect(crashy.seen).toEqual(['NewBlock(12)', 'NewBlock(13)', 'NewBlock(14)']);
    expect(await node.events.getDeliveryStats('crashy')).toMatchObject({
      successful: 3,
      handled: 2,
      handlerFailed: 1,
      incarnations: 2,
    });
    await node.shutdown();
  });

  it('gives a module up once it exceeds its restart intensity: unhealthy, unloaded, not restarted', async () => {
    const { node, scheduler } = simNode(18);
    const watcher = recorder('watcher', [EventType.ModuleHealthChanged, EventType.ModuleCrashed]);
    await node.load(watcher.module);
    const doomed = recorder('doomed', [EventType.NewBlock], {
      restart: { maxRestarts: 2, withinMs: 60_000 },
      handle: () => {
        throw new Error('always');
      },
    });
    await node.load(doomed.module);
    for (let round = 0; round < 3; round++) {
      node.publisher.newBlock(hash(round), round);
      await scheduler.runAll();
    }
    expect(watcher.seen.filter((s) => s.startsWith('ModuleCrashed'))).toHaveLength(3);
    expect(watcher.seen.at(-1)).toBe('ModuleHealthChanged(doomed: degraded->unhealthy)');
    expect((await node.modules()).map((m) => m.name)).toEqual(['watcher']);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual([]);
    await node.shutdown();
  });
});

describe('unload, reload and shutdown', () => {
  it('unloads a module: ModuleUnloaded to the others, its subscriptions gone', async () => {
    const { node, scheduler } = simNode(19);
    const a = recorder('a', [EventType.ModuleLoaded, EventType.ModuleUnloaded]);
    await node.load(a.module);
    await node.load(recorder('b', [EventType.NewBlock]).module);
    await node.unload('b');
    await scheduler.runUntilIdle();
    expect(a.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(b)', 'ModuleUnloaded(b)']);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual([]);
    await expect(node.unload('b')).rejects.toMatchObject({ code: 'unknown-module' });
    await node.shutdown();
  });

  it('reloads a module with a new version and publishes ModuleReloaded', async () => {
    const { node, scheduler } = simNode(20);
    const a = recorder('a', [EventType.ModuleLoaded, EventType.ModuleUnloaded, EventType.ModuleReloaded]);
    await node.load(a.module);
    await node.load(defineModule({ name: 'b', version: '1.0.0', subscribe: [], handle() {} }));
    const info = await node.reload('b', defineModule({ name: 'b', version: '2.0.0', subscribe: [], handle() {} }));
    expect(info.version).toBe('2.0.0');
    await scheduler.runUntilIdle();
    expect(a.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(b)', 'ModuleUnloaded(b)', 'ModuleLoaded(b)', 'ModuleReloaded']);
    await node.shutdown();
  });

  it('refuses to load a module name twice with a typed error', async () => {
    const { node } = simNode(21);
    await node.load(defineModule({ name: 'x', version: '1', subscribe: [], handle() {} }));
    await expect(node.load(defineModule({ name: 'x', version: '1', subscribe: [], handle() {} }))).rejects.toMatchObject({
      code: 'duplicate-module',
    });
    await node.shutdown();
  });

  it('shuts down gracefully: NodeShutdown to all, modules stopped in reverse load order, NodeShutdownCompleted', async () => {
    const { node } = simNode(22);
    const order: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      await node.load(
        defineModule({
          name,
          version: '1',
          subscribe: [EventType.NodeShutdown],
          handle: (event) => {
            order.push(`${name}:${event.type}`);
          },
          stop: () => {
            order.push(`${name}:stop`);
          },
        }),
      );
    }
    await node.shutdown('maintenance');
    expect(order.slice(0, 3).sort()).toEqual(['one:NodeShutdown', 'three:NodeShutdown', 'two:NodeShutdown']);
    expect(order.slice(3)).toEqual(['three:stop', 'two:stop', 'one:stop']);
    expect(node.system.isRunning).toBe(false);
  });
});

describe('operator views', () => {
  it('answers the delivery queries through the event manager, and after shutdown from the final state', async () => {
    const { node, scheduler } = simNode(5);
    const m = recorder('m', [EventType.NewBlock]);
    await node.load(m.module);
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runUntilIdle();
    const stats = await node.events.getDeliveryStats('m');
    expect(stats).toMatchObject({ successful: 2, handled: 2, incarnations: 1 });
    expect(await node.events.getDeliveryStats('nobody')).toBeUndefined();
    expect(await node.events.getAllDeliveryStats()).toEqual(new Map([['m', stats]]));
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['m']);
    expect(await node.events.getLoadedModules()).toEqual(['m']);
    await node.events.resetDeliveryStats('m');
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0, handled: 0 });
    node.publisher.newBlock(hash(3), 3);
    await scheduler.runUntilIdle();
    await node.shutdown();

    // The event manager is gone: the queries read what it left.
    const final = await node.events.getDeliveryStats('m');
    expect(final).toMatchObject({ successful: 1, handled: 1 });
    expect(await node.events.getDeliveryStats('nobody')).toBeUndefined();
    expect(await node.events.getAllDeliveryStats()).toEqual(new Map([['m', final]]));
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual([]);
    expect(await node.events.getLoadedModules()).toEqual([]);
    expect((await node.events.getPublishedCounts()).get('NewBlock')).toBe(3);
    await node.events.resetDeliveryStats('m');
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0, handled: 0 });
    expect(m.seen).toEqual(['NewBlock(1)', 'NewBlock(2)', 'NewBlock(3)']);
  });

  it('counts accepted events by type, subscribed or not, and shows each module queue depth', async () => {
    const { node, scheduler } = simNode(31);
    const held = gate();
    const m = recorder('m', [EventType.NewBlock], { handle: () => held.promise });
    await node.load(m.module);
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newBlock(hash(2), 2);
    node.publisher.newBlock(hash(3), 3);
    node.publisher.newTransaction(hash(4));
    await scheduler.runUntilIdle();
    const counts = await node.events.getPublishedCounts();
    expect(counts.get('NewBlock')).toBe(3);
    expect(counts.get('NewTransaction')).toBe(1);
    // One in hand, two queued.
    expect((await node.modules()).find((info) => info.name === 'm')?.queued).toBe(2);
    held.open();
    await scheduler.runUntilIdle();
    expect((await node.modules()).find((info) => info.name === 'm')?.queued).toBe(0);
    await node.shutdown();
  });
});
