import { describe, expect, it } from 'vitest';
import type { ActorRef, BehaviorFactory, SupervisionStrategy } from '../../src/index.js';
import { shutdown, simulated, traceOf } from './support.js';

/** A child that logs its stops and fails on 'boom'. */
function child(name: string, log: string[]): BehaviorFactory<'boom'> {
  return {
    create: () => ({
      receive: () => {
        throw new Error(`${name} failed`);
      },
      onStop: (_ctx, reason) => void log.push(`stop ${name} (${reason.kind})`),
    }),
  };
}

async function tree(strategy: SupervisionStrategy) {
  const sim = simulated({ seed: 11 });
  const { scheduler, system } = sim;
  const log: string[] = [];
  system.spawn<never>(
    {
      onStart: (ctx) => {
        for (const name of ['a', 'b', 'c', 'd']) ctx.spawn(child(name, log), { name });
      },
      receive: () => undefined,
    },
    { name: 'sup', supervision: { strategy } },
  );
  await scheduler.runUntilIdle();
  const refs = (): Record<string, ActorRef<'boom'> | undefined> =>
    Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, system.lookup<'boom'>(`/sup/${n}`)]));
  const trace = traceOf(system);
  return { sim, log, refs, trace };
}

const restarts = (trace: string[]): string[] => trace.filter((l) => l.startsWith('restarted'));

describe('supervision strategies', () => {
  it('one-for-one restarts only the failed child', async () => {
    const { sim, log, refs, trace } = await tree('one-for-one');
    const before = refs();
    before.b?.tell('boom');
    await sim.scheduler.runUntilIdle();
    const after = refs();
    expect(log).toEqual(['stop b (failed)']);
    expect(restarts(trace)).toEqual(['restarted /sup/b after 0 ms']);
    expect(after.b).not.toBe(before.b);
    expect([after.a, after.c, after.d]).toEqual([before.a, before.c, before.d]);
    await shutdown(sim);
  });

  it('one-for-all stops every child in reverse start order and restarts them all in start order', async () => {
    const { sim, log, refs, trace } = await tree('one-for-all');
    const before = refs();
    before.b?.tell('boom');
    await sim.scheduler.runUntilIdle();
    const after = refs();
    expect(log).toEqual(['stop d (stopped)', 'stop c (stopped)', 'stop b (failed)', 'stop a (stopped)']);
    expect(restarts(trace)).toEqual([
      'restarted /sup/a after 0 ms',
      'restarted /sup/b after 0 ms',
      'restarted /sup/c after 0 ms',
      'restarted /sup/d after 0 ms',
    ]);
    for (const name of ['a', 'b', 'c', 'd'] as const) {
      expect(after[name]?.isAlive).toBe(true);
      expect(after[name]).not.toBe(before[name]);
    }
    await shutdown(sim);
  });

  it('rest-for-one stops the later siblings in reverse order and restarts exactly those, in start order', async () => {
    const { sim, log, refs, trace } = await tree('rest-for-one');
    const before = refs();
    before.b?.tell('boom');
    await sim.scheduler.runUntilIdle();
    const after = refs();
    expect(log).toEqual(['stop d (stopped)', 'stop c (stopped)', 'stop b (failed)']);
    expect(restarts(trace)).toEqual(['restarted /sup/b after 0 ms', 'restarted /sup/c after 0 ms', 'restarted /sup/d after 0 ms']);
    expect(after.a).toBe(before.a);
    for (const name of ['b', 'c', 'd'] as const) expect(after[name]).not.toBe(before[name]);
    await shutdown(sim);
  });

  it('keeps the start order of the children across restarts', async () => {
    const { sim, refs } = await tree('one-for-one');
    refs().a?.tell('boom');
    await sim.scheduler.runUntilIdle();
    const stopOrder: string[] = [];
    sim.system.inspect((event) => {
      if (event.type === 'terminated') stopOrder.push(event.actor);
    });
    await shutdown(sim);
    expect(stopOrder).toEqual(['/sup/d', '/sup/c', '/sup/b', '/sup/a', '/sup', '/']);
  });
});
