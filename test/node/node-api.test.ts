/**
 * The node's own API (src/node/node.ts): what its options change, what it refuses and how (code,
 * message, cause), what a failed node answers, and what the queries read once it stopped.
 */
import { describe, expect, it } from 'vitest';
import {
  EventType,
  createNode,
  createSimulatedScheduler,
  defineCatalogue,
  defineModule,
  isModactorError,
  nodePayloadChecks,
  pendingCount,
  type DeliveryStats,
  type ModactorNode,
} from '../../src/index.js';
import { busPort } from '../../src/node/bus-port.js';
import { injectNodeFault, nodeInternals } from '../../src/node/node.js';
import { memoryLogger } from '../kernel/support.js';
import { drive, gate, hash, recorder, simNode } from '../scenarios/helpers.js';

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code?: string; cause?: unknown },
  );
}

/** The error `call` throws. */
function thrown(call: () => unknown): Error & { code?: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

const idle = (name: string) => defineModule({ name, version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} });

describe('createNode options', () => {
  it('logs through the logger it is given, and gives modules without their own capacity the default mailbox capacity', async () => {
    const scheduler = createSimulatedScheduler({ seed: 501, autoRun: true });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger, defaultMailboxCapacity: 2 });
    const held = gate();
    const m = recorder('m', [EventType.NewBlock], { handle: () => held.promise });
    await node.load(m.module);
    expect(lines).toContainEqual(expect.objectContaining({ module: 'm', msg: 'module loaded' }));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle(); // in hand
    const receipts = [2, 3, 4].map((h) => node.publisher.newBlock(hash(h), h));
    expect(receipts.map((r) => r.dropped)).toEqual([0, 0, 1]);
    held.open();
    await node.shutdown();
  });

  it('refuses a default mailbox capacity that is not a positive integer', () => {
    for (const defaultMailboxCapacity of [0, 1.5]) {
      expect(thrown(() => createNode({ defaultMailboxCapacity, scheduler: createSimulatedScheduler({ autoRun: true }) }))).toMatchObject({ code: 'invalid-capacity' });
    }
  });

  it('refuses a catalogue without the lifecycle family, naming the type missing', () => {
    const { ModuleCrashed: _left, ...rest } = nodePayloadChecks;
    const error = thrown(() => createNode({ catalogue: defineCatalogue(rest), scheduler: createSimulatedScheduler({ autoRun: true }) }));
    expect(error).toMatchObject({ code: 'invalid-argument' });
    expect(error.message).toContain('missing "ModuleCrashed"');
  });

  it('start() publishes NodeStartupCompleted with the time since the node was created and the modules loaded', async () => {
    const scheduler = createSimulatedScheduler({ seed: 502, autoRun: true });
    await scheduler.advanceBy(1000);
    const node = createNode({ scheduler });
    const watcher = recorder('watcher', [EventType.NodeStartupCompleted]);
    await node.load(watcher.module);
    await scheduler.advanceBy(250);
    await node.start();
    await scheduler.runUntilIdle();
    expect(watcher.events.map((e) => e.payload)).toEqual([{ durationMs: 250, components: ['watcher'] }]);
    await node.shutdown();
  });

  it('shutdown() without a reason tells the modules "requested"', async () => {
    const { node, scheduler } = simNode(503);
    const watcher = recorder('watcher', [EventType.NodeShutdown]);
    await node.load(watcher.module);
    await drive(scheduler, node.shutdown());
    expect(watcher.events.map((e) => (e.payload as { reason: string }).reason)).toEqual(['requested']);
  });

  it('waits for a module whose setup takes longer than an ask would (no timeout on load)', async () => {
    const { node, scheduler } = simNode(504, { autoRun: false });
    const slow = defineModule({
      name: 'slow',
      version: '1.0.0',
      subscribe: [],
      async setup(ctx) {
        await ctx.delay(60_000);
      },
      handle() {},
    });
    const info = await drive(scheduler, node.load(slow));
    expect(info).toMatchObject({ name: 'slow', state: 'running' });
    expect(scheduler.now()).toBeGreaterThanOrEqual(60_000);
    await drive(scheduler, node.shutdown());
  });
});

