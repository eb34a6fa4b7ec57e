import { describe, expect, it } from 'vitest';
import { describeExit, type Behavior, type Failure } from '../../src/index.js';
import { memoryLogger, shutdown, simulated } from './support.js';

/** Spawns `behavior` under a root that records every failure and restarts, sends it 'go'. */
async function failuresOf(behavior: Behavior<'go'>): Promise<Failure[]> {
  const failures: Failure[] = [];
  const sim = simulated({
    supervision: {
      maxRestarts: 1,
      decide: (failure) => {
        failures.push(failure);
        return 'stop';
      },
    },
  });
  const ref = sim.system.spawn(behavior, { name: 'subject' });
  ref.tell('go');
  await sim.scheduler.runUntilIdle();
  await shutdown(sim);
  return failures;
}

describe('failures', () => {
  it('turns a synchronous throw into a thrown failure carrying the error', async () => {
    const error = new Error('sync');
    const failures = await failuresOf(() => {
      throw error;
    });
    expect(failures).toEqual([{ kind: 'thrown', message: 'sync', error }]);
  });

  it('turns a rejected promise into a rejected failure, like a throw', async () => {
    const error = new Error('async');
    const failures = await failuresOf(async () => {
      await Promise.resolve();
      throw error;
    });
    expect(failures).toEqual([{ kind: 'rejected', message: 'async', error }]);
  });

  it('describes a thrown non-Error value by its string form', async () => {
    const failures = await failuresOf(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw 'plain string';
    });
    expect(failures).toEqual([{ kind: 'thrown', message: 'plain string', error: 'plain string' }]);
  });

  it('treats a throw in onStart, in the factory and a rejection in onTerminated as failures', async () => {
    expect(
      (await failuresOf({ receive: () => undefined, onStart: () => { throw new Error('start'); } })).map((f) => f.message),
    ).toEqual(['start']);
    expect(
      (
        await failuresOf({
          create: () => {
            throw new Error('create');
          },
        })
      ).map((f) => f.message),
    ).toEqual(['create']);

    const failures: Failure[] = [];
    const sim = simulated({ supervision: { decide: (f) => (failures.push(f), 'stop') } });
    const target = sim.system.spawn(() => undefined, { name: 'target' });
    sim.system.spawn<never>(
      {
        onStart: (ctx) => ctx.watch(target),
        receive: () => undefined,
        onTerminated: () => Promise.reject(new Error('terminated hook')),
      },
      { name: 'watcher' },
    );
    await sim.scheduler.runUntilIdle();
    const stopped = sim.system.stop(target);
    await sim.scheduler.runUntilIdle();
    await stopped;
    expect(failures).toMatchObject([{ kind: 'rejected', message: 'terminated hook' }]);
    await shutdown(sim);
  });

  it('logs an onStop failure and still terminates', async () => {
    const sim = simulated();
    const ref = sim.system.spawn<never>(
      {
        receive: () => undefined,
        onStop: () => {
          throw new Error('cleanup failed');
        },
      },
      { name: 'sloppy' },
    );
    await sim.scheduler.runUntilIdle();
    await shutdown(sim);
    expect(await sim.system.whenTerminated(ref)).toEqual({ kind: 'stopped' });
  });
});

describe('who logs a failure', () => {
  async function failLogged(supervision: { logFailures?: boolean }): Promise<Record<string, unknown>[]> {
    const { logger, lines } = memoryLogger();
    const sim = simulated({ logger });
    const parent = sim.system.spawn<'go'>(
      {
        create(ctx) {
          const child = ctx.spawn<'go'>(() => {
            throw new TypeError('broken');
          }, { name: 'child' });
          return { receive: (m) => void child.tell(m) };
        },
      },
      { name: 'parent', supervision: { ...supervision, decide: () => 'resume' } },
    );
    parent.tell('go');
    await sim.scheduler.runUntilIdle();
    await shutdown(sim);
    return lines.filter((line) => line.msg === 'actor failed');
  }

  it('the failing child, at error with the error and its kind, by default', async () => {
    const logged = await failLogged({});
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, kind: 'thrown', err: { type: 'TypeError', message: 'broken' } });
  });

  it('nobody in the kernel when its supervisor says it reports failures itself (logFailures: false)', async () => {
    expect(await failLogged({ logFailures: false })).toEqual([]);
    expect(await failLogged({ logFailures: true })).toHaveLength(1);
  });
});

describe('describeExit', () => {
  it('is the kind of a clean exit, and the kind with the failure message otherwise', () => {
    const failure: Failure = { kind: 'thrown', message: 'boom', error: new Error('boom') };
    expect(describeExit({ kind: 'normal' })).toBe('normal');
    expect(describeExit({ kind: 'stopped' })).toBe('stopped');
    expect(describeExit({ kind: 'failed', failure })).toBe('failed: boom');
    expect(describeExit({ kind: 'killed', failure: { kind: 'stop-timeout', message: 'did not stop within 100 ms', timeoutMs: 100 } })).toBe(
      'killed: did not stop within 100 ms',
    );
  });
});
