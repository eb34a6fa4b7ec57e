/**
 * Spawn, supervisor, restart-window and backoff options are parsed by the validation vocabulary:
 * every bad field named by path in one typed error, unknown fields refused, a frozen copy kept.
 */
import { describe, expect, it } from 'vitest';
import { createActorSystem, type SpawnOptions } from '../../src/index.js';
import { Backoff, RestartWindow } from '../../src/kernel/supervision.js';
import { refusal, shutdown, simulated } from './support.js';

describe('spawn options', () => {
  it('names every bad field at once, by path, with expected and got', async () => {
    const sim = simulated();
    const options = {
      restart: 'sometimes',
      shutdownTimeoutMs: Number.POSITIVE_INFINITY,
      supervision: { maxRestarts: -1, withinMs: 0, backoff: { minMs: 100, maxMs: 10, jitter: 2 } },
    } as unknown as SpawnOptions;
    const error = refusal(() => sim.system.spawn(() => undefined, options));
    expect(error.code).toBe('invalid-argument');
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'restart: expected one of "permanent", "transient", "temporary", got string "sometimes"',
      'shutdownTimeoutMs: expected a finite number >= 0, got number Infinity',
      'supervision.maxRestarts: expected a non-negative safe integer, got number -1',
      'supervision.withinMs: expected a finite number > 0, got number 0',
      'supervision.backoff.jitter: expected a number from 0 to 1, got number 2',
    ]);
    expect(error.message).toBe(
      'Invalid spawn options: restart: expected one of "permanent", "transient", "temporary", got string "sometimes" (and 4 more)',
    );
    await shutdown(sim);
  });

  it('refuses a name or a capacity of the wrong type as invalid-argument, naming the field', async () => {
    const sim = simulated();
    const refused = (options: unknown): string[] => {
      const error = refusal(() => sim.system.spawn(() => undefined, options as SpawnOptions));
      expect(error.code).toBe('invalid-argument');
      return error.issues.map((i) => i.path);
    };
    expect(refused({ name: ['a'] })).toEqual(['name']);
    expect(refused({ mailboxCapacity: '5' })).toEqual(['mailboxCapacity']);
    await shutdown(sim);
  });

  it('refuses an unknown field, so a typo does not pass silently', async () => {
    const sim = simulated();
    const error = refusal(() => sim.system.spawn(() => undefined, { name: 'a', mailboxCapacty: 5 } as SpawnOptions));
    const fields = 'name, mailboxCapacity, priorityCapacity, reserveCapacity, logBindings, restart, restartLimit, shutdownTimeoutMs, supervision';
    expect(error.issues).toEqual([
      {
        path: 'mailboxCapacty',
        expected: `only the fields ${fields}`,
        got: 'an unknown field',
        message: `expected only the fields ${fields}, got an unknown field`,
      },
    ]);
    expect(sim.system.lookup('/a')).toBeUndefined();
    await shutdown(sim);
  });

  it('keeps a parsed copy: changing the options object after spawning changes nothing', async () => {
    const sim = simulated();
    const supervision = { maxRestarts: 0, withinMs: 1000 };
    const parent = sim.system.spawn<'crash'>(
      {
        create: () => ({
          onStart: (ctx) => {
            ctx.spawn<'boom'>(() => {
              throw new Error('boom');
            }, { name: 'child' }).tell('boom');
          },
          receive: () => undefined,
        }),
      },
      { name: 'parent', supervision },
    );
    supervision.maxRestarts = 1_000;
    await sim.scheduler.runUntilIdle();
    // maxRestarts 0, as spawned: the child's first failure exceeds the intensity and the parent fails.
    expect(parent.isAlive).toBe(false);
    await shutdown(sim);
  });

  it('refuses bad supervisor options of the system itself', () => {
    const error = refusal(() => createActorSystem({ supervision: { strategy: 'all-for-none' as never, decide: 3 as never } }));
    expect(error.issues.map((i) => i.path)).toEqual(['supervision.strategy', 'supervision.decide']);
  });
});

describe('RestartWindow and Backoff', () => {
  it('say what they refused, with invalid-argument', () => {
    const refusals = [
      () => createActorSystem({ supervision: { maxRestarts: -1 } }),
      () => new RestartWindow(1.5, 1000),
      () => new Backoff({ minMs: -1, maxMs: 5 }),
    ].map(refusal);
    expect(refusals.map((e) => e.code)).toEqual(['invalid-argument', 'invalid-argument', 'invalid-argument']);
    expect(refusals.map((e) => e.message)).toEqual([
      'Invalid supervisor options: supervision.maxRestarts: expected a non-negative safe integer, got number -1',
      'Invalid restart intensity: maxRestarts: expected a non-negative safe integer, got number 1.5',
      'Invalid backoff options: backoff.minMs: expected a finite number >= 0, got number -1',
    ]);
  });

  it('name the bad field', () => {
    expect(refusal(() => new RestartWindow(1.5, 1000)).issues.map((i) => i.path)).toEqual(['maxRestarts']);
    expect(refusal(() => new RestartWindow(1, Number.POSITIVE_INFINITY)).issues.map((i) => i.path)).toEqual(['withinMs']);
    const backoff = refusal(() => new Backoff({ minMs: 10, maxMs: 5, factor: 0.5, resetAfterMs: -1 }));
    expect(backoff.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'backoff.factor: expected a finite number >= 1, got number 0.5',
      'backoff.resetAfterMs: expected a finite number >= 0, got number -1',
    ]);
    expect(refusal(() => new Backoff({ minMs: 10, maxMs: 5 })).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'backoff.maxMs: expected a finite number >= minMs (10), got number 5',
    ]);
    expect(refusal(() => new Backoff({ minMs: 1, maxMs: 5, extra: 1 } as never)).issues.map((i) => i.path)).toEqual(['backoff.extra']);
  });
});
