/**
 * What a module with `replay` is given while it is behind (a node with a store, on a simulated disk
 * and clock): durable events left to its feed or waiting behind a `ModuleLoaded` replay, its filter
 * and the critical lane on the way, and the merge of its three sources (the feed, the replayed
 * `ModuleLoaded` block, what waits behind them) in seq order.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type DeliveryStats, type ModactorNode, type ModuleDefinition, type NodeEvent, type SimulatedScheduler } from '../../src/index.js';
import { brief } from '../scenarios/helpers.js';
import { gate } from '../kernel/support.js';
import { block, createMemoryDisk, diskNode, drive, range, settle, withoutTime } from './support.js';

const tx = (n: number): NodeEvent => ({ type: 'NewTransaction', payload: { txHash: n.toString(16).padStart(64, 'a') } });

/**
 * Module m with replay, recording what it handles (briefly, and the seqs), held on the first
 * event `holdOn` accepts until `open()`. `spec` adds or overrides fields.
 */
function replaying(spec: Partial<ModuleDefinition> & { holdOn?: (event: NodeEvent) => boolean }) {
  const seen: string[] = [];
  const seqs: number[] = [];
  const { promise: held, open } = gate();
  let holding = spec.holdOn !== undefined;
  const { holdOn, ...fields } = spec;
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: ['NewBlock'],
    replay: true,
    ...fields,
    async handle(event: NodeEvent) {
      seen.push(brief(event));
      seqs.push(event.meta?.seq as number);
      if (holding && holdOn?.(event) === true) {
        holding = false;
        await held;
      }
    },
  });
  return { module, seen, seqs, open };
}

/** Loads idle modules i1..i`n` (no replay, no subscription): announced, so a ModuleLoaded replay has them. */
async function loadIdle(node: ModactorNode, scheduler: SimulatedScheduler, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await drive(scheduler, node.load(defineModule({ name: `i${i}`, version: '1.0.0', subscribe: [], handle() {} })));
}

/** A node where module m (with replay) was loaded and unloaded, then heights 1..`upTo` published and written: m is behind. */
async function behind(upTo: number, options: Parameters<typeof diskNode>[1] = {}) {
  const run = diskNode(createMemoryDisk(), options);
  await drive(run.scheduler, run.node.load(replaying({}).module));
  await drive(run.scheduler, run.node.unload('m'));
  for (let h = 1; h <= upTo; h++) run.node.events.publish(block(h));
  await drive(run.scheduler, run.node.events.flush());
  return run;
}

const isHeight = (h: number) => (event: NodeEvent) => event.type === 'NewBlock' && event.payload.height === h;

const stats = (node: ModactorNode, scheduler: SimulatedScheduler): Promise<DeliveryStats | undefined> => drive(scheduler, node.events.getDeliveryStats('m'));