describe('refusals', () => {
  it('refuses a publish outside the module\'s publishes list, naming what it may publish', async () => {
    const { node, scheduler } = simNode(505);
    const errors: (Error & { code?: string })[] = [];
    const publisher = (name: string, publishes: readonly (keyof typeof EventType)[]) =>
      recorder(name, [EventType.NewBlock], {
        publishes,
        handle(_event, ctx) {
          errors.push(thrown(() => ctx.publish({ type: 'NewTransaction', payload: { txHash: hash(9) } })));
        },
      }).module;
    await node.load(publisher('some', [EventType.WebhookSent, EventType.PeerBanned]));
    await node.load(publisher('none', []));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(errors.map((e) => e.code)).toEqual(['not-permitted', 'not-permitted']);
    expect(errors.map((e) => e.message).sort()).toEqual([
      'Module "none" may not publish NewTransaction (permitted: none)',
      'Module "some" may not publish NewTransaction (permitted: WebhookSent, PeerBanned)',
    ]);
    await node.shutdown();
  });

  it('refuses a reserved type from a module, naming the module and the type', async () => {
    const { node, scheduler } = simNode(506);
    const errors: Error[] = [];
    await node.load(
      recorder('m', [EventType.NewBlock], {
        handle(_event, ctx) {
          errors.push(thrown(() => ctx.publish({ type: 'ModuleLoaded', payload: { moduleName: 'x', version: '1' } })));
        },
      }).module,
    );
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(errors[0]).toMatchObject({ code: 'not-permitted', message: 'Module "m" may not publish ModuleLoaded: only the node publishes it' });
    await node.shutdown();
  });

  it('refuses subscribing to an unknown type, and ignores unknown types when unsubscribing', async () => {
    const { node } = simNode(507);
    await node.load(idle('m'));
    const error = await rejection(node.events.subscribe('m', ['NoSuchType']));
    expect(error).toMatchObject({ code: 'unknown-event-type', message: 'Expected a known event type, got "NoSuchType"' });
    await node.events.unsubscribe('m', ['NoSuchType', EventType.NewBlock]);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual([]);
    await node.shutdown();
  });

  it('adds to what a module has, for a later subscription of a frozen list as for any other', async () => {
    const { node, scheduler } = simNode(510);
    const m = recorder('m', [EventType.NewBlock]);
    await node.load(m.module);
    await node.events.subscribe('m', Object.freeze([EventType.NewTransaction]));
    await node.events.subscribe('m', [EventType.NewTransaction, EventType.NewBlock]); // nothing new
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newTransaction(hash(2));
    await scheduler.runAll();
    expect(m.seen).toEqual(['NewBlock(1)', 'NewTransaction']);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['m']);
    expect(await node.events.getSubscribers(EventType.NewTransaction)).toEqual(['m']);
    await node.shutdown();
  });

  it('keeps an unsubscription for the module\'s next incarnations', async () => {
    const { node, scheduler } = simNode(508);
    const m = recorder('m', [EventType.NewBlock], {
      handle: (event) => {
        if (event.type === 'NewBlock' && event.payload.height === 1) throw new Error('crash once');
      },
    });
    await node.load(m.module);
    await node.events.subscribe('m', [EventType.NewTransaction]);
    await node.events.unsubscribe('m', [EventType.NewTransaction]);
    node.publisher.newBlock(hash(1), 1); // crashes it: restarted
    await scheduler.runAll();
    expect((await node.modules())[0]).toMatchObject({ name: 'm', restarts: 1, state: 'running' });
    node.publisher.newTransaction(hash(2));
    node.publisher.newBlock(hash(3), 3);
    await scheduler.runAll();
    expect(m.seen).toEqual(['NewBlock(1)', 'NewBlock(3)']);
    // The crashed incarnation left every subscription: nothing was offered to it after.
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 2, failed: 0, handled: 1, handlerFailed: 1 });
    await node.shutdown();
  });

  it('refuses a module with replay on a node without a store, at load and at reload, naming it', async () => {
    const { node } = simNode(509);
    await node.load(idle('m'));
    const withReplay = defineModule({ name: 'm', version: '2.0.0', subscribe: [EventType.NewBlock], replay: true, handle() {} });
    const atLoad = await rejection(node.load(defineModule({ ...withReplay, name: 'r' })));
    expect(atLoad).toMatchObject({ code: 'invalid-argument' });
    expect(atLoad.message).toContain('module "r" (it asks for replay)');
    const atReload = await rejection(node.reload('m', withReplay));
    expect(atReload).toMatchObject({ code: 'invalid-argument' });
    expect(atReload.message).toContain('module "m" (it asks for replay)');
    expect(await node.modules()).toMatchObject([{ name: 'm', version: '1.0.0' }]);
    const flush = await rejection(node.events.flush());
    expect(flush).toMatchObject({ code: 'invalid-argument' });
    expect(flush.message).toContain('a node with a store to flush');
    await node.shutdown();
  });

  it('refuses publishes from outside once the shutdown began, saying so', async () => {
    const { node } = simNode(510);
    const stopping = node.shutdown();
    const error = thrown(() => node.publisher.newBlock(hash(1), 1));
    expect(error).toMatchObject({ code: 'node-shutting-down', message: 'The node is shutting-down: publishes from outside its modules are refused' });
    await stopping;
    expect(thrown(() => node.publisher.newBlock(hash(1), 1)).message).toContain('The node is stopped');
  });

  it('refuses anything but a node for its internals', () => {
    expect(thrown(() => busPort({}, 'a'))).toMatchObject({ code: 'invalid-argument', message: 'Expected a node made by createNode' });
  });
});

