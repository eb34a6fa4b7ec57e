/**
 * A `ModuleLoaded` replay in progress (a backlog): the replayed events enter the mailbox only as
 * it drains, and whatever is offered to the module meanwhile waits behind them, in order, within
 * the same bounds as the mailbox (routine events against its capacity, membership events against
 * its reserve), counted when it enters the mailbox or, if the module ends first, as lost.
 */
import { describe, expect, it } from 'vitest';
import { EventType, defineModule, type DeliveryStats, type EventTypeOf, type ModactorNode, type NodeEvent, type NodeEventMap } from '../../src/index.js';
import { pendingCount } from '../../src/node/delivery-stats.js';
import { drive, gate, hash, recorder, simNode } from '../scenarios/helpers.js';

/** Loads idle modules m1..m`n` (they subscribe to nothing). */
async function loadIdle(node: ModactorNode, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await node.load(defineModule({ name: `m${i}`, version: `${i}.0.0`, subscribe: [], handle() {} }));
}

/** The accounting law: every offer counted once, in an outcome or as still pending. */
function offered(stats: DeliveryStats): number {
  return stats.channelFull + stats.failed + stats.filtered + stats.serializationFailed + stats.handled + stats.handlerFailed + stats.lostOnCrash + pendingCount(stats);
}

const seqs = (events: readonly NodeEvent[]): number[] => events.map((e) => e.meta?.seq as number);

/**
 * Loads `late` after `idle` idle modules, and makes it busy: NewBlock(0) in its hands until
 * `held.open()` (never, with `forever`).
 */
async function busyLate(
  seed: number,
  idle: number,
  options: { mailboxCapacity: number; membershipCapacity?: number; subscribe?: EventTypeOf<NodeEventMap>[]; forever?: boolean; shutdownTimeoutMs?: number },
) {
  const { node, scheduler } = simNode(seed, options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs });
  await loadIdle(node, idle);
  const held = gate();
  const first = options.forever === true ? new Promise<void>(() => undefined) : held.promise;
  const late = recorder('late', options.subscribe ?? [EventType.NewBlock], {
    mailboxCapacity: options.mailboxCapacity,
    handle: (event) => (event.type === 'NewBlock' && event.payload.height === 0 ? first : undefined),
  });
  await node.load(options.membershipCapacity === undefined ? late.module : defineModule({ ...late.module, membershipCapacity: options.membershipCapacity }));
  node.publisher.newBlock(hash(0), 0);
  await scheduler.runUntilIdle();
  return { node, scheduler, held, late };
}

