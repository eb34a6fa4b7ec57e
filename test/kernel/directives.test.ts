import { describe, expect, it } from 'vitest';
import type { ActorRef, Directive, Failure } from '../../src/index.js';
import { gate, shutdown, simulated } from './support.js';

type Message = 'inc' | 'boom' | 'report';

/** A supervisor /sup with one counting child /sup/worker, whose failures `decide` handles. */
async function supervised(decide: (failure: Failure, child: { name: string; path: string }) => Directive) {
  const sim = simulated();
  const { scheduler, system } = sim;
  const reports: number[] = [];
  const parentFailures: Failure[] = [];
  system.spawn<never>(
    {
      onStart: (ctx) =>
        void ctx.spawn<never>(
          {
            onStart: (c) =>
              void c.spawn<Message>(
                {
                  create: () => {
                    let count = 0;
                    return {
                      receive: (m) => {
                        if (m === 'boom') throw new Error('boom');
                        if (m === 'inc') count++;
                        else reports.push(count);
                      },
                    };
                  },
                },
                { name: 'worker' },
              ),
            receive: () => undefined,
          },
          { name: 'sup', supervision: { decide } },
        ),
      receive: () => undefined,
    },
    {
      name: 'top',
      supervision: {
        decide: (failure) => {
          parentFailures.push(failure);
          return 'stop';
        },
      },
    },
  );
  await scheduler.runUntilIdle();
  const worker = system.lookup<Message>('/top/sup/worker') as ActorRef<Message>;
  for (const m of ['inc', 'inc', 'boom', 'inc', 'report'] as const) worker.tell(m);
  await scheduler.runUntilIdle();
  return { sim, worker, reports, parentFailures };
}

