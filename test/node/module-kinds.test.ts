/**
 * Each kind of in-process module, run on a node: a handler with `setup` and `stop`, a `create`
 * factory (handlers made per incarnation), an xstate machine with `input` and `onSnapshot`; and
 * what a handler abandoned by a kill does when it finishes later (nothing counted twice).
 */
import { describe, expect, it } from 'vitest';
import { assign, createMachine, fromCallback } from 'xstate';
import { EventType, createNode, createSimulatedScheduler, defineModule, pendingCount, type DeliveryStats, type ModuleContext, type NodeEvent } from '../../src/index.js';
import { memoryLogger } from '../kernel/support.js';
import { drive, gate, hash, recorder, simNode } from '../scenarios/helpers.js';

describe('in-process module kinds', () => {
  it('runs a module made by create: its handlers made once per incarnation, with its context, and its stop called when each incarnation ends', async () => {
    const { node, scheduler } = simNode(701);
    const log: string[] = [];
    let made = 0;
    await node.load(
      defineModule({
        name: 'factory',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        create(ctx) {
          const n = ++made;
          log.push(`create ${n} for ${ctx.name}`);
          return {
            handle(event: NodeEvent) {
              if (event.type !== 'NewBlock') return;
              log.push(`${n}: b${event.payload.height}`);
              if (event.payload.height === 2) throw new Error('crash on 2');
            },
            stop(stopCtx: ModuleContext) {
              log.push(`stop ${n} of ${stopCtx.name}`);
            },
          };
        },
      }),
    );
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runAll();
    node.publisher.newBlock(hash(4), 4);
    await scheduler.runAll();
    await node.unload('factory');
    // b3 was lost with the crashed incarnation, whose stop ran too.
    expect(log).toEqual(['create 1 for factory', '1: b1', '1: b2', 'stop 1 of factory', 'create 2 for factory', '2: b4', 'stop 2 of factory']);
    await node.shutdown();
  });

  it('runs setup before the first event and stop when unloaded; a module without stop unloads cleanly', async () => {
    const scheduler = createSimulatedScheduler({ seed: 702, autoRun: true });
    const { logger, lines } = memoryLogger('info');
    const node = createNode({ scheduler, logger });
    const log: string[] = [];
    await node.load(
      defineModule({
        name: 'full',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        setup: (ctx) => {
          log.push(`setup ${ctx.name}@${ctx.version}`);
          ctx.log.info({ step: 1 }, 'set up');
        },
        handle: (event) => void log.push(event.type),
        stop: (ctx) => void log.push(`stop ${ctx.name}`),
      }),
    );
    const bare = recorder('bare', [EventType.NewBlock]);
    await node.load(bare.module);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    await node.unload('full');
    await node.unload('bare');
    expect(log).toEqual(['setup full@1.0.0', 'NewBlock', 'stop full']);
    expect(bare.seen).toEqual(['NewBlock(1)']);
    expect(lines.filter((l) => (l['level'] as number) >= 40)).toEqual([]);
    // The module's own logger is bound to its name.
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, module: 'full', step: 1, msg: 'set up' }));
    expect(lines.filter((l) => l['msg'] === 'module unloaded').map((l) => l['module'])).toEqual(['full', 'bare']);
    await node.shutdown();
  });

  it('runs a machine with its input and tells onSnapshot each snapshot with the module context', async () => {
    const { node, scheduler } = simNode(703);
    const counter = createMachine({
      types: {} as { context: { blocks: number; label: string }; events: NodeEvent; input: { label: string } },
      context: ({ input }) => ({ blocks: 0, label: input.label }),
      on: { NewBlock: { actions: assign({ blocks: ({ context }) => context.blocks + 1 }) } },
    });
    const snapshots: string[] = [];
    await node.load(
      defineModule({
        name: 'counter',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        machine: counter,
        input: (ctx) => ({ label: `${ctx.name}@${ctx.version}` }),
        onSnapshot: (snapshot, ctx) => {
          const context = snapshot.context as { blocks: number; label: string };
          snapshots.push(`${ctx.name}: ${context.label} ${context.blocks}`);
        },
      }),
    );
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runUntilIdle();
    expect(snapshots.slice(-2)).toEqual(['counter: counter@1.0.0 1', 'counter: counter@1.0.0 2']);
    await node.shutdown();
  });

  it('stops its machine with the module: what the machine runs is cleaned up when the module is unloaded', async () => {
    const { node } = simNode(706);
    const log: string[] = [];
    const watching = createMachine({
      types: {} as { events: NodeEvent },
      invoke: {
        src: fromCallback(() => {
          log.push('watching');
          return () => log.push('cleaned up');
        }),
      },
    });
    await node.load(defineModule({ name: 'watcher', version: '1.0.0', subscribe: [EventType.NewBlock], machine: watching }));
    expect(log).toEqual(['watching']);
    await node.unload('watcher');
    expect(log).toEqual(['watching', 'cleaned up']);
    await node.shutdown();
  });

  it('crashes the module when its machine fails with something that is not an Error, saying whose machine failed', async () => {
    const { node, scheduler } = simNode(704);
    const watcher = recorder('watcher', [EventType.ModuleCrashed]);
    await node.load(watcher.module);
    const failing = createMachine({
      types: {} as { events: NodeEvent },
      initial: 'idle',
      states: {
        idle: { on: { NewBlock: 'broken' } },
        broken: {
          entry: () => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- what careless module code may throw
            throw 'not an error';
          },
        },
      },
    });
    await node.load(defineModule({ name: 'fragile', version: '1.0.0', subscribe: [EventType.NewBlock], machine: failing, restart: { type: 'temporary' } }));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    expect(watcher.events.map((e) => e.payload)).toEqual([{ moduleName: 'fragile', error: 'machine of fragile failed' }]);
    await node.shutdown();
  });
});