describe('a failed node', () => {
  it.each(['modules', 'events'] as const)('answers every call with its node-failed error once %s failed, logs it once, and stays failed after shutdown', async (actor) => {
    const scheduler = createSimulatedScheduler({ seed: 511, autoRun: true });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger });
    await node.load(idle('m'));
    injectNodeFault(node, actor, new Error('a bug in a node actor'));
    await scheduler.runAll();
    const failure = thrown(() => node.publisher.newBlock(hash(1), 1));
    expect(failure).toMatchObject({ code: 'node-failed' });
    expect(failure.message).toMatch(new RegExp(`^The node failed: its actor /${actor} terminated \\(.*a bug in a node actor.*\\); shut it down$`));
    expect((failure as { cause?: unknown }).cause).toMatchObject({ kind: 'failed' });
    const calls: Promise<unknown>[] = [
      node.load(idle('n')),
      node.load({ name: 'not a module' } as never),
      node.unload('m'),
      node.reload('m'),
      node.modules(),
      node.start(),
      node.events.subscribe('m', [EventType.NewTransaction]),
      node.events.unsubscribe('m', [EventType.NewBlock]),
      node.events.unsubscribe('m'),
      node.events.getDeliveryStats('m'),
    ];
    for (const call of calls) expect(await rejection(call)).toBe(failure);
    await node.shutdown();
    expect(node.status()).toMatchObject({ state: 'failed', started: false, failure: failure.message });
    const logged = lines.filter((l) => l['msg'] === 'node actor terminated: the node failed');
    expect(logged).toEqual([expect.objectContaining({ level: 50, actor: `/${actor}` })]);
    expect(String(logged[0]?.['reason'])).toContain('a bug in a node actor');
  });

  it('refuses a publish from a module whose handler was running when the node failed', async () => {
    const { node, scheduler } = simNode(515);
    const held = gate();
    const errors: (Error & { code?: string })[] = [];
    await node.load(
      recorder('m', [EventType.NewBlock], {
        handle: async (_event, ctx) => {
          await held.promise;
          errors.push(thrown(() => ctx.publish({ type: 'NewTransaction', payload: { txHash: hash(2) } })));
        },
      }).module,
    );
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    injectNodeFault(node, 'events', new Error('a bug in a node actor'));
    await scheduler.runAll();
    held.open();
    await scheduler.runAll();
    expect(errors.map((e) => e.code)).toEqual(['node-failed']);
    await node.shutdown();
  });

  it('counts what its modules still held as lost when it is shut down without a turn to retire them (the law to the end)', async () => {
    const { node, scheduler } = simNode(512);
    const stuck = (name: string) => recorder(name, [EventType.NewBlock], { handle: () => new Promise<void>(() => undefined) }).module;
    await node.load(stuck('a'));
    await node.load(stuck('b'));
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runUntilIdle();
    // b leaves every subscription but stays loaded (announced) with what it holds.
    await node.events.unsubscribe('b');
    const { router } = nodeInternals(node);
    injectNodeFault(node, 'modules', new Error('a bug in a node actor'));
    await drive(scheduler, node.shutdown());
    for (const name of ['a', 'b']) {
      const stats = router.getStats(name) as DeliveryStats;
      expect(stats).toMatchObject({ successful: 3, handled: 0, lostOnCrash: 3 });
      expect(pendingCount(stats)).toBe(0);
    }
  });
});

