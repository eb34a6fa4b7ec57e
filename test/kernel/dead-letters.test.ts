import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeadLetter } from '../../src/index.js';
import { gate, memoryLogger, shutdown, simulated } from './support.js';

describe('dead letters', () => {
  it('counts and publishes each undeliverable message with recipient, message and reason', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const letters: DeadLetter[] = [];
    const unsubscribe = system.onDeadLetter((letter) => letters.push(letter));
    const hold = gate();
    const ref = system.spawn<string>(() => hold.promise, { name: 'slow', mailboxCapacity: 1 });
    ref.tell('in hand');
    await scheduler.runUntilIdle();
    ref.tell('queued');
    ref.tell('dropped');
    const stopped = system.stop(ref);
    hold.open();
    await scheduler.runUntilIdle();
    await stopped;
    ref.tell('too late');

    expect(letters).toEqual([
      { sender: null, recipient: '/slow', message: 'dropped', reason: 'mailbox-full' },
      { sender: null, recipient: '/slow', message: 'queued', reason: 'lost-on-termination' },
      { sender: null, recipient: '/slow', message: 'too late', reason: 'closed' },
    ]);
    expect(system.deadLetterCounts()).toEqual({ 'mailbox-full': 1, closed: 1, 'lost-on-termination': 1 });

    unsubscribe();
    ref.tell('unobserved');
    expect(letters).toHaveLength(3);
    expect(system.deadLetterCounts().closed).toBe(2);
    await shutdown(sim);
  });

  it('names the sender given to tell in the dead letter', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const letters: DeadLetter[] = [];
    system.onDeadLetter((letter) => letters.push(letter));
    const full = system.spawn<string>(() => undefined, { name: 'full', mailboxCapacity: 1 });
    system.spawn<string>(
      (m, ctx) => {
        full.tell(m, ctx.self);
        full.tell(m, ctx.self);
      },
      { name: 'sender' },
    ).tell('twice');
    await scheduler.runUntilIdle({ maxTurns: 2 }); // the sender's start and message, not full's turn
    expect(letters).toEqual([{ sender: '/sender', recipient: '/full', message: 'twice', reason: 'mailbox-full' }]);
    await shutdown(sim);
  });

  it('rate-limits the dead-letter log to one summary line per interval', async () => {
    const { logger, lines } = memoryLogger('warn');
    const sim = simulated({ logger, deadLetterLogIntervalMs: 1000 });
    const { scheduler, system } = sim;
    const ref = system.spawn<number>(() => undefined, { name: 'gone' });
    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    for (let i = 0; i < 10; i++) ref.tell(i);
    await scheduler.advanceBy(999);
    for (let i = 0; i < 10; i++) ref.tell(i);
    await scheduler.advanceBy(1);
    ref.tell(99);
    const summaries = lines.filter((l) => l.msg === 'dead letters');
    expect(summaries.map((l) => [l.deadLetters, l.lastRecipient, l.lastReason])).toEqual([
      [1, '/gone', 'closed'],
      [20, '/gone', 'closed'],
    ]);
    await shutdown(sim);
  });

  it('logs the letters to closed or terminated actors at most once a second by default; a full mailbox says it itself', async () => {
    const { logger, lines } = memoryLogger('warn');
    const sim = simulated({ logger });
    const { scheduler, system } = sim;
    const letters: string[] = [];
    system.onDeadLetter((letter) => letters.push(`${letter.reason} ${letter.recipient}`));
    const full = system.spawn<number>(() => undefined, { name: 'full', mailboxCapacity: 1 });
    full.tell(1);
    full.tell(2); // dropped: the mailbox warns, the dead-letter line does not
    const gone = system.spawn<number>(() => undefined, { name: 'gone' });
    const stopped = system.stop(gone);
    await scheduler.runUntilIdle();
    await stopped;
    gone.tell(1);
    gone.tell(2);
    await scheduler.advanceBy(999);
    gone.tell(3);
    await scheduler.advanceBy(1);
    gone.tell(4);
    expect(lines.map((l) => [l.msg, l.deadLetters, l.lastRecipient])).toEqual([
      ['mailbox full: dropping messages until it drains', undefined, undefined],
      ['dead letters', 1, '/gone'],
      ['dead letters', 3, '/gone'],
    ]);
    expect(letters).toEqual(['mailbox-full /full', 'closed /gone', 'closed /gone', 'closed /gone', 'closed /gone']);
    await shutdown(sim);
  });
});

describe('a dead-letter observer that throws', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not keep the others from being told: its error is thrown again on a macrotask of its own', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const sim = simulated();
    const { scheduler, system } = sim;
    const told: unknown[] = [];
    system.onDeadLetter(() => {
      throw new Error('observer broke');
    });
    system.onDeadLetter((letter) => told.push(letter.message));
    const gone = system.spawn<number>(() => undefined, { name: 'gone' });
    const stopped = system.stop(gone);
    await scheduler.runUntilIdle();
    await stopped;
    gone.tell(1);
    expect(told).toEqual([1]);
    expect(() => vi.runOnlyPendingTimers()).toThrow('observer broke');
    await shutdown(sim);
  });
});
