/**
 * Foreign values: whatever a handler throws or rejects with, the failure is described without
 * throwing, the actor is restarted by its supervisor and the system keeps running.
 */
import { describe, expect, it } from 'vitest';
import { describeThrown, errorForLog, MAX_FAILURE_MESSAGE } from '../../src/kernel/foreign.js';
import type { Failure } from '../../src/index.js';
import { memoryLogger, shutdown, simulated } from './support.js';

/** Values a careless or hostile module may throw; each would break a naive `String(error)`. */
function hostileValues(): [string, () => unknown][] {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    ['a null-prototype object', () => Object.create(null) as unknown],
    ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } })],
    ['an object whose toString returns an object', () => ({ toString: () => ({}) })],
    [
      'an Error whose message getter throws',
      () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('getter'); } }),
    ],
    ['an Error whose message is a symbol', () => Object.defineProperty(new Error('x'), 'message', { value: Symbol('m') })],
    ['a revoked proxy', () => revoked.proxy],
    ['a proxy whose every trap throws', () => new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } })],
    ['a symbol', () => Symbol('thrown')],
    ['undefined', () => undefined],
    ['a BigInt', () => 10n],
    ['a huge string', () => 'x'.repeat(1_000_000)],
  ];
}

describe('describing a thrown value', () => {
  it.each(hostileValues())('never throws for %s, and stays within the length cap', (_label, make) => {
    const value = make();
    const text = describeThrown(value);
    expect(typeof text).toBe('string');
    expect(text.length).toBeLessThanOrEqual(MAX_FAILURE_MESSAGE);
    const logged = errorForLog(value);
    expect(typeof logged.message).toBe('string');
    expect(() => JSON.stringify(logged)).not.toThrow();
  });

  it('keeps an ordinary Error readable: its message, its type and its stack for the log', () => {
    const error = new TypeError('bad input');
    expect(describeThrown(error)).toBe('bad input');
    const logged = errorForLog(error);
    expect(logged).toMatchObject({ name: 'TypeError', message: 'bad input', stack: expect.stringContaining('TypeError: bad input') as string });
    // pino logs it as { type, message, stack }: the type from its name, not "Object".
    const { logger, lines } = memoryLogger();
    logger.error({ err: logged }, 'failed');
    expect(lines[0]?.err).toEqual({ type: 'TypeError', message: 'bad input', stack: logged.stack });
  });
});

describe('an actor that throws a foreign value', () => {
  it.each(hostileValues())('fails with a described failure and is restarted when it throws %s', async (_label, make) => {
    const failures: Failure[] = [];
    const { logger, lines } = memoryLogger();
    const sim = simulated({ logger, supervision: { maxRestarts: 10, decide: (failure) => (failures.push(failure), 'restart') } });
    let starts = 0;
    const ref = sim.system.spawn<'go' | 'ok'>(
      {
        create: () => {
          starts++;
          return {
            receive(message) {
              if (message === 'go') throw make();
            },
          };
        },
      },
      { name: 'subject' },
    );
    ref.tell('go');
    await sim.scheduler.runUntilIdle();
    expect(failures).toHaveLength(1);
    expect(typeof failures[0]?.message).toBe('string');
    expect(starts).toBe(2);
    expect(sim.system.lookup('/subject')?.isAlive).toBe(true);
    const failed = lines.find((line) => line.msg === 'actor failed');
    expect(failed?.err).toMatchObject({ message: failures[0]?.message });
    await shutdown(sim);
  });

  it('also when the value is rejected by an async handler', async () => {
    const failures: Failure[] = [];
    const sim = simulated({ supervision: { decide: (failure) => (failures.push(failure), 'stop') } });
    const ref = sim.system.spawn<'go'>(async () => {
      await Promise.resolve();
      throw Object.create(null);
    });
    ref.tell('go');
    await sim.scheduler.runUntilIdle();
    expect(failures).toEqual([{ kind: 'rejected', message: 'a thrown object with no string form', error: expect.anything() as unknown }]);
    await shutdown(sim);
  });
});