describe('a stopped node', () => {
  it('rejects loading and unloading modules once it stopped, with a typed error', async () => {
    const { node } = simNode(516);
    await node.load(idle('m'));
    await node.shutdown();
    for (const call of [node.load(idle('n')), node.unload('m')]) expect(isModactorError(await rejection(call))).toBe(true);
  });

  it('gives a module that does not stop until the one deadline, without cutting the shutdown short', async () => {
    const scheduler = createSimulatedScheduler({ seed: 517, autoRun: false });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger });
    await drive(scheduler, node.load(recorder('stuck', [EventType.NewBlock], { handle: () => new Promise<void>(() => undefined) }).module));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    await drive(scheduler, node.shutdown());
    expect(node.status().state).toBe('stopped');
    expect(lines.filter((l) => l['msg'] === 'graceful shutdown did not complete: stopping what is left')).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ module: 'stuck', msg: 'module did not stop in time: killed' }));
  });
});

describe('resetting delivery stats', () => {
  it('zeroes a running module\'s counters, keeping its incarnations', async () => {
    const { node, scheduler } = simNode(514);
    await node.load(idle('m'));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 1, handled: 1, incarnations: 1 });
    await node.events.resetDeliveryStats('m');
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0, handled: 0, incarnations: 1 });
    await node.shutdown();
  });
});

describe('queries after the node stopped', () => {
  it('read the final state: delivery stats, subscribers, loaded modules, published counts; reset still keeps the law', async () => {
    const { node, scheduler } = simNode(513);
    const m = recorder('m', [EventType.NewBlock, EventType.NewTransaction]);
    await node.load(m.module);
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runUntilIdle();
    const before = await snapshot(node);
    expect(before.stats).toMatchObject({ successful: 2, handled: 2 });
    // A type subscribed to but never published is not counted; unknown names have no stats.
    expect(before.published.get(EventType.NewBlock)).toBe(2);
    expect(before.published.has(EventType.NewTransaction)).toBe(false);
    expect(await node.events.getDeliveryStats('nobody')).toBeUndefined();
    await node.events.resetDeliveryStats('nobody');
    expect(node.status().state).toBe('running');
    await node.shutdown();
    const after = await snapshot(node);
    expect({ ...after, published: null }).toEqual({ stats: before.stats, all: new Map([['m', before.stats]]), subscribers: [], loaded: [], published: null });
    expect(after.published.get(EventType.NodeShutdown)).toBe(1);
    expect(after.published.get(EventType.NewBlock)).toBe(2);
    expect(after.published.has(EventType.NewTransaction)).toBe(false);
    expect(await node.events.getDeliveryStats('nobody')).toBeUndefined();
    await node.events.resetDeliveryStats('m');
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0, handled: 0 });
  });
});

async function snapshot(node: ModactorNode) {
  return {
    stats: await node.events.getDeliveryStats('m'),
    all: await node.events.getAllDeliveryStats(),
    subscribers: await node.events.getSubscribers(EventType.NewBlock),
    loaded: await node.events.getLoadedModules(),
    published: await node.events.getPublishedCounts(),
  };
}
