/**
 * A child's own restart limit (`SpawnOptions.restartLimit`): restarted alone whatever the parent's
 * strategy, past its own intensity stopped for good while its siblings and its parent carry on.
 */
import { describe, expect, it } from 'vitest';
import type { ExitReason } from '../../src/index.js';
import { shutdown, simulated, traceOf } from './support.js';

describe('a child with its own restart limit', () => {
  it('is restarted alone, then stopped for good past its intensity; the parent and the siblings carry on', async () => {
    const sim = simulated({ supervision: { strategy: 'one-for-all', maxRestarts: 100, withinMs: 1000 } });
    const trace = traceOf(sim.system);
    const parent = sim.system.spawn<'go'>(
      {
        create: (ctx) => {
          ctx.spawn<'boom'>(() => {
            throw new Error('boom');
          }, { name: 'fragile', restartLimit: { maxRestarts: 2, withinMs: 10_000 } });
          ctx.spawn<'x'>(() => undefined, { name: 'steady' });
          return { receive: () => undefined };
        },
      },
      { name: 'parent', supervision: { strategy: 'one-for-all' } },
    );
    await sim.scheduler.runUntilIdle();
    const steady = sim.system.lookup('/parent/steady');
    const exits: ExitReason[] = [];
    for (let i = 0; i < 3; i++) {
      const fragile = sim.system.lookup<'boom'>('/parent/fragile');
      expect(fragile).toBeDefined();
      void sim.system.whenTerminated(fragile as never).then((reason) => exits.push(reason));
      fragile?.tell('boom');
      await sim.scheduler.runUntilIdle();
    }
    // Two restarts, then the third failure exceeds its own limit: it is gone for good.
    expect(exits.map((e) => (e.kind === 'failed' ? e.failure.kind : e.kind))).toEqual(['thrown', 'thrown', 'intensity-exceeded']);
    expect(sim.system.lookup('/parent/fragile')).toBeUndefined();
    // One-for-all did not apply to it: its sibling is the same incarnation, the parent runs on.
    expect(sim.system.lookup('/parent/steady')).toBe(steady);
    expect(parent.isAlive).toBe(true);
    expect(trace.filter((line) => line.startsWith('restarted'))).toEqual(['restarted /parent/fragile after 0 ms', 'restarted /parent/fragile after 0 ms']);
    expect(trace).toContain('failed /parent/fragile intensity-exceeded: more than 2 restarts within 10000 ms (last: boom)');
    await shutdown(sim);
  });

  it('waits its own backoff before a restart', async () => {
    const sim = simulated();
    sim.system.spawn(
      {
        create: (ctx) => {
          ctx.spawn<'boom'>(() => {
            throw new Error('boom');
          }, { name: 'slow', restartLimit: { maxRestarts: 5, withinMs: 60_000, backoff: { minMs: 500, maxMs: 500, jitter: 0 } } });
          return { receive: () => undefined };
        },
      },
      { name: 'parent' },
    );
    await sim.scheduler.runUntilIdle();
    sim.system.lookup<'boom'>('/parent/slow')?.tell('boom');
    await sim.scheduler.runUntilIdle();
    expect(sim.system.lookup('/parent/slow')).toBeUndefined();
    await sim.scheduler.advanceBy(499);
    expect(sim.system.lookup('/parent/slow')).toBeUndefined();
    await sim.scheduler.advanceBy(1);
    expect(sim.system.lookup('/parent/slow')?.isAlive).toBe(true);
    await shutdown(sim);
  });
});

describe('stopChild(name)', () => {
  it('cancels a restart pending in its backoff, so nothing comes back', async () => {
    const sim = simulated();
    const parent = sim.system.spawn<'stop'>(
      {
        create: (ctx) => {
          ctx.spawn<'boom'>(() => {
            throw new Error('boom');
          }, { name: 'child', restartLimit: { backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } });
          return {
            receive: async () => {
              expect(await ctx.stopChild('child')).toBeNull();
            },
          };
        },
      },
      { name: 'parent' },
    );
    await sim.scheduler.runUntilIdle();
    sim.system.lookup<'boom'>('/parent/child')?.tell('boom');
    await sim.scheduler.runUntilIdle();
    parent.tell('stop');
    await sim.scheduler.advanceBy(5000);
    expect(sim.system.lookup('/parent/child')).toBeUndefined();
    await shutdown(sim);
  });
});