describe('crash(error)', () => {
  it('fails the actor in its next turn, before its queued user messages, as if its handler had thrown', async () => {
    const failures: Failure[] = [];
    const sim = simulated({ supervision: { decide: (failure) => (failures.push(failure), 'restart') } });
    const seen: string[] = [];
    let incarnation = 0;
    const ref = sim.system.spawn<string>({
      create: (ctx) => {
        const mine = ++incarnation;
        return {
          receive(message) {
            seen.push(`${mine}:${message}`);
            if (message === 'crash-me') ctx.crash(new Error('checked outside'));
          },
        };
      },
    });
    ref.tell('crash-me');
    ref.tell('after');
    await sim.scheduler.runUntilIdle();
    expect(failures.map((f) => f.message)).toEqual(['checked outside']);
    // 'after' was queued in the failed incarnation's mailbox: a restart gives a fresh mailbox.
    expect(seen).toEqual(['1:crash-me']);
    await shutdown(sim);
  });
});

describe('stop with a timeout of the caller', () => {
  it('kills a child that does not stop within the given time, whatever its own timeout', async () => {
    const sim = simulated();
    const parent = sim.system.spawn<'stop-child'>({
      create: (ctx) => {
        const child = ctx.spawn({ receive: () => undefined, onStop: () => new Promise<void>(() => undefined) }, { name: 'stuck', shutdownTimeoutMs: 60_000 });
        return {
          receive: () => {
            void ctx.stop(child, 100);
          },
        };
      },
    }, { name: 'parent' });
    await sim.scheduler.runUntilIdle();
    const child = sim.system.lookup('/parent/stuck');
    expect(child).toBeDefined();
    parent.tell('stop-child');
    await sim.scheduler.runUntilIdle();
    await sim.scheduler.advanceBy(99);
    expect(child?.isAlive).toBe(true);
    await sim.scheduler.advanceBy(1);
    expect(child?.isAlive).toBe(false);
    expect(await sim.system.whenTerminated(child as never)).toMatchObject({ kind: 'killed' });
    await shutdown(sim);
  });
});

describe('the mailbox-full warning', () => {
  it('is said once per run of drops at most every 10 s per actor, with the runs it stands for; never once per drop', async () => {
    const { logger, lines } = memoryLogger();
    const sim = simulated({ logger });
    let release: (() => void) | null = null;
    const ref = sim.system.spawn<number>(() => new Promise<void>((resolve) => (release = resolve)), { name: 'slow', mailboxCapacity: 2 });
    const flood = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) ref.tell(i); // offered before it runs: 2 queued, 8 dropped
      await sim.scheduler.runUntilIdle();
      for (let i = 0; i < 3; i++) {
        release?.();
        await sim.scheduler.runUntilIdle();
      }
    };
    await flood(); // run 1: warned
    await flood(); // run 2: within 10 s, silent
    await sim.scheduler.advanceBy(10_000);
    await flood(); // run 3: warned, standing for runs 2 and 3
    const warnings = lines.filter((line) => line.msg === 'mailbox full: dropping messages until it drains');
    expect(warnings.map((w) => w.runs)).toEqual([1, 2]);
    expect(sim.system.deadLetterCounts()['mailbox-full']).toBe(24);
    await shutdown(sim);
  });
});

