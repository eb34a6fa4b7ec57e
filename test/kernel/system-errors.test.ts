/**
 * What the actor system answers to bad input and failed asks: the typed error, and a message that
 * says which actor or option it is about ("expected X, got Y").
 */
import { describe, expect, it } from 'vitest';
import { createActorSystem, isModactorError, type ActorRef, type DeadLetter } from '../../src/index.js';
import { gate, outcome, refusal, shutdown, simulated } from './support.js';

/** The code and message of the ModactorError `promise` is rejected with (handled from now on). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const result = await outcome(promise);
  if (result.ok || !isModactorError(result.error)) throw new Error('expected a rejection with a ModactorError');
  return `${result.error.code}: ${result.error.message}`;
}

describe('the actor system refuses', () => {
  it('a default mailbox capacity that is not a positive safe integer, naming the option', () => {
    for (const capacity of [0, 1.5]) {
      const error = refusal(() => createActorSystem({ defaultMailboxCapacity: capacity }));
      expect(`${error.code}: ${error.message}`).toBe(
        `invalid-capacity: Expected defaultMailboxCapacity to be a positive safe integer, got ${capacity}`,
      );
    }
  });

  it('accepts a default mailbox capacity of 1', async () => {
    const sim = simulated({ defaultMailboxCapacity: 1 });
    const ref = sim.system.spawn<number>(() => undefined, { name: 'one' });
    expect([ref.tell(1), ref.tell(2)]).toEqual(['enqueued', 'full']);
    await shutdown(sim);
  });

  it('a ref of another system or no ref at all, saying what it got', async () => {
    const sim = simulated();
    const other = simulated();
    const foreign = other.system.spawn(() => undefined, { name: 'elsewhere' });
    expect(await rejection(sim.system.stop(foreign))).toBe('unknown-actor: Expected an actor of this system, got a ref to /elsewhere');
    for (const notARef of [null, 42, 'x', { name: 'x' }]) {
      expect(await rejection(sim.system.stop(notARef as unknown as ActorRef<never>))).toBe(
        'unknown-actor: Expected an actor of this system, got something that is not an actor ref',
      );
    }
    await shutdown(sim);
    await shutdown(other);
  });

  it('a spawn after shutdown, with system-stopped', async () => {
    const sim = simulated();
    await shutdown(sim);
    const error = refusal(() => sim.system.spawn(() => undefined, { name: 'late' }));
    expect(`${error.code}: ${error.message}`).toBe('system-stopped: Cannot spawn: the actor system is shut down');
  });

  it('to look up a path that does not start with /', async () => {
    const sim = simulated();
    const ref = sim.system.spawn(() => undefined, { name: 'b' });
    expect(sim.system.lookup('/b')).toBe(ref);
    expect(sim.system.lookup('xb')).toBeUndefined();
    expect(sim.system.lookup('b')).toBeUndefined();
    await shutdown(sim);
  });
});

describe('a failed ask says why', () => {
  it('a full mailbox, a terminated actor, no reply in time, and a termination before the reply', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const held = gate();
    const stuck = system.spawn<unknown>(() => held.promise, { name: 'stuck', mailboxCapacity: 1 });
    stuck.tell('in hand');
    await scheduler.runUntilIdle();
    stuck.tell('queued');
    expect(await rejection(system.ask(stuck, () => 'one more'))).toBe('mailbox-full: Mailbox of /stuck is full');

    const silent = system.spawn<unknown>(() => undefined, { name: 'silent' });
    const late = rejection(system.ask(silent, () => 'hello?', { timeoutMs: 100 }));
    await scheduler.advanceBy(100);
    expect(await late).toBe('ask-timeout: No reply from /silent within 100 ms');

    const leaving = rejection(system.ask(silent, () => 'hello?'));
    const stopped = system.stop(silent);
    await scheduler.runUntilIdle();
    await stopped;
    expect(await leaving).toBe('actor-terminated: /silent terminated before replying (stopped)');
    expect(await rejection(system.ask(silent, () => 'anyone?'))).toBe('actor-terminated: /silent is terminated');

    held.open();
    await shutdown(sim);
  });
});

describe('dead-letter observers', () => {
  it('keep being told when another one leaves', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const first: DeadLetter[] = [];
    const second: DeadLetter[] = [];
    const leaveFirst = system.onDeadLetter((letter) => first.push(letter));
    system.onDeadLetter((letter) => second.push(letter));
    const gone = system.spawn<number>(() => undefined, { name: 'gone' });
    const stopped = system.stop(gone);
    await scheduler.runUntilIdle();
    await stopped;
    gone.tell(1);
    leaveFirst();
    gone.tell(2);
    expect(first.map((l) => l.message)).toEqual([1]);
    expect(second.map((l) => l.message)).toEqual([1, 2]);
    await shutdown(sim);
  });
});

describe('a system given no logger', () => {
  it('logs nothing: its logger is silent', async () => {
    const system = createActorSystem();
    expect(system.logger.level).toBe('silent');
    expect(system.logger.isLevelEnabled('error')).toBe(false);
    await system.shutdown();
  });
});