describe('durable events offered to a module with replay', () => {
  it('leaves a durable event to its feed while it catches up, before its filter is asked: counted enqueued, filtered once when the feed gives it', async () => {
    const { node, scheduler } = await behind(6);
    const m = replaying({ mailboxCapacity: 2, holdOn: isHeight(1), filter: (event: NodeEvent) => !isHeight(8)(event) });
    await drive(scheduler, node.load(m.module));
    await scheduler.runUntilIdle(); // b1 in hand, b2 and b3 queued, its feed holds b4..b6
    expect(m.seen).toEqual(['NewBlock(1)']);
    expect([block(7), block(8)].map((event) => node.events.publish(event))).toEqual([
      { enqueued: 1, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 },
      { enqueued: 1, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 },
    ]);
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 7).map((h) => `NewBlock(${h})`));
    expect(await stats(node, scheduler)).toMatchObject({ successful: 7, handled: 7, filtered: 1, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('asks its filter about a live durable event once it has caught up: a declined one is counted filtered and never given', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk());
    const m = replaying({ filter: (event: NodeEvent) => !isHeight(2)(event) });
    await drive(scheduler, node.load(m.module));
    expect([1, 2, 3].map((h) => node.events.publish(block(h))).map((r) => [r.enqueued, r.filtered])).toEqual([
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'NewBlock(3)']);
    expect(await stats(node, scheduler)).toMatchObject({ successful: 2, handled: 2, filtered: 1 });
    await drive(scheduler, node.shutdown());
  });

  it('holds durable events behind a ModuleLoaded replay in progress within its capacity, leaves the rest to a feed, and counts each once, in seq order', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk());
    await loadIdle(node, scheduler, 3);
    const m = replaying({ mailboxCapacity: 1, holdOn: isHeight(1) });
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(1));
    await scheduler.runUntilIdle(); // b1 in hand
    await drive(scheduler, node.events.subscribe('m', ['ModuleLoaded'])); // ModuleLoaded(i1) queued, i2 and i3 to replay
    // b2 waits behind the replay (the one place its capacity leaves), b3 is left to a feed.
    expect([2, 3].map((h) => node.events.publish(block(h))).map((r) => [r.enqueued, r.dropped])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'ModuleLoaded(i1)', 'ModuleLoaded(i2)', 'ModuleLoaded(i3)', 'NewBlock(2)', 'NewBlock(3)']);
    expect(m.seqs).toEqual([...m.seqs].sort((a, b) => a - b));
    expect(await stats(node, scheduler)).toMatchObject({ successful: 6, handled: 6, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('lets a critical durable event overtake what its feed still has to give, counted once', async () => {
    const isCritical = (event: NodeEvent): boolean => event.type === 'NewTransaction';
    const { node, scheduler } = await behind(6, { node: { isCritical } });
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 2, holdOn: isHeight(1) });
    await drive(scheduler, node.load(m.module));
    await scheduler.runUntilIdle(); // b1 in hand, b2 and b3 queued, its feed holds b4..b6
    expect(node.events.publish(tx(1))).toMatchObject({ enqueued: 1, dropped: 0 });
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'NewTransaction', ...range(2, 6).map((h) => `NewBlock(${h})`)]);
    expect(await stats(node, scheduler)).toMatchObject({ successful: 7, handled: 7, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('counts a critical durable event its filter declines while it catches up as filtered once: its feed, reading past what it owes, does not offer it again', async () => {
    const isCritical = (event: NodeEvent): boolean => event.type === 'NewTransaction';
    const { node, scheduler } = await behind(100, { node: { isCritical } });
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 2, holdOn: isHeight(1), filter: (event: NodeEvent) => event.type !== 'NewTransaction' });
    await drive(scheduler, node.load(m.module));
    await scheduler.runUntilIdle(); // b1 in hand; its feed has read the first of its batches
    expect(node.events.publish(tx(1))).toMatchObject({ enqueued: 0, filtered: 1 });
    await drive(scheduler, node.events.flush()); // written: the feed's last batch reads it too, past b100
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 100).map((h) => `NewBlock(${h})`));
    expect(await stats(node, scheduler)).toMatchObject({ successful: 100, handled: 100, filtered: 1 });
    await drive(scheduler, node.shutdown());
  });

  it('counts a critical durable event its filter declines while it catches up as filtered once, though a later durable event extends its feed past it', async () => {
    const isCritical = (event: NodeEvent): boolean => event.type === 'NewTransaction';
    const { node, scheduler } = await behind(6, { node: { isCritical } });
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 2, holdOn: isHeight(1), filter: (event: NodeEvent) => event.type !== 'NewTransaction' });
    await drive(scheduler, node.load(m.module));
    await scheduler.runUntilIdle(); // b1 in hand, b2 and b3 queued, its feed holds b4..b6
    expect(node.events.publish(tx(1))).toMatchObject({ enqueued: 0, filtered: 1 });
    expect(node.events.publish(block(7))).toMatchObject({ enqueued: 1 }); // left to the feed, which now reads past tx(1)
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 7).map((h) => `NewBlock(${h})`));
    expect(await stats(node, scheduler)).toMatchObject({ successful: 7, handled: 7, filtered: 1 });
    await drive(scheduler, node.shutdown());
  });

  it('leaves a critical durable event to its feed when its priority lane is full, and still gives everything the feed owed before it', async () => {
    const isCritical = (event: NodeEvent): boolean => event.type === 'NewTransaction';
    const { node, scheduler } = await behind(6, { node: { isCritical } });
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 2, priorityCapacity: 1, holdOn: isHeight(1) });
    await drive(scheduler, node.load(m.module));
    await scheduler.runUntilIdle(); // b1 in hand, b2 and b3 queued, its feed holds b4..b6
    // The first takes the priority lane; the second finds it full and is left to the feed.
    expect([tx(1), tx(2)].map((event) => node.events.publish(event)).map((r) => [r.enqueued, r.dropped])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    m.open();
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'NewTransaction', ...range(2, 6).map((h) => `NewBlock(${h})`), 'NewTransaction']);
    expect(await stats(node, scheduler)).toMatchObject({ successful: 8, handled: 8, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('passes over replayed events of a type it left and goes on with the rest of its replay', async () => {
    const run = diskNode(createMemoryDisk());
    const { node, scheduler } = run;
    await drive(scheduler, node.load(replaying({}).module));
    await drive(scheduler, node.unload('m'));
    for (let h = 1; h <= 6; h++) node.events.publish(block(h));
    node.events.publish(tx(1));
    await drive(scheduler, node.events.flush());
    const seen: string[] = [];
    const { promise: held, open } = gate();
    await drive(
      scheduler,
      node.load(
        defineModule({
          name: 'm',
          version: '1.0.0',
          subscribe: ['NewBlock', 'NewTransaction'],
          replay: true,
          mailboxCapacity: 1,
          async handle(event: NodeEvent, ctx) {
            seen.push(brief(event));
            if (isHeight(1)(event)) {
              ctx.unsubscribe(['NewBlock']);
              await held;
            }
          },
        }),
      ),
    );
    await settle(scheduler);
    open();
    await settle(scheduler);
    // b1 in hand when it left NewBlock, b2 already in its mailbox; b3..b6 passed over.
    expect(seen).toEqual(['NewBlock(1)', 'NewBlock(2)', 'NewTransaction']);
    await drive(scheduler, node.shutdown());
  });
});

