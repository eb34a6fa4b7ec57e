import { describe, expect, it } from 'vitest';
import type { ActorRef, Directive, Failure } from '../../src/index.js';
import { shutdown, simulated } from './support.js';

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
});
