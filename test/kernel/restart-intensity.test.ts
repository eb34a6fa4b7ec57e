import { describe, expect, it } from 'vitest';
import type { ActorRef, Failure } from '../../src/index.js';
import { RestartWindow } from '../../src/kernel/supervision.js';
import { memoryLogger, shutdown, simulated } from './support.js';

describe('RestartWindow', () => {
  it('allows maxRestarts restarts within withinMs and refuses one more', () => {
    const window = new RestartWindow(2, 1000);
    expect([window.tryRecord(0), window.tryRecord(10), window.tryRecord(20)]).toEqual([true, true, false]);
  });

  it('slides: a restart older than withinMs no longer counts', () => {
    const window = new RestartWindow(2, 1000);
    expect(window.tryRecord(0)).toBe(true);
    expect(window.tryRecord(500)).toBe(true);
    expect(window.tryRecord(999)).toBe(false);
    expect(window.tryRecord(1000)).toBe(true); // the one at 0 left the window (1000 - 1000, 1000]
    expect(window.tryRecord(1499)).toBe(false);
    expect(window.tryRecord(1500)).toBe(true);
  });

  it('rejects a negative maxRestarts or a non-positive window with invalid-argument', () => {
    expect(() => new RestartWindow(-1, 1000)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => new RestartWindow(1, 0)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('restart intensity', () => {
  async function supervised(maxRestarts: number, withinMs: number) {
    const sim = simulated();
    const { scheduler, system } = sim;
    const stops: string[] = [];
    const escalated: Failure[] = [];
    system.spawn<never>(
      {
        onStart: (ctx) =>
          void ctx.spawn<never>(
            {
              onStart: (c) => {
                for (const name of ['a', 'b', 'c']) {
                  c.spawn<'boom'>(
                    {
                      receive: () => {
                        throw new Error(`${name} broke`);
                      },
                      onStop: () => void stops.push(name),
                    },
                    { name },
                  );
                }
              },
              receive: () => undefined,
              onStop: () => void stops.push('sup'),
            },
            { name: 'sup', supervision: { maxRestarts, withinMs } },
          ),
        receive: () => undefined,
      },
      {
        name: 'top',
        supervision: {
          decide: (failure) => {
            escalated.push(failure);
            return 'stop';
          },
        },
      },
    );
    await scheduler.runUntilIdle();
    const crash = async (name: string): Promise<void> => {
      system.lookup<'boom'>(`/top/sup/${name}`)?.tell('boom');
      await scheduler.runUntilIdle();
    };
    return { sim, stops, escalated, crash };
  }

  it('stops the children in reverse start order and escalates intensity-exceeded to the parent', async () => {
    const { sim, stops, escalated, crash } = await supervised(2, 1000);
    await crash('a');
    await crash('a');
    expect(escalated).toEqual([]);
    stops.length = 0;
    const failed = sim.system.lookup('/top/sup/a');
    const sibling = sim.system.lookup('/top/sup/b');
    await crash('a'); // the third restart within 1000 ms is one too many
    expect(stops).toEqual(['c', 'b', 'a', 'sup']);
    // The failed child ends with its failure, its siblings as stopped.
    expect(await sim.system.whenTerminated(failed as ActorRef<unknown>)).toMatchObject({ kind: 'failed', failure: { message: 'a broke' } });
    expect(await sim.system.whenTerminated(sibling as ActorRef<unknown>)).toEqual({ kind: 'stopped' });
    expect(escalated).toHaveLength(1);
    expect(escalated[0]).toMatchObject({
      kind: 'intensity-exceeded',
      child: '/top/sup/a',
      restarts: 2,
      withinMs: 1000,
      cause: { kind: 'thrown', message: 'a broke' },
    });
    expect(sim.system.lookup('/top/sup')).toBeUndefined(); // the parent chose 'stop'
    expect(sim.system.lookup('/top')?.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('tolerates the same failures spread over time', async () => {
    const { sim, escalated, crash } = await supervised(2, 1000);
    for (let i = 0; i < 6; i++) {
      await crash(['a', 'b', 'c'][i % 3] as string);
      await sim.scheduler.advanceBy(600);
    }
    expect(escalated).toEqual([]);
    expect(sim.system.lookup('/top/sup/a')?.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('shuts the system down when the root itself gives up, and records and logs the root failure', async () => {
    const { logger, lines } = memoryLogger('info');
    const sim = simulated({ supervision: { maxRestarts: 1, withinMs: 1000 }, logger });
    const { scheduler, system } = sim;
    system.spawn<'boom'>(() => {
      throw new Error('again');
    }, { name: 'flaky' });
    for (let i = 0; i < 2; i++) {
      system.lookup<'boom'>('/flaky')?.tell('boom');
      await scheduler.runUntilIdle();
    }
    await scheduler.runAll();
    expect(system.isRunning).toBe(false);
    expect(system.rootFailures()).toEqual([expect.objectContaining({ kind: 'intensity-exceeded', child: '/flaky' })]);
    expect(system.lookup('/flaky')).toBeUndefined();
    const [failure] = system.rootFailures();
    expect(lines.filter((l) => l.msg === 'failure escalated to the root; stopping the system')).toEqual([
      expect.objectContaining({ kind: 'intensity-exceeded', failure: failure?.message }),
    ]);
  });
});
