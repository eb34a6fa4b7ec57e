import { describe, expect, it } from 'vitest';
import type { ActorRef, BehaviorObject } from '../../src/index.js';
import { outcome, shutdown, simulated } from './support.js';

function logsStop(name: string, log: string[], children: readonly string[] = []): BehaviorObject<never> {
  return {
    onStart: (ctx) => {
      for (const child of children) ctx.spawn(logsStop(child, log), { name: child });
    },
    receive: () => undefined,
    onStop: () => void log.push(name),
  };
}

describe('shutdown', () => {
  it('stops actors in reverse start order, each subtree children first', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    system.spawn(logsStop('a', log, ['a1', 'a2']), { name: 'a' });
    system.spawn(logsStop('b', log), { name: 'b' });
    system.spawn(logsStop('c', log, ['c1']), { name: 'c' });
    await scheduler.runUntilIdle();
    await shutdown(sim);
    expect(log).toEqual(['c1', 'c', 'b', 'a2', 'a1', 'a']);
    expect(system.isRunning).toBe(false);
  });

  it('kills a child that hangs in onStop after its shutdownTimeoutMs, then goes on with the next one', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    system.spawn(logsStop('first', log), { name: 'first' });
    const hanging: ActorRef<never> = system.spawn<never>(
      {
        receive: () => undefined,
        onStop: () => {
          log.push('hanging: onStop entered');
          return new Promise<void>(() => undefined);
        },
      },
      { name: 'hanging', shutdownTimeoutMs: 1000 },
    );
    await scheduler.runUntilIdle();
    const done = outcome(system.shutdown());
    await scheduler.advanceBy(999);
    expect(log).toEqual(['hanging: onStop entered']); // 'first' waits its turn
    expect(hanging.isAlive).toBe(true);
    await scheduler.advanceBy(1);
    expect(hanging.isAlive).toBe(false);
    expect(await system.whenTerminated(hanging)).toMatchObject({
      kind: 'killed',
      failure: { kind: 'stop-timeout', timeoutMs: 1000 },
    });
    await scheduler.runAll();
    expect(await done).toEqual({ ok: true, value: undefined });
    expect(log).toEqual(['hanging: onStop entered', 'first']);
  });

  it('kills a parent whose child outlasts the parent timeout, and does not run its onStop afterwards', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const parent = system.spawn<never>(
      {
        onStart: (ctx) =>
          void ctx.spawn<never>(
            { receive: () => undefined, onStop: () => new Promise<void>(() => undefined) },
            { name: 'child', shutdownTimeoutMs: 1000 },
          ),
        receive: () => undefined,
        onStop: () => void log.push(`parent onStop at ${scheduler.now()}`),
      },
      { name: 'parent', shutdownTimeoutMs: 100 },
    );
    await scheduler.runUntilIdle();
    const child = system.lookup('/parent/child') as ActorRef<unknown>;
    await shutdown(sim);
    expect(scheduler.now()).toBe(100);
    expect(await system.whenTerminated(parent)).toMatchObject({ kind: 'killed', failure: { kind: 'stop-timeout', timeoutMs: 100 } });
    expect(await system.whenTerminated(child)).toMatchObject({ kind: 'killed' });
    expect(log).toEqual([]);
  });

  it('kills a child stuck in a handler after the default timeout of the system', async () => {
    const sim = simulated({ shutdownTimeoutMs: 250 });
    const { scheduler, system } = sim;
    const stuck = system.spawn<'hang'>(() => new Promise<void>(() => undefined), { name: 'stuck' });
    stuck.tell('hang');
    stuck.tell('hang');
    await scheduler.runUntilIdle();
    const done = outcome(system.shutdown());
    await scheduler.advanceBy(250);
    expect(await done).toEqual({ ok: true, value: undefined });
    expect(scheduler.now()).toBe(250);
    // The message in hand and the queued one are both accounted as lost.
    expect(system.deadLetterCounts()['lost-on-termination']).toBe(2);
  });

  it('returns the same promise to every caller and stays shut', async () => {
    const sim = simulated();
    const first = sim.system.shutdown();
    expect(sim.system.shutdown()).toBe(first);
    await sim.scheduler.runAll();
    await first;
    expect(() => sim.system.spawn(() => undefined)).toThrow(expect.objectContaining({ code: 'system-stopped' }));
  });

  it('gives a stopped actor reason stopped and its onStop the same reason', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const reasons: string[] = [];
    const ref = system.spawn<never>({ receive: () => undefined, onStop: (_ctx, reason) => void reasons.push(reason.kind) }, { name: 'x' });
    await scheduler.runUntilIdle();
    await shutdown(sim);
    expect(reasons).toEqual(['stopped']);
    expect(await system.whenTerminated(ref)).toEqual({ kind: 'stopped' });
  });
});