describe('the restart policy', () => {
  it('waits its backoff before restarting a crashed module', async () => {
    const { node, scheduler } = simNode(707, { autoRun: false });
    const watcher = recorder('watcher', [EventType.ModuleLoaded]);
    await drive(scheduler, node.load(watcher.module));
    const m = recorder('m', [EventType.NewBlock], {
      restart: { maxRestarts: 5, withinMs: 60_000, backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } },
      handle: () => {
        throw new Error('crash');
      },
    });
    await drive(scheduler, node.load(m.module));
    const loadedAt: number[] = [];
    const stop = node.system.inspect((event, time) => {
      if (event.type === 'restarted' && event.actor === '/modules/m') loadedAt.push(time);
    });
    const crashedAt = scheduler.now();
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll({ maxTime: crashedAt + 5000 });
    stop();
    expect(loadedAt).toEqual([crashedAt + 1000]);
    await drive(scheduler, node.shutdown());
  });
});

describe('a handler abandoned by a kill', () => {
  it.each([
    ['finishes', () => undefined],
    ['fails', () => Promise.reject(new Error('late failure'))],
  ])('changes no count when it %s after its event was counted lost', async (_label, end) => {
    const { node, scheduler } = simNode(705, { shutdownTimeoutMs: 50 });
    const held = gate();
    const m = recorder('m', [EventType.NewBlock], { handle: () => held.promise.then(end) });
    await node.load(m.module);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    await drive(scheduler, node.unload('m')); // killed past its timeout: the event in hand is lost
    const lost = (await node.events.getDeliveryStats('m')) as DeliveryStats;
    expect(lost).toMatchObject({ successful: 1, handled: 0, handlerFailed: 0, lostOnCrash: 1 });
    held.open();
    await scheduler.runAll();
    const after = (await node.events.getDeliveryStats('m')) as DeliveryStats;
    expect(after).toEqual(lost);
    expect(pendingCount(after)).toBe(0);
    await node.shutdown();
  });
});