describe('supervision directives', () => {
  it('resume keeps the state and the incarnation, and goes on with the next message', async () => {
    const { sim, worker, reports } = await supervised(() => 'resume');
    expect(reports).toEqual([3]);
    expect(sim.system.lookup('/top/sup/worker')).toBe(worker);
    await shutdown(sim);
  });

  it('restart replaces the incarnation with fresh state; the queued messages go with the old one', async () => {
    const { sim, worker, reports } = await supervised(() => 'restart');
    expect(reports).toEqual([]);
    expect(sim.system.deadLetterCounts()['lost-on-termination']).toBe(2);
    const fresh = sim.system.lookup<Message>('/top/sup/worker');
    expect(fresh).not.toBe(worker);
    fresh?.tell('report');
    await sim.scheduler.runUntilIdle();
    expect(reports).toEqual([0]);
    await shutdown(sim);
  });

  it('stop terminates the child with its failure and does not restart it', async () => {
    const { sim, worker } = await supervised(() => 'stop');
    expect(await sim.system.whenTerminated(worker)).toMatchObject({ kind: 'failed', failure: { kind: 'thrown', message: 'boom' } });
    expect(sim.system.lookup('/top/sup/worker')).toBeUndefined();
    expect(sim.system.lookup('/top/sup')?.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('escalate fails the supervisor itself, with the child failure as cause', async () => {
    const { sim, parentFailures } = await supervised(() => 'escalate');
    expect(parentFailures).toHaveLength(1);
    expect(parentFailures[0]).toMatchObject({ kind: 'escalated', child: '/top/sup/worker', cause: { kind: 'thrown', message: 'boom' } });
    expect(sim.system.lookup('/top/sup')).toBeUndefined();
    await shutdown(sim);
  });

  it('passes the failure and the child to decide, and escalates when decide throws', async () => {
    const seen: string[] = [];
    const { sim, parentFailures } = await supervised((failure, child) => {
      seen.push(`${failure.kind} ${failure.message} from ${child.name} at ${child.path}`);
      throw new Error('decide broke');
    });
    expect(seen).toEqual(['thrown boom from worker at /top/sup/worker']);
    expect(parentFailures.map((f) => f.kind)).toEqual(['escalated']);
    await shutdown(sim);
  });

  it('escalates when decide returns something that is not a directive', async () => {
    const { sim, parentFailures } = await supervised(() => 'retry' as Directive);
    expect(parentFailures.map((f) => f.kind)).toEqual(['escalated']);
    await shutdown(sim);
  });

  it('resume of a child that stopped itself before its supervisor decided leaves it stopped', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const busy = gate();
    const stops: string[] = [];
    const decided: string[] = [];
    const sup = system.spawn<'hold'>(
      {
        onStart: (ctx) =>
          void ctx.spawn<'quit'>(
            {
              receive: (_m, c) => {
                c.stopSelf();
                throw new Error('failed on its way out');
              },
              onStop: (_c, reason) => void stops.push(reason.kind),
            },
            { name: 'worker', restart: 'temporary' },
          ),
        // Busy in a handler: the child's failure waits until it is done, and the child ends meanwhile.
        receive: () => busy.promise,
      },
      {
        name: 'sup',
        supervision: {
          decide: (failure) => {
            decided.push(failure.kind);
            return 'resume';
          },
        },
      },
    );
    await scheduler.runUntilIdle();
    const worker = system.lookup<'quit'>('/sup/worker') as ActorRef<'quit'>;
    sup.tell('hold');
    await scheduler.runUntilIdle();
    worker.tell('quit');
    await scheduler.runUntilIdle();
    expect(stops).toEqual(['normal']);
    expect(worker.isAlive).toBe(false);
    busy.open();
    await scheduler.runUntilIdle();
    expect(decided).toEqual(['thrown']);
    expect(worker.isAlive).toBe(false);
    expect(system.lookup('/sup/worker')).toBeUndefined();
    await shutdown(sim);
  });
  it('a child stopped while its restart waits out the backoff is not started again', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    let starts = 0;
    const sup = system.spawn<'drop'>(
      {
        onStart: (ctx) =>
          void ctx.spawn<'boom'>(
            {
              onStart: () => void starts++,
              receive: () => {
                throw new Error('boom');
              },
            },
            { name: 'worker' },
          ),
        receive: async (_m, ctx) => void (await ctx.stopChild('worker')),
      },
      { name: 'sup', supervision: { decide: () => 'restart', backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } },
    );
    await scheduler.runUntilIdle();
    const worker = system.lookup<'boom'>('/sup/worker') as ActorRef<'boom'>;
    worker.tell('boom');
    await scheduler.runUntilIdle();
    expect(worker.isAlive).toBe(false);
    sup.tell('drop');
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(5000);
    expect(starts).toBe(1);
    expect(system.lookup('/sup/worker')).toBeUndefined();
    await shutdown(sim);
  });
  it('a restart that waits longer does not start again a child whose own quicker restart already started it', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const starts: string[] = [];
    const child = (name: string) => ({
      onStart: () => void starts.push(name),
      receive: () => {
        throw new Error(`${name} failed`);
      },
    });
    system.spawn<never>(
      {
        onStart: (ctx) => {
          ctx.spawn<'boom'>(child('a'), { name: 'a' });
          ctx.spawn<'boom'>(child('b'), { name: 'b' });
        },
        receive: () => undefined,
      },
      {
        name: 'sup',
        supervision: {
          strategy: 'rest-for-one',
          decide: () => 'restart',
          backoff: { minMs: 1000, maxMs: 4000, factor: 2, jitter: 0 },
        },
      },
    );
    await scheduler.runUntilIdle();
    const a = system.lookup<'boom'>('/sup/a') as ActorRef<'boom'>;
    const b = system.lookup<'boom'>('/sup/b') as ActorRef<'boom'>;
    b.tell('boom'); // b alone restarts, in 1000 ms
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(500);
    a.tell('boom'); // a and the ones after it restart, in 2000 ms: b's own restart comes first
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(5000);
    expect(starts.filter((name) => name === 'a')).toHaveLength(2);
    expect(starts.filter((name) => name === 'b')).toHaveLength(2);
    expect(system.lookup('/sup/b')?.isAlive).toBe(true);
    await shutdown(sim);
  });
});
