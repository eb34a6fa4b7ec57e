import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { EventType, createNode, createSimulatedScheduler, defineModule, type NodeEvent } from '../../src/index.js';
import { withFaults, type Fault } from '../../src/sim.js';

const hash = (n: number): string => n.toString(16).padStart(64, '0');

/** A node on a seeded simulated scheduler, a recording module wrapped with a scripted controller. */
function setup(faults: (height: number) => Fault | undefined) {
  const scheduler = createSimulatedScheduler({ seed: 5 });
  const node = createNode({ scheduler, shutdownTimeoutMs: 500 });
  const handled: string[] = [];
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: [EventType.NewBlock],
    handle(event: NodeEvent, ctx) {
      if (event.type === 'NewBlock') handled.push(`${event.payload.height}@${ctx.now()}`);
    },
  });
  const wrapped = withFaults(module, {
    decide: (event) => (event.type === 'NewBlock' ? faults(event.payload.height) : undefined),
  });
  return { scheduler, node, handled, wrapped };
}

describe('withFaults', () => {
  it('changes nothing without a fault: same name, version, subscriptions, synchronous handling', async () => {
    const { scheduler, node, handled, wrapped } = setup(() => undefined);
    expect(wrapped).toMatchObject({ name: 'm', version: '1.0.0', subscribe: ['NewBlock'], kind: 'in-process' });
    await node.load(wrapped);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(handled).toEqual(['1@0']);
    await node.shutdown();
  });

  it('crashes the module on an event: supervised and restarted like any crash', async () => {
    const { scheduler, node, handled, wrapped } = setup((h) => (h === 2 ? { kind: 'crash', message: 'injected' } : undefined));
    await node.load(wrapped);
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runAll();
    expect(handled).toEqual(['1@0']); // 3 was queued behind the crash and lost with the mailbox
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ handled: 1, handlerFailed: 1, lostOnCrash: 1, incarnations: 2 });
    // runAll ran the clock past the health window (ModuleHealthChanged back to healthy, coalesced).
    const restartedAt = scheduler.now();
    node.publisher.newBlock(hash(4), 4);
    await scheduler.runUntilIdle();
    expect(handled).toEqual(['1@0', `4@${restartedAt}`]);
    await node.shutdown();
  });

  it('hangs the module for a while on the node clock, then lets it handle the event', async () => {
    const { scheduler, node, handled, wrapped } = setup((h) => (h === 1 ? { kind: 'hang', forMs: 1000 } : undefined));
    await node.load(wrapped);
    node.publisher.newBlock(hash(1), 1);
    node.publisher.newBlock(hash(2), 2);
    await scheduler.advanceBy(999);
    expect(handled).toEqual([]);
    await scheduler.advanceBy(1);
    expect(handled).toEqual(['1@1000', '2@1000']);
    await node.shutdown();
  });

  it('slows every event down by the given virtual time', async () => {
    const { scheduler, node, handled, wrapped } = setup(() => ({ kind: 'slow', delayMs: 50 }));
    await node.load(wrapped);
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runAll();
    expect(handled).toEqual(['1@50', '2@100', '3@150']);
    await node.shutdown();
  });

  it('wraps factory and machine modules too', async () => {
    const scheduler = createSimulatedScheduler({ seed: 6 });
    const node = createNode({ scheduler });
    const seen: number[] = [];
    const factory = defineModule({
      name: 'f',
      version: '1',
      subscribe: [EventType.NewBlock],
      create: () => ({
        handle(event) {
          if (event.type === 'NewBlock') seen.push(event.payload.height);
        },
      }),
    });
    let calls = 0;
    await node.load(withFaults(factory, { decide: () => (++calls === 1 ? { kind: 'crash', message: 'first' } : undefined) }));
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runAll();
    expect(seen).toEqual([2]);
    expect(calls).toBe(2);

    const states: string[] = [];
    const machine = defineModule({
      name: 'machine',
      version: '1',
      subscribe: [EventType.NewBlock],
      machine: createMachine({ initial: 'waiting', states: { waiting: { on: { NewBlock: 'synced' } }, synced: {} } }),
      onSnapshot: (snapshot) => states.push(String(snapshot.value)),
    });
    let machineCalls = 0;
    await node.load(withFaults(machine, { decide: () => (++machineCalls === 1 ? { kind: 'crash', message: 'first' } : undefined) }));
    node.publisher.newBlock(hash(3), 3);
    await scheduler.runAll();
    node.publisher.newBlock(hash(4), 4);
    await scheduler.runAll();
    expect(await node.events.getDeliveryStats('machine')).toMatchObject({ handled: 1, handlerFailed: 1, incarnations: 2 });
    expect(states.at(-1)).toBe('synced');
    await node.shutdown();
  });
});
