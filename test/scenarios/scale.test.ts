/**
 * The guarantees at the sizes users reach: thousands of loaded modules. A newcomer's replay is
 * many times its mailbox, so it must be paced as the newcomer drains, exactly once, in load order,
 * never counted as dropped, with the newcomer's bound holding throughout.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, defineModule, type NodeEvent } from '../../src/index.js';

import { hash } from './helpers.js';

/** A node with `size` idle modules loaded, every `size / watchers`-th of them watching ModuleLoaded. */
async function crowdedNode(size: number, watchers: number) {
  const scheduler = createSimulatedScheduler({ seed: size });
  const node = createNode({ scheduler });
  const seenBy = new Map<string, string[]>();
  const loads: Promise<unknown>[] = [];
  for (let i = 0; i < size; i++) {
    const name = `idle-${i}`;
    const watches = i % Math.floor(size / watchers) === 0;
    if (watches) seenBy.set(name, []);
    loads.push(
      node.load(
        defineModule({
          name,
          version: '1.0.0',
          subscribe: watches ? [EventType.ModuleLoaded] : [],
          handle(event) {
            if (event.type === 'ModuleLoaded') seenBy.get(name)?.push(event.payload.moduleName);
          },
        }),
      ),
    );
  }
  await scheduler.runUntilIdle();
  await Promise.all(loads);
  return { scheduler, node, seenBy };
}

/** A newcomer that watches ModuleLoaded and NewBlock, recording what it takes and its queue at each take. */
function newcomer(node: Awaited<ReturnType<typeof crowdedNode>>['node'], hold?: Promise<void>) {
  const taken: NodeEvent[] = [];
  let maxQueued = 0;
  let maxRoutine = 0;
  const module = defineModule({
    name: 'newcomer',
    version: '1.0.0',
    subscribe: [EventType.ModuleLoaded, EventType.NewBlock],
    async handle(event) {
      const instance = node.system.lookup('/modules/newcomer');
      maxQueued = Math.max(maxQueued, instance?.queued ?? 0);
      maxRoutine = Math.max(maxRoutine, instance?.queuedRoutine ?? 0);
      taken.push(event);
      if (hold !== undefined) await hold;
    },
  });
  return { module, taken, peaks: () => ({ maxQueued, maxRoutine }) };
}

describe.each([1_000, 10_000])('a node with %i loaded modules', (size) => {
  it('replays every one of them to a newcomer exactly once, in load order, paced by its mailbox, none counted dropped', async () => {
    const { scheduler, node, seenBy } = await crowdedNode(size, 10);
    const loadOrder = await node.events.getLoadedModules();
    expect(loadOrder).toHaveLength(size);
    const probe = newcomer(node);
    await node.load(probe.module);
    await scheduler.runUntilIdle();
    const loaded = probe.taken.filter((e): e is NodeEvent<'ModuleLoaded'> => e.type === 'ModuleLoaded').map((e) => e.payload.moduleName);
    expect(loaded).toEqual([...loadOrder, 'newcomer']);
    expect(await node.events.getDeliveryStats('newcomer')).toMatchObject({ successful: size + 1, handled: size + 1, channelFull: 0 });
    // Paced: never more than its capacity queued, though the replay is many times that.
    expect(probe.peaks().maxQueued).toBeLessThanOrEqual(100);
    // Every watcher among the crowd met every module exactly once: those loaded before it by
    // replay, itself and those after it live.
    expect(seenBy.size).toBe(10);
    for (const seen of seenBy.values()) {
      expect([...seen].sort()).toEqual([...loadOrder, 'newcomer'].sort());
    }
    await node.shutdown();
  });
});

describe('a newcomer that is slow while its replay is pending', () => {
  it('keeps one FIFO: routine events published meanwhile wait behind the replay within their bound, membership events are never dropped', async () => {
    const { scheduler, node } = await crowdedNode(1_000, 10);
    const loadOrder = await node.events.getLoadedModules();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const probe = newcomer(node, gate);
    await node.load(probe.module);
    for (let h = 1; h <= 500; h++) node.publisher.newBlock(hash(h), h);
    await node.load(defineModule({ name: 'late', version: '1.0.0', subscribe: [], handle() {} }));
    open();
    await scheduler.runUntilIdle();
    const order = probe.taken.map((e) => (e.type === 'ModuleLoaded' ? `L:${e.payload.moduleName}` : `B:${(e as NodeEvent<'NewBlock'>).payload.height}`));
    // The replay first, then its own ModuleLoaded, then what was published after, in order.
    expect(order.slice(0, 1_000)).toEqual(loadOrder.map((name) => `L:${name}`));
    expect(order[1_000]).toBe('L:newcomer');
    const blocks = order.filter((o) => o.startsWith('B:'));
    expect(blocks).toEqual(Array.from({ length: 100 }, (_, i) => `B:${i + 1}`));
    expect(order.at(-1)).toBe('L:late');
    const stats = await node.events.getDeliveryStats('newcomer');
    expect(stats).toMatchObject({ channelFull: 400, membershipDropped: 0 });
    expect(probe.peaks().maxRoutine).toBeLessThanOrEqual(100);
    const seqs = probe.taken.map((e) => e.meta?.seq ?? -1);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    await node.shutdown();
  });
});