describe('the merge of a feed, a ModuleLoaded replay and what waits behind them', () => {
  it('gives its feed, the replayed ModuleLoaded block and what waited behind them in seq order, however they interleave', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk(), { store: { durableTypes: ['NewBlock'] } });
    await loadIdle(node, scheduler, 2);
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 4, holdOn: isHeight(1) });
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(1));
    await withoutTime(scheduler, Promise.resolve()); // b1 in hand
    for (let h = 2; h <= 6; h++) node.events.publish(block(h)); // b2..b5 queued, b6 left to a feed
    m.open();
    await withoutTime(scheduler, Promise.resolve());
    // Its feed waits for the log to write b6: everything after it waits, in its place.
    expect(m.seen).toEqual(range(1, 5).map((h) => `NewBlock(${h})`));
    expect(node.events.publish(tx(1))).toMatchObject({ enqueued: 1, dropped: 0 }); // not durable: waits
    await withoutTime(scheduler, node.events.subscribe('m', ['ModuleLoaded'])); // i1, i2 to replay
    expect(node.events.publish(block(7))).toMatchObject({ enqueued: 1, dropped: 0 }); // left to the feed
    expect(node.events.publish(tx(2))).toMatchObject({ enqueued: 1, dropped: 0 }); // waits
    await withoutTime(scheduler, Promise.resolve());
    expect(m.seen).toHaveLength(5);
    await settle(scheduler);
    expect(m.seen.slice(5)).toEqual(['NewBlock(6)', 'NewTransaction', 'ModuleLoaded(i1)', 'ModuleLoaded(i2)', 'NewBlock(7)', 'NewTransaction']);
    expect(m.seqs).toEqual([...m.seqs].sort((a, b) => a - b));
    expect(await stats(node, scheduler)).toMatchObject({ successful: 11, handled: 11, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('gives what waited behind a ModuleLoaded replay without waiting for the log to write a durable event published after it', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk(), { store: { durableTypes: ['NewBlock'] } });
    await loadIdle(node, scheduler, 2);
    const m = replaying({ subscribe: ['NewBlock', 'NewTransaction'], mailboxCapacity: 1, holdOn: isHeight(1) });
    await drive(scheduler, node.load(m.module));
    node.events.publish(block(1));
    await withoutTime(scheduler, Promise.resolve()); // b1 in hand
    await withoutTime(scheduler, node.events.subscribe('m', ['ModuleLoaded'])); // ModuleLoaded(i1) queued, i2 to replay
    expect(node.events.publish(tx(1))).toMatchObject({ enqueued: 1, dropped: 0 }); // waits behind the replay
    expect(node.events.publish(block(2))).toMatchObject({ enqueued: 1, dropped: 0 }); // no room left: a feed reads it back
    m.open();
    await withoutTime(scheduler, Promise.resolve());
    // b2 is not written yet; nothing older than it waits for it.
    expect(m.seen).toEqual(['NewBlock(1)', 'ModuleLoaded(i1)', 'ModuleLoaded(i2)', 'NewTransaction']);
    await settle(scheduler);
    expect(m.seen.slice(4)).toEqual(['NewBlock(2)']);
    expect(await stats(node, scheduler)).toMatchObject({ successful: 5, handled: 5, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });
});