describe('what describeThrown and errorForLog say', () => {
  const unreadable = (error: Error, fields: readonly string[]): Error => {
    for (const field of fields) {
      Object.defineProperty(error, field, {
        get: () => {
          throw new Error('unreadable');
        },
      });
    }
    return error;
  };

  it.each<[string, unknown, string]>([
    ['a string', 'boom', 'boom'],
    ['a string at the cap', 'x'.repeat(MAX_FAILURE_MESSAGE), 'x'.repeat(MAX_FAILURE_MESSAGE)],
    ['a string past the cap', 'x'.repeat(MAX_FAILURE_MESSAGE + 1), `${'x'.repeat(MAX_FAILURE_MESSAGE - 3)}...`],
    ['a number', 42, '42'],
    ['a boolean', true, 'true'],
    ['a BigInt', 10n, '10'],
    ['undefined', undefined, 'undefined'],
    ['a symbol', Symbol('s'), 'Symbol(s)'],
    ['null', null, 'null'],
    ['an Error', new Error('boom'), 'boom'],
    ['an Error whose message cannot be read', unreadable(new TypeError('x'), ['message']), 'TypeError with no readable message'],
    ['an Error whose message and name cannot be read', unreadable(new Error('x'), ['message', 'name']), 'an Error with no readable message'],
    ['an object with its own string form', { toString: () => 'custom' }, 'custom'],
    ['an object with no string form', Object.create(null) as unknown, 'a thrown object with no string form'],
  ])('describeThrown of %s', (_label, value, expected) => {
    expect(describeThrown(value)).toBe(expected);
  });

  it('errorForLog: the type, the message and the stack (capped) of an Error; the type of anything else; nothing undefined', () => {
    const typeError = new TypeError('bad');
    expect({ ...errorForLog(typeError) }).toEqual({ message: 'bad', stack: typeError.stack });
    expect(errorForLog(typeError).name).toBe('TypeError');
    expect(errorForLog(unreadable(new Error('x'), ['name'])).name).toBe('Error');

    const deep = new Error('deep');
    deep.stack = 's'.repeat(20 * MAX_FAILURE_MESSAGE);
    expect(errorForLog(deep).stack).toBe('s'.repeat(16 * MAX_FAILURE_MESSAGE));

    for (const [value, type, message] of [
      ['boom', 'string', 'boom'],
      [null, 'null', 'null'],
      [7, 'number', '7'],
    ] as const) {
      const logged = errorForLog(value);
      expect([logged.name, Object.keys(logged), logged.message]).toEqual([type, ['message'], message]);
    }
  });
});

describe('a symbol whose toString throws', () => {
  it('is described as a symbol, without throwing', () => {
    const toString = Object.getOwnPropertyDescriptor(Symbol.prototype, 'toString') as PropertyDescriptor;
    Object.defineProperty(Symbol.prototype, 'toString', {
      ...toString,
      value: () => {
        throw new Error('patched');
      },
    });
    try {
      expect(describeThrown(Symbol('s'))).toBe('a symbol');
    } finally {
      Object.defineProperty(Symbol.prototype, 'toString', toString);
    }
    expect(describeThrown(Symbol('s'))).toBe('Symbol(s)');
  });
});

describe('what a handler returns, from JavaScript that the types do not hold', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['an object that is not a thenable', { then: 'not a function' }],
    ['a plain object', {}],
  ])('is not awaited when it is %s: the message is handled at once', async (_label, returned) => {
    const sim = simulated();
    const handled: number[] = [];
    const failures: Failure[] = [];
    sim.system.inspect((event) => {
      if (event.type === 'failed') failures.push(event.failure);
    });
    const ref = sim.system.spawn<number>(
      (n) => {
        handled.push(n);
        return returned as void;
      },
      { name: 'untyped' },
    );
    ref.tell(1);
    ref.tell(2);
    await sim.scheduler.runUntilIdle();
    expect([handled, failures, ref.isAlive]).toEqual([[1, 2], [], true]);
    await shutdown(sim);
  });

  it('is awaited when it is a thenable that is not a promise', async () => {
    const sim = simulated();
    const trace: string[] = [];
    let settle!: () => void;
    const ref = sim.system.spawn<number>(
      (n) => {
        trace.push(`start ${n}`);
        return { then: (resolve: () => void) => (settle = () => (trace.push(`end ${n}`), resolve())) } as unknown as Promise<void>;
      },
      { name: 'thenable' },
    );
    ref.tell(1);
    ref.tell(2);
    await sim.scheduler.runUntilIdle();
    expect(trace).toEqual(['start 1']);
    settle();
    await sim.scheduler.runUntilIdle();
    expect(trace).toEqual(['start 1', 'end 1', 'start 2']);
    settle();
    await shutdown(sim);
  });
});
