/**
 * A module with `replay` that died and is not yet retired (its mailbox closed, the node not yet
 * through its end): what is offered to it meanwhile, and what its feed reads meanwhile, is counted
 * once and left to its next load. On a simulated disk and clock, stepped one actor turn at a time.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type ModactorNode, type ModuleDefinition, type NodeEvent, type SimulatedScheduler } from '../../src/index.js';
import { brief } from '../scenarios/helpers.js';
import { gate } from '../kernel/support.js';
import { block, createMemoryDisk, diskNode, drive, heights, settle } from './support.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs actors and the disk's promises until they are quiet, without moving the clock (the log's group commit waits). */
async function withoutTime(scheduler: SimulatedScheduler): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await scheduler.runUntilIdle();
    await turn();
  }
}

/** Steps the node one actor turn at a time until module m's actor has terminated: the node has not retired it yet. */
async function untilDead(node: ModactorNode, scheduler: SimulatedScheduler): Promise<void> {
  let terminated = false;
  node.system.inspect((event) => {
    if (event.actor === '/modules/m' && event.type === 'terminated') terminated = true;
  });
  for (let turns = 0; !terminated && turns < 200; turns++) {
    scheduler.step();
    await turn();
  }
  expect(terminated).toBe(true);
}

/** Writes what the log holds without an actor turn (the node's flush goes to the store directly); the feeds waiting for it read on. */
async function writeLog(node: ModactorNode): Promise<void> {
  let written = false;
  void node.events.flush().then(() => (written = true));
  for (let i = 0; i < 20 && !written; i++) await turn();
  expect(written).toBe(true);
  for (let i = 0; i < 5; i++) await turn();
}

/** Module m with replay, not restarted, recording what it handles; `spec` adds or overrides fields. */
function dying(spec: Partial<ModuleDefinition>, handle: (event: NodeEvent) => void | Promise<void>) {
  const seen: string[] = [];
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: ['NewBlock'],
    replay: true,
    restart: { type: 'temporary' },
    ...spec,
    async handle(event: NodeEvent) {
      seen.push(brief(event));
      await handle(event);
    },
  });
  return { module, seen };
}

const isHeight = (h: number) => (event: NodeEvent) => event.type === 'NewBlock' && event.payload.height === h;

/** Loads idle modules i1..i`n` (no replay, no subscription): announced, so a ModuleLoaded replay has them. */
async function loadIdle(node: ModactorNode, scheduler: SimulatedScheduler, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await drive(scheduler, node.load(defineModule({ name: `i${i}`, version: '1.0.0', subscribe: [], handle() {} })));
}

/**
 * Module m with replay in a ModuleLoaded replay of i1..i`idle`: b1 in its hands until `open()`,
 * then it takes ModuleLoaded(i1) and crashes on it (after the next one entered its mailbox).
 */
async function crashingInReplay(idle: number, mailboxCapacity: number) {
  const run = diskNode(createMemoryDisk());
  const { node, scheduler } = run;
  await loadIdle(node, scheduler, idle);
  const { promise: held, open } = gate();
  const m = dying({ mailboxCapacity }, async (event) => {
    if (isHeight(1)(event)) await held;
    if (event.type === 'ModuleLoaded' && event.payload.moduleName === 'i1') throw new Error('crash on ModuleLoaded(i1)');
  });
  await drive(scheduler, node.load(m.module));
  node.events.publish(block(1));
  await withoutTime(scheduler); // b1 in hand
  let subscribed = false;
  void node.events.subscribe('m', ['ModuleLoaded']).then(() => (subscribed = true));
  await withoutTime(scheduler);
  expect(subscribed).toBe(true);
  return { ...run, m, open };
}

const stats = (node: ModactorNode, scheduler: SimulatedScheduler) => drive(scheduler, node.events.getDeliveryStats('m'));

