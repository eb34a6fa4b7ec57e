import { describe, expect, it } from 'vitest';
import { createActorSystem, createSimulatedScheduler, isModactorError, type ActorRef } from '../../src/index.js';
import { gate, memoryLogger, shutdown, simulated, tally } from './support.js';

describe('an actor mailbox', () => {
  it('takes 1 message in hand, queues 100 and drops 49 of 150 offers to a stuck actor, then handles 101', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const stuck = gate();
    let handled = 0;
    const ref = system.spawn<number>(
      async (n) => {
        if (n === 0) await stuck.promise;
        handled++;
      },
      { name: 'stuck' },
    );
    const first = ref.tell(0);
    await scheduler.runUntilIdle(); // message 0 leaves the queue and waits on the gate
    const rest = Array.from({ length: 149 }, (_, i) => ref.tell(i + 1));

    expect(first).toBe('enqueued');
    expect(tally(rest)).toEqual({ enqueued: 100, full: 49 });
    expect(rest.indexOf('full')).toBe(100); // the first 100 fit, every later one is dropped
    expect(system.deadLetterCounts()['mailbox-full']).toBe(49);

    stuck.open();
    await scheduler.runUntilIdle();
    expect(handled).toBe(101);
    expect(ref.tell(999)).toBe('enqueued'); // drained: accepting again
    await shutdown(sim);
  });

  it('uses the capacity given per actor, and the system default otherwise', async () => {
    const sim = simulated({ defaultMailboxCapacity: 3 });
    const { system } = sim;
    const small = system.spawn<number>(() => undefined, { name: 'small', mailboxCapacity: 1 });
    const byDefault = system.spawn<number>(() => undefined, { name: 'default' });
    expect(tally([1, 2].map((n) => small.tell(n)))).toEqual({ enqueued: 1, full: 1 });
    expect(tally([1, 2, 3, 4].map((n) => byDefault.tell(n)))).toEqual({ enqueued: 3, full: 1 });
    await shutdown(sim);
  });

  it('rejects an invalid capacity with invalid-capacity and leaves the name free', async () => {
    const sim = simulated();
    const { system } = sim;
    for (const capacity of [0, -5, 2.5, Number.NaN]) {
      expect(() => system.spawn(() => undefined, { name: 'x', mailboxCapacity: capacity })).toThrow(
        expect.objectContaining({ code: 'invalid-capacity' }),
      );
    }
    expect(() => system.spawn(() => undefined, { name: 'x', priorityCapacity: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid-capacity' }),
    );
    expect(() => createActorSystem({ defaultMailboxCapacity: 0 })).toThrow(expect.objectContaining({ code: 'invalid-capacity' }));
    // The failed spawns registered nothing: the name can be used.
    expect(system.spawn(() => undefined, { name: 'x' }).path).toBe('/x');
    await shutdown(sim);
  });

  it('gets a stop through a full mailbox, ahead of the queued messages', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const handled: number[] = [];
    const ref = system.spawn<number>((n) => void handled.push(n), { name: 'full', mailboxCapacity: 10 });
    const results = Array.from({ length: 11 }, (_, i) => ref.tell(i));
    expect(results[10]).toBe('full');

    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    expect(ref.isAlive).toBe(false);
    expect(handled).toEqual([]); // the system lane goes first
    expect(system.deadLetterCounts()['lost-on-termination']).toBe(10);
    await shutdown(sim);
  });

  it('gets a Terminated through a full mailbox, before the queued user messages', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const target = system.spawn(() => undefined, { name: 'target' });
    const log: string[] = [];
    const stuck = gate();
    const watcher = system.spawn<'hold' | number>(
      {
        onStart: (ctx) => ctx.watch(target),
        async receive(message) {
          if (message === 'hold') await stuck.promise;
          else log.push(`message ${message}`);
        },
        onTerminated: (ref) => void log.push(`terminated ${ref.path}`),
      },
      { name: 'watcher', mailboxCapacity: 5 },
    );
    watcher.tell('hold');
    await scheduler.runUntilIdle();
    const offers = [1, 2, 3, 4, 5, 6].map((n) => watcher.tell(n));
    expect(offers[5]).toBe('full');

    const stopped = system.stop(target);
    await scheduler.runUntilIdle();
    await stopped;
    expect(log).toEqual([]); // still holding the first message
    stuck.open();
    await scheduler.runUntilIdle();
    expect(log).toEqual(['terminated /target', 'message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
    await shutdown(sim);
  });

  it('handles priority messages before user messages, even when the user lane is full', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const handled: string[] = [];
    const ref: ActorRef<string> = system.spawn<string>((m) => void handled.push(m), {
      name: 'prio',
      mailboxCapacity: 3,
      priorityCapacity: 2,
    });
    expect(['u1', 'u2', 'u3', 'u4'].map((m) => ref.tell(m))).toEqual(['enqueued', 'enqueued', 'enqueued', 'full']);
    expect(['p1', 'p2', 'p3'].map((m) => ref.tellPriority(m))).toEqual(['enqueued', 'enqueued', 'full']);
    await scheduler.runUntilIdle();
    expect(handled).toEqual(['p1', 'p2', 'u1', 'u2', 'u3']);
    await shutdown(sim);
  });

  it('handles exactly what it was sent once its priority lane has been used and emptied (many messages per turn)', async () => {
    // A turn of up to 32 messages, as the real scheduler gives: an emptied lane must end the turn.
    const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false, throughput: 32 });
    const sim = { scheduler, system: createActorSystem({ scheduler }) };
    const { system } = sim;
    const handled: string[] = [];
    const ref: ActorRef<string> = system.spawn<string>((m) => void handled.push(m), { name: 'once-priority' });
    ref.tellPriority('p1');
    await scheduler.runUntilIdle();
    ref.tell('u1');
    await scheduler.runUntilIdle();
    ref.tellPriority('p2');
    ref.tell('u2');
    await scheduler.runUntilIdle();
    expect(handled).toEqual(['p1', 'u1', 'p2', 'u2']);
    await shutdown(sim);
  });

  it('logs the first drop and the recovery, not every dropped message', async () => {
    const { logger, lines } = memoryLogger('info');
    const sim = simulated({ logger });
    const { scheduler, system } = sim;
    const ref = system.spawn<number>(() => undefined, { name: 'slow', mailboxCapacity: 2 });
    for (let i = 0; i < 50; i++) ref.tell(i);
    await scheduler.runUntilIdle();
    ref.tell(50);
    const messages = lines.map((l) => `${String(l.actor)} ${String(l.msg)}`);
    expect(messages).toEqual([
      '/slow mailbox full: dropping messages until it drains',
      '/slow mailbox drained: accepting messages again',
    ]);
    expect(lines[1]?.dropped).toBe(48);
    await shutdown(sim);
  });

  it('answers closed to an offer to a terminated actor, without throwing', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const ref = system.spawn<number>(() => undefined, { name: 'gone' });
    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    expect(ref.tell(1)).toBe('closed');
    expect(ref.tellPriority(2)).toBe('closed');
    expect(isModactorError(new Error('x'))).toBe(false);
    await shutdown(sim);
  });
});
