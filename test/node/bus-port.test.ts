/**
 * The node side of a bus (src/node/bus-port.ts): what a node tells a bus, and what a bus may do to
 * a node — each through the same validated, stamped, counted paths as anything local.
 */
import { describe, expect, it } from 'vitest';
import { EventType, isModactorError } from '../../src/index.js';
import { busPort, type MembershipChange, type StampedEvent } from '../../src/node/bus-port.js';
import { hash, recorder, simNode } from '../scenarios/helpers.js';

describe('the bus port of a node', () => {
  it('tells the bus every event accepted locally, never one that came from the bus (no echo)', async () => {
    const { node, scheduler } = simNode(201);
    const port = busPort(node, 'a');
    const seen: StampedEvent[] = [];
    const stop = port.onLocalEvent((event) => seen.push(event));
    const sink = recorder('sink', [EventType.NewBlock]);
    await node.load(sink.module);
    node.publisher.newBlock(hash(1), 1);
    expect(port.injectRemote({ type: 'NewBlock', payload: { blockHash: hash(2), height: 2 } }, { nodeId: 'b', module: 'miner', seq: 7 })).toMatchObject({ enqueued: 1 });
    await scheduler.runAll();
    expect(seen.filter((e) => e.type === 'NewBlock').map((e) => e.meta.source)).toEqual(['node']);
    // The remote event reached the local subscriber, stamped here, its source the remote module.
    expect(sink.events.map((e) => e.meta?.source)).toEqual(['node', 'b/miner']);
    stop();
    node.publisher.newBlock(hash(3), 3);
    expect(seen.filter((e) => e.type === 'NewBlock')).toHaveLength(1);
    await node.shutdown();
  });

  it('validates what comes from the bus like any untrusted input: garbage is a typed refusal, delivered to no one', async () => {
    const { node, scheduler } = simNode(202);
    const port = busPort(node, 'a');
    const sink = recorder('sink', [EventType.NewBlock]);
    await node.load(sink.module);
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    for (const raw of [null, 'x', { type: 'NewBlock', payload: { height: -1 } }, { type: 'Nope', payload: {} }, hostile]) {
      expect(isModactorError(port.injectRemote(raw, { nodeId: 'b', module: 'm', seq: 1 }))).toBe(true);
    }
    await scheduler.runAll();
    expect(sink.events).toEqual([]);
    await node.shutdown();
  });

  it('announces a remote module exactly once, by replay to newcomers, and retires it', async () => {
    const { node, scheduler } = simNode(203);
    const port = busPort(node, 'a');
    const early = recorder('early', [EventType.ModuleLoaded, EventType.ModuleUnloaded]);
    await node.load(early.module);
    port.announceRemote('b', 'indexer', '2.0.0');
    port.announceRemote('b', 'indexer', '2.0.0');
    const late = recorder('late', [EventType.ModuleLoaded]);
    await node.load(late.module);
    await scheduler.runAll();
    expect(early.seen).toEqual(['ModuleLoaded(early)', 'ModuleLoaded(b/indexer)', 'ModuleLoaded(late)']);
    expect(late.seen).toEqual(['ModuleLoaded(early)', 'ModuleLoaded(b/indexer)', 'ModuleLoaded(late)']);
    expect(await node.events.getLoadedModules()).toEqual(['early', 'b/indexer', 'late']);
    port.retireRemote('b', 'indexer');
    port.retireRemote('b', 'indexer');
    await scheduler.runAll();
    expect(early.seen.at(-1)).toBe('ModuleUnloaded(b/indexer)');
    expect(early.seen.filter((s) => s === 'ModuleUnloaded(b/indexer)')).toHaveLength(1);
    await node.shutdown();
  });

  it('tells the bus the local modules loaded and every change after, not the remote ones', async () => {
    const { node, scheduler } = simNode(204);
    const port = busPort(node, 'a');
    await node.load(recorder('first', []).module);
    port.announceRemote('b', 'early', '1');
    const changes: MembershipChange[] = [];
    const membership = port.onMembership((change) => changes.push(change));
    const { loaded } = membership;
    expect(loaded).toEqual([{ module: 'first', version: '1.0.0' }]);
    await node.load(recorder('second', []).module);
    port.announceRemote('b', 'other', '1');
    await node.unload('first');
    await scheduler.runAll();
    expect(changes).toEqual([
      { kind: 'loaded', module: 'second', version: '1.0.0' },
      { kind: 'unloaded', module: 'first', version: '1.0.0' },
    ]);
    membership.stop();
    await node.shutdown();
  });

  it('keeps every other listener when one stops, and tells a local event that follows a remote one', async () => {
    const { node, scheduler } = simNode(205);
    const port = busPort(node, 'a');
    const first: number[] = [];
    const second: number[] = [];
    const height = (e: StampedEvent): number => (e.payload as { height: number }).height;
    const stopFirst = port.onLocalEvent((e) => first.push(height(e)));
    const stopSecond = port.onLocalEvent((e) => second.push(height(e)));
    node.publisher.newBlock(hash(1), 1);
    stopFirst();
    stopFirst();
    port.injectRemote({ type: 'NewBlock', payload: { blockHash: hash(2), height: 2 } }, { nodeId: 'b', module: 'miner', seq: 1 });
    node.publisher.newBlock(hash(3), 3);
    stopSecond();
    stopSecond(); // stopping twice is harmless, also for the last one
    node.publisher.newBlock(hash(4), 4);
    expect(first).toEqual([1]);
    expect(second).toEqual([1, 3]);
    await scheduler.runAll();
    await node.shutdown();
  });

  it('stops telling membership changes to a listener that stopped, and keeps telling the others', async () => {
    const { node, scheduler } = simNode(206);
    const port = busPort(node, 'a');
    const first: string[] = [];
    const second: string[] = [];
    const one = port.onMembership((c) => first.push(`${c.kind} ${c.module}`));
    const two = port.onMembership((c) => second.push(`${c.kind} ${c.module}`));
    await node.load(recorder('x', []).module);
    one.stop();
    await node.load(recorder('y', []).module);
    await node.unload('x');
    two.stop();
    two.stop();
    await node.unload('y');
    await scheduler.runAll();
    expect(node.status().state).toBe('running');
    expect(first).toEqual(['loaded x']);
    expect(second).toEqual(['loaded x', 'loaded y', 'unloaded x']);
    await node.shutdown();
  });
});