describe('a module with replay that died and is not yet retired', () => {
  it('leaves what its feed reads meanwhile to its next load, unfiltered and not counted', async () => {
    const { node, scheduler } = diskNode(createMemoryDisk());
    const { promise: held, open } = gate();
    // Its filter declines everything once it has crashed: asked for the dead module, it would say no.
    let crashed = false;
    const first = dying({ mailboxCapacity: 1, filter: () => !crashed }, async (event) => {
      if (isHeight(1)(event)) await held;
      if (isHeight(2)(event)) {
        crashed = true;
        throw new Error('crash on 2');
      }
    });
    await drive(scheduler, node.load(first.module));
    node.events.publish(block(1));
    await withoutTime(scheduler); // b1 in hand
    node.events.publish(block(2)); // queued
    node.events.publish(block(3)); // no room: left to a feed, which waits for the log to write it
    open();
    await untilDead(node, scheduler); // it took b2 and crashed on it
    await writeLog(node); // the feed reads b3 and offers it to the dead module
    await settle(scheduler);
    expect(first.seen).toEqual(['NewBlock(1)', 'NewBlock(2)']);
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ successful: 2, handled: 1, handlerFailed: 1, filtered: 0 });
    const again = heights('m', { replay: true });
    await drive(scheduler, node.load(again.module));
    node.events.publish(block(4));
    await settle(scheduler);
    expect(again.seen).toEqual([3, 4]);
    await drive(scheduler, node.shutdown());
  });

  it('counts a durable event offered to it as failed, even with its ModuleLoaded replay given, and leaves it to its next load', async () => {
    const { node, scheduler, m, open } = await crashingInReplay(2, 1); // ModuleLoaded(i1) queued, i2 to replay
    open();
    await untilDead(node, scheduler); // ModuleLoaded(i2) had entered its mailbox: nothing is left to replay
    expect(node.events.publish(block(2))).toMatchObject({ enqueued: 0, failed: 1 });
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'ModuleLoaded(i1)']);
    expect(await stats(node, scheduler)).toMatchObject({ successful: 3, handled: 1, handlerFailed: 1, lostOnCrash: 1, failed: 1 });
    const again = heights('m', { replay: true });
    await drive(scheduler, node.load(again.module));
    await settle(scheduler);
    expect(again.seen).toEqual([2]);
    await drive(scheduler, node.shutdown());
  });

  it('stops at the first closed offer each time its feed pulls meanwhile: the rest of its ModuleLoaded replay is never offered, what waited is lost with it', async () => {
    const { node, scheduler, m, open } = await crashingInReplay(5, 1); // ModuleLoaded(i1) queued, i2..i5 to replay
    expect(node.events.publish(block(2))).toMatchObject({ enqueued: 1 }); // waits behind the replay
    expect(node.events.publish(block(3))).toMatchObject({ enqueued: 1 }); // no room: left to a feed, which waits for the log
    open();
    await untilDead(node, scheduler); // ModuleLoaded(i2) had entered its mailbox; i3..i5 still to replay
    await writeLog(node); // the feed reads b3 and pulls (once it has read, once it is done): i3, then i4, find the mailbox closed
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'ModuleLoaded(i1)']);
    // Offered: b1 (handled), ModuleLoaded(i1) (failed on), i2 (lost in its mailbox), i3 and i4 (failed), b2 (lost waiting).
    expect(await stats(node, scheduler)).toMatchObject({ successful: 4, handled: 1, handlerFailed: 1, failed: 2, lostOnCrash: 2 });
    const again = heights('m', { replay: true });
    await drive(scheduler, node.load(again.module));
    await settle(scheduler);
    expect(again.seen).toEqual([2, 3]);
    await drive(scheduler, node.shutdown());
  });

  it('stops at the first closed offer each time its feed pulls meanwhile: what still waits is lost with it', async () => {
    const { node, scheduler, m, open } = await crashingInReplay(4, 3); // ModuleLoaded(i1..i3) queued, i4 to replay
    expect([2, 3, 4, 5].map((h) => node.events.publish(block(h)).enqueued)).toEqual([1, 1, 1, 1]); // b2..b4 wait; b5 is left to a feed
    open();
    await untilDead(node, scheduler); // ModuleLoaded(i4) had entered its mailbox: b2..b4 still wait
    await writeLog(node); // the feed reads b5 and pulls (once it has read, once it is done): b2, then b3, find the mailbox closed
    await settle(scheduler);
    expect(m.seen).toEqual(['NewBlock(1)', 'ModuleLoaded(i1)']);
    // Offered: b1 (handled), ModuleLoaded(i1) (failed on), i2..i4 (lost in its mailbox), b2 and b3 (failed), b4 (lost waiting).
    expect(await stats(node, scheduler)).toMatchObject({ successful: 6, handled: 1, handlerFailed: 1, failed: 2, lostOnCrash: 4 });
    const again = heights('m', { replay: true });
    await drive(scheduler, node.load(again.module));
    await settle(scheduler);
    expect(again.seen).toEqual([2, 3, 4, 5]);
    await drive(scheduler, node.shutdown());
  });
});