describe('a ModuleLoaded replay in progress', () => {
  it('holds what is published meanwhile behind the replay, drops routine events past the capacity, and delivers the rest in seq order', async () => {
    // Capacity 3: one event in hand, one routine event queued, then the replay fills the rest.
    const { node, scheduler, held, late } = await busyLate(301, 4, { mailboxCapacity: 3, subscribe: [EventType.NewBlock, EventType.ModuleUnloaded] });
    node.publisher.newBlock(hash(1), 1); // queued (routine)
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    // Two replayed ModuleLoaded fill the mailbox (1 routine + 2 reserved = 3); m3 and m4 wait.
    expect((await node.modules()).find((m) => m.name === 'late')?.queued).toBe(3);
    // Routine events now wait behind the replay: the routine bound counts those waiting and the
    // routine event queued (1 queued + 2 waiting reach the capacity of 3).
    expect(node.publisher.newBlock(hash(2), 2)).toMatchObject({ enqueued: 1, dropped: 0 });
    expect(node.publisher.newBlock(hash(3), 3)).toMatchObject({ enqueued: 1, dropped: 0 });
    expect(node.publisher.newBlock(hash(4), 4)).toMatchObject({ enqueued: 0, dropped: 1 });
    // Dropped as a full lane drops: a dead letter, though the mailbox itself had room.
    expect(node.system.deadLetterCounts()['mailbox-full']).toBe(1);
    // A membership event waits too (within the reserve), in its place.
    await node.unload('m1');
    expect(late.seen).toEqual(['NewBlock(0)']);
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual([
      'NewBlock(0)',
      'NewBlock(1)',
      'ModuleLoaded(m1)',
      'ModuleLoaded(m2)',
      'ModuleLoaded(m3)',
      'ModuleLoaded(m4)',
      'NewBlock(2)',
      'NewBlock(3)',
      'ModuleUnloaded(m1)',
    ]);
    const delivered = seqs(late.events);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    // The replayed events carry the versions of the modules they announce.
    expect(late.events.filter((e) => e.type === 'ModuleLoaded').map((e) => e.payload)).toEqual(
      [1, 2, 3, 4].map((i) => ({ moduleName: `m${i}`, version: `${i}.0.0` })),
    );
    const stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    expect(stats).toMatchObject({ successful: 9, handled: 9, channelFull: 1, membershipDropped: 0, lostOnCrash: 0 });
    expect(offered(stats)).toBe(10);
    await node.shutdown();
  });

  it('admits waiting membership events within the reserve only: past it they are counted dropped and the module reported unhealthy', async () => {
    const { node, scheduler, held, late } = await busyLate(302, 5, { mailboxCapacity: 2, membershipCapacity: 2, subscribe: [EventType.NewBlock, EventType.ModuleUnloaded] });
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    // The replay fills the mailbox (2 reserved); three modules are still to replay.
    for (const name of ['m1', 'm2', 'm3']) await node.unload(name);
    // Two ModuleUnloaded wait (the reserve is 2), the third is dropped.
    let stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    expect(stats).toMatchObject({ channelFull: 1, membershipDropped: 1 });
    expect(node.system.deadLetterCounts()['mailbox-full']).toBe(1);
    expect((await node.modules()).find((m) => m.name === 'late')?.health).toBe('unhealthy');
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual([
      'NewBlock(0)',
      'ModuleLoaded(m1)',
      'ModuleLoaded(m2)',
      'ModuleLoaded(m3)',
      'ModuleLoaded(m4)',
      'ModuleLoaded(m5)',
      'ModuleUnloaded(m1)',
      'ModuleUnloaded(m2)',
    ]);
    stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    expect(stats).toMatchObject({ successful: 8, handled: 8, channelFull: 1, membershipDropped: 1 });
    expect(offered(stats)).toBe(9);
    await node.shutdown();
  });

  it('stops a replay when the module unsubscribes from ModuleLoaded; what waits behind it is still delivered', async () => {
    const { node, scheduler, held, late } = await busyLate(303, 4, { mailboxCapacity: 1 });
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1 enters the mailbox, m2..m4 wait
    expect(node.publisher.newBlock(hash(1), 1)).toMatchObject({ enqueued: 1 });
    await node.events.unsubscribe('late', [EventType.ModuleLoaded]);
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'NewBlock(1)']);
    // Subscribing again replays every module once more, after what it already has.
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    await scheduler.runUntilIdle();
    expect(late.seen.slice(3)).toEqual(['ModuleLoaded(m1)', 'ModuleLoaded(m2)', 'ModuleLoaded(m3)', 'ModuleLoaded(m4)']);
    const stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    expect(stats).toMatchObject({ successful: 7, handled: 7, channelFull: 0 });
    await node.shutdown();
  });

  it('goes on with a replay when the module leaves another type', async () => {
    const { node, scheduler, held, late } = await busyLate(309, 3, { mailboxCapacity: 1, subscribe: [EventType.NewBlock, EventType.NewTransaction] });
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1 queued; m2, m3 to replay
    await node.events.unsubscribe('late', [EventType.NewTransaction]);
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)', 'ModuleLoaded(m3)']);
    await node.shutdown();
  });

  it('counts what waited behind a replay as lost when the module is killed, and keeps the law', async () => {
    // NewBlock(0) is never finished: unloading it must kill it.
    const { node, scheduler, late } = await busyLate(304, 3, { mailboxCapacity: 2, forever: true, shutdownTimeoutMs: 50 });
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1, m2 queued; m3 to replay
    node.publisher.newBlock(hash(1), 1); // waits
    await drive(scheduler, node.unload('late'));
    const stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    // In hand NewBlock(0), queued m1 and m2, and NewBlock(1) waiting: all four lost. The replay
    // not yet offered (m3) was never counted.
    expect(stats).toMatchObject({ successful: 4, handled: 0, lostOnCrash: 4 });
    expect(pendingCount(stats)).toBe(0);
    expect(late.seen).toEqual(['NewBlock(0)']);
    await node.shutdown();
  });

  it('frees room in the reserve as waiting membership events enter the mailbox, and counts exactly what still waited as lost when the module is killed', async () => {
    const { node, scheduler } = simNode(306, { shutdownTimeoutMs: 50 });
    await loadIdle(node, 7);
    const held = gate();
    const late = recorder('late', [EventType.NewBlock, EventType.ModuleUnloaded], {
      mailboxCapacity: 2,
      handle: (event) => {
        if (event.type === 'NewBlock') return held.promise;
        // Never finishes ModuleUnloaded(m1): unloading it must kill it.
        if (event.type === 'ModuleUnloaded' && event.payload.moduleName === 'm1') return new Promise<void>(() => undefined);
        return undefined;
      },
    });
    await node.load(defineModule({ ...late.module, membershipCapacity: 6 }));
    node.publisher.newBlock(hash(0), 0);
    await scheduler.runUntilIdle();
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1, m2 queued; m3..m7 to replay
    for (let i = 1; i <= 6; i++) await node.unload(`m${i}`); // six ModuleUnloaded wait: the reserve is full
    node.publisher.newBlock(hash(1), 1); // waits too
    held.open();
    await scheduler.runUntilIdle();
    // It took the replay and is stuck on ModuleUnloaded(m1), with m2's and m3's queued behind it;
    // m4..m6's and NewBlock(1) still wait, and three of the reserve's six places are free again.
    expect(late.seen.slice(-2)).toEqual(['ModuleLoaded(m7)', 'ModuleUnloaded(m1)']);
    await node.unload('m7');
    let stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    expect(stats).toMatchObject({ channelFull: 0, membershipDropped: 0 });
    await drive(scheduler, node.unload('late'));
    stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
    // Handled: NewBlock(0) and seven ModuleLoaded. Lost: the one in hand, two queued, five waiting.
    expect(stats).toMatchObject({ successful: 16, handled: 8, lostOnCrash: 8 });
    expect(pendingCount(stats)).toBe(0);
    await node.shutdown();
  });

  it('feeds the replay and waiting membership events one at a time through a reserve smaller than the capacity, dropping none of them', async () => {
    const { node, scheduler, held, late } = await busyLate(307, 3, { mailboxCapacity: 3, membershipCapacity: 1, subscribe: [EventType.NewBlock, EventType.ModuleUnloaded] });
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1 takes the reserve; m2, m3 to replay
    await node.unload('m1'); // waits (the reserve of waiting events is 1 too)
    await node.unload('m2'); // dropped: counted
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)', 'ModuleLoaded(m3)', 'ModuleUnloaded(m1)']);
    expect(await node.events.getDeliveryStats('late')).toMatchObject({ successful: 5, handled: 5, channelFull: 1, membershipDropped: 1 });
    await node.shutdown();
  });

  it('lets a critical event overtake a replay in progress', async () => {
    const { node, scheduler, held, late } = await busyLate(308, 3, { mailboxCapacity: 1, subscribe: [EventType.NewBlock, EventType.DataMaintenance] });
    await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1 queued; m2, m3 to replay
    node.publisher.newBlock(hash(1), 1); // waits behind the replay
    expect(node.publisher.dataMaintenance('flush', 'high', 'manual')).toMatchObject({ enqueued: 1 });
    held.open();
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['NewBlock(0)', 'DataMaintenance', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)', 'ModuleLoaded(m3)', 'NewBlock(1)']);
    await node.shutdown();
  });

  it('passes over replayed ModuleLoaded events its filter declines, counting them filtered', async () => {
    const { node, scheduler } = simNode(305);
    await loadIdle(node, 3);
    const late = recorder('late', [EventType.NewBlock]);
    await node.load(
      defineModule({
        ...late.module,
        mailboxCapacity: 1,
        filter: (event: NodeEvent) => event.type !== 'ModuleLoaded' || event.payload.moduleName !== 'm2',
      }),
    );
    await node.events.subscribe('late', [EventType.ModuleLoaded]);
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['ModuleLoaded(m1)', 'ModuleLoaded(m3)']);
    expect(await node.events.getDeliveryStats('late')).toMatchObject({ successful: 2, handled: 2, filtered: 1 });
    await node.shutdown();
  });

  describe('what waited behind a replay, once in the mailbox', () => {
    /**
     * Loads `late` after idle modules m1..m`idle`: NewBlock(0) in its hands until `first.open()`,
     * then the first ModuleLoaded of `holdAt` in its hands until `second.open()`.
     */
    async function twiceHeld(seed: number, idle: number, holdAt: string, options: { mailboxCapacity: number; membershipCapacity?: number }) {
      const { node, scheduler } = simNode(seed);
      await loadIdle(node, idle);
      const first = gate();
      const second = gate();
      let holding = true;
      const late = recorder('late', [EventType.NewBlock, EventType.ModuleUnloaded], {
        mailboxCapacity: options.mailboxCapacity,
        handle: (event) => {
          if (event.type === 'NewBlock' && event.payload.height === 0) return first.promise;
          if (holding && event.type === 'ModuleLoaded' && event.payload.moduleName === holdAt) {
            holding = false;
            return second.promise;
          }
          return undefined;
        },
      });
      await node.load(options.membershipCapacity === undefined ? late.module : defineModule({ ...late.module, membershipCapacity: options.membershipCapacity }));
      node.publisher.newBlock(hash(0), 0);
      await scheduler.runUntilIdle();
      return { node, scheduler, first, second, late };
    }

    it('holds a routine event that waited within the routine bound: the next ones fit only in what is left of it', async () => {
      const { node, scheduler, first, second, late } = await twiceHeld(310, 3, 'm2', { mailboxCapacity: 2 });
      await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1, m2 queued; m3 to replay
      expect(node.publisher.newBlock(hash(1), 1)).toMatchObject({ enqueued: 1 }); // waits
      first.open();
      await scheduler.runUntilIdle();
      // ModuleLoaded(m2) in hand; ModuleLoaded(m3) and NewBlock(1) queued: one routine place is left.
      expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)']);
      expect([2, 3].map((h) => node.publisher.newBlock(hash(h), h)).map((r) => [r.enqueued, r.dropped])).toEqual([
        [1, 0],
        [0, 1],
      ]);
      second.open();
      await scheduler.runUntilIdle();
      expect(late.seen.slice(3)).toEqual(['ModuleLoaded(m3)', 'NewBlock(1)', 'NewBlock(2)']);
      expect(await node.events.getDeliveryStats('late')).toMatchObject({ successful: 6, handled: 6, channelFull: 1 });
      await node.shutdown();
    });

    it('holds a membership event that waited past the routine bound: routine events still fit in the whole bound', async () => {
      const { node, scheduler, first, second, late } = await twiceHeld(311, 3, 'm2', { mailboxCapacity: 2 });
      await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1, m2 queued; m3 to replay
      await node.unload('m1'); // ModuleUnloaded(m1) waits
      first.open();
      await scheduler.runUntilIdle();
      // ModuleLoaded(m2) in hand; ModuleLoaded(m3) and ModuleUnloaded(m1) queued, in the reserve.
      expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)']);
      expect([1, 2].map((h) => node.publisher.newBlock(hash(h), h)).map((r) => [r.enqueued, r.dropped])).toEqual([
        [1, 0],
        [1, 0],
      ]);
      second.open();
      await scheduler.runUntilIdle();
      expect(late.seen.slice(3)).toEqual(['ModuleLoaded(m3)', 'ModuleUnloaded(m1)', 'NewBlock(1)', 'NewBlock(2)']);
      expect(await node.events.getDeliveryStats('late')).toMatchObject({ successful: 7, handled: 7, channelFull: 0 });
      await node.shutdown();
    });

    it('bounds membership events by the mailbox reserve again once everything that waited entered it: past it they are dropped', async () => {
      const { node, scheduler, first, second, late } = await twiceHeld(312, 3, 'm3', { mailboxCapacity: 3, membershipCapacity: 2 });
      await node.events.subscribe('late', [EventType.ModuleLoaded]); // m1, m2 queued (the reserve is 2); m3 to replay
      await node.unload('m1'); // waits
      await node.unload('m2'); // waits
      first.open();
      await scheduler.runUntilIdle();
      // ModuleLoaded(m3) in hand; both ModuleUnloaded queued: the reserve is full, nothing waits.
      expect(late.seen).toEqual(['NewBlock(0)', 'ModuleLoaded(m1)', 'ModuleLoaded(m2)', 'ModuleLoaded(m3)']);
      await node.unload('m3'); // no room in the reserve: dropped
      let stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
      expect(stats).toMatchObject({ channelFull: 1, membershipDropped: 1 });
      second.open();
      await scheduler.runUntilIdle();
      expect(late.seen.slice(4)).toEqual(['ModuleUnloaded(m1)', 'ModuleUnloaded(m2)']);
      stats = (await node.events.getDeliveryStats('late')) as DeliveryStats;
      expect(stats).toMatchObject({ successful: 6, handled: 6, channelFull: 1, membershipDropped: 1 });
      expect(offered(stats)).toBe(7);
      await node.shutdown();
    });
  });
});
