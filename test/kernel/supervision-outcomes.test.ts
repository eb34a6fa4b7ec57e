/**
 * What a supervisor does with each outcome of a child, as its users see it: the failure it
 * escalates (kind, message, child path, cause), what it logs and at which level, which children
 * are restarted, which are removed, and the exit reason each incarnation ends with.
 */
import { describe, expect, it } from 'vitest';
import type { ActorContext, ActorRef, Directive, ExitReason, Failure, RestartType, SupervisorOptions } from '../../src/index.js';
import { gate, memoryLogger, shutdown, simulated, traceOf, type Simulated } from './support.js';

type Line = Record<string, unknown>;

const UNKNOWN_DIRECTIVE = 'supervisor decide() returned an unknown directive; escalating';
const DECIDE_THREW = 'supervisor decide() threw; escalating';

/**
 * /top (stops whatever fails under it, recording the failure) over /top/sup (supervised by
 * `supervision`) over /top/sup/worker, which throws `boom` on 'boom', and /top/sup/sibling.
 */
async function tree(supervision: SupervisorOptions) {
  const { logger, lines } = memoryLogger('debug');
  const sim = simulated({ logger });
  const { scheduler, system } = sim;
  const boom = new Error('boom');
  const topSaw: Failure[] = [];
  system.spawn<never>(
    {
      onStart: (ctx) =>
        void ctx.spawn<never>(
          {
            onStart: (c) => {
              c.spawn<'boom'>(() => {
                throw boom;
              }, { name: 'worker' });
              c.spawn<never>(() => undefined, { name: 'sibling' });
            },
            receive: () => undefined,
          },
          { name: 'sup', supervision },
        ),
      receive: () => undefined,
    },
    {
      name: 'top',
      supervision: {
        decide: (failure) => {
          topSaw.push(failure);
          return 'stop';
        },
      },
    },
  );
  await scheduler.runUntilIdle();
  const worker = system.lookup<'boom'>('/top/sup/worker') as ActorRef<'boom'>;
  const sibling = system.lookup('/top/sup/sibling') as ActorRef<unknown>;
  const sup = system.lookup('/top/sup') as ActorRef<unknown>;
  worker.tell('boom');
  await scheduler.runUntilIdle();
  return { sim, lines, boom, topSaw, worker, sibling, sup };
}

/** The lines logged by `actor` at `level` (pino's numbers: 20 debug, 50 error). */
function logged(lines: readonly Line[], actor: string, level: number): Line[] {
  return lines.filter((line) => line.actor === actor && line.level === level);
}

/** What /top/sup escalates when its worker's `boom` is escalated. */
function escalatedBoom(boom: Error): Failure {
  return {
    kind: 'escalated',
    message: 'escalated from /top/sup/worker: boom',
    child: '/top/sup/worker',
    cause: { kind: 'thrown', message: 'boom', error: boom },
  };
}

describe('escalation', () => {
  it('an explicit escalate fails the supervisor with the escalated failure, without complaining about the directive', async () => {
    const { sim, lines, boom, topSaw, worker, sibling, sup } = await tree({ decide: () => 'escalate' });
    expect(topSaw).toEqual([escalatedBoom(boom)]);
    // The escalating child ends with its own failure, its siblings as stopped.
    expect(await sim.system.whenTerminated(worker)).toEqual({ kind: 'failed', failure: { kind: 'thrown', message: 'boom', error: boom } });
    expect(await sim.system.whenTerminated(sibling)).toEqual({ kind: 'stopped' });
    // The supervisor logs its own failure (the escalated one) and nothing else at error.
    expect(logged(lines, '/top/sup', 50)).toEqual([
      expect.objectContaining({
        msg: 'actor failed',
        kind: 'escalated',
        err: expect.objectContaining({ type: 'escalated', message: 'escalated from /top/sup/worker: boom' }) as unknown,
      }),
    ]);
    expect(lines.filter((line) => line.msg === UNKNOWN_DIRECTIVE)).toEqual([]);
    expect(await sim.system.whenTerminated(sup)).toEqual({ kind: 'failed', failure: escalatedBoom(boom) });
    await shutdown(sim);
  });

  it('a decide() that throws is logged at error with the thrown error, then escalates', async () => {
    const broken = new TypeError('decide broke');
    const { sim, lines, boom, topSaw, worker, sibling } = await tree({
      decide: () => {
        throw broken;
      },
    });
    expect(topSaw).toEqual([escalatedBoom(boom)]);
    expect(await sim.system.whenTerminated(worker)).toEqual({ kind: 'failed', failure: { kind: 'thrown', message: 'boom', error: boom } });
    expect(await sim.system.whenTerminated(sibling)).toEqual({ kind: 'stopped' });
    expect(logged(lines, '/top/sup', 50).filter((line) => line.msg !== 'actor failed')).toEqual([
      expect.objectContaining({ msg: DECIDE_THREW, err: expect.objectContaining({ type: 'TypeError', message: 'decide broke', stack: broken.stack }) as unknown }),
    ]);
    await shutdown(sim);
  });

  it('a decide() that returns no directive is logged at error with what it returned, then escalates', async () => {
    const { sim, lines, boom, topSaw, worker, sibling } = await tree({ decide: () => 'retry' as Directive });
    expect(topSaw).toEqual([escalatedBoom(boom)]);
    expect(await sim.system.whenTerminated(worker)).toEqual({ kind: 'failed', failure: { kind: 'thrown', message: 'boom', error: boom } });
    expect(await sim.system.whenTerminated(sibling)).toEqual({ kind: 'stopped' });
    expect(logged(lines, '/top/sup', 50).filter((line) => line.msg !== 'actor failed')).toEqual([
      expect.objectContaining({ msg: UNKNOWN_DIRECTIVE, directive: 'retry' }),
    ]);
    await shutdown(sim);
  });
});

describe('the terminated debug line', () => {
  it('is logged at debug with the exit reason when an actor ends other than by a plain stop', async () => {
    const { sim, lines } = await tree({ decide: () => 'restart' });
    // The failed worker was restarted: its old incarnation ended failed.
    expect(logged(lines, '/top/sup/worker', 20).filter((line) => line.msg === 'terminated')).toEqual([
      expect.objectContaining({ reason: 'failed: boom' }),
    ]);
    const quitter = sim.system.spawn<'quit'>((_, ctx) => ctx.stopSelf(), { name: 'quitter', restart: 'transient' });
    quitter.tell('quit');
    await sim.scheduler.runUntilIdle();
    expect(logged(lines, '/quitter', 20).filter((line) => line.msg === 'terminated')).toEqual([expect.objectContaining({ reason: 'normal' })]);
    await shutdown(sim);
    // Everything else was stopped plainly by the shutdown: no line for that.
    expect(lines.filter((line) => line.msg === 'terminated').map((line) => line.actor)).toEqual(['/top/sup/worker', '/quitter']);
  });

  it('is logged for a plain stop too when the actor was dropping messages', async () => {
    const { logger, lines } = memoryLogger('debug');
    const sim = simulated({ logger });
    const full = sim.system.spawn<number>(() => undefined, { name: 'full', mailboxCapacity: 1 });
    const quiet = sim.system.spawn<number>(() => undefined, { name: 'quiet', mailboxCapacity: 1 });
    expect([full.tell(1), full.tell(2), quiet.tell(1)]).toEqual(['enqueued', 'full', 'enqueued']);
    await sim.scheduler.runUntilIdle();
    const stopped = Promise.all([sim.system.stop(full), sim.system.stop(quiet)]);
    await sim.scheduler.runUntilIdle();
    await stopped;
    expect(lines.filter((line) => line.msg === 'terminated')).toEqual([expect.objectContaining({ level: 20, actor: '/full', reason: 'stopped' })]);
    await shutdown(sim);
  });
});

describe('restart types', () => {
  /** /sup (maxRestarts 1 in 1000 ms) with one child /sup/w of `restart` type; /top records escalations. */
  async function oneChild(restart: RestartType, behavior: (m: 'fail' | 'exit', ctx: ActorContext<'fail' | 'exit'>) => void) {
    const sim = simulated();
    const topSaw: Failure[] = [];
    sim.system.spawn<never>(
      {
        onStart: (ctx) =>
          void ctx.spawn<never>(
            { onStart: (c) => void c.spawn(behavior, { name: 'w', restart }), receive: () => undefined },
            { name: 'sup', supervision: { maxRestarts: 1, withinMs: 1000 } },
          ),
        receive: () => undefined,
      },
      { name: 'top', supervision: { decide: (failure) => (topSaw.push(failure), 'stop') } },
    );
    await sim.scheduler.runUntilIdle();
    const send = async (m: 'fail' | 'exit'): Promise<{ before: ActorRef<'fail' | 'exit'>; reason: ExitReason }> => {
      const before = sim.system.lookup<'fail' | 'exit'>('/top/sup/w') as ActorRef<'fail' | 'exit'>;
      before.tell(m);
      await sim.scheduler.runUntilIdle();
      return { before, reason: await sim.system.whenTerminated(before) };
    };
    return { sim, topSaw, send };
  }

  const failOrExit = (m: 'fail' | 'exit', ctx: ActorContext<'fail' | 'exit'>): void => {
    if (m === 'fail') throw new Error('w broke');
    ctx.stopSelf();
  };

  it('a permanent child is restarted after a normal exit, and counts it as a restart that exited normally', async () => {
    const { sim, topSaw, send } = await oneChild('permanent', failOrExit);
    const first = await send('exit');
    expect(first.reason).toEqual({ kind: 'normal' });
    const next = sim.system.lookup('/top/sup/w');
    expect(next?.isAlive).toBe(true);
    expect(next).not.toBe(first.before);
    expect(topSaw).toEqual([]);
    // A second normal exit within the window is one restart too many: the supervisor escalates.
    await send('exit');
    expect(topSaw).toEqual([
      {
        kind: 'intensity-exceeded',
        message: 'more than 1 restarts within 1000 ms (last: w: /top/sup/w exited normally)',
        child: '/top/sup/w',
        restarts: 1,
        withinMs: 1000,
        cause: { kind: 'crashed', message: '/top/sup/w exited normally' },
      },
    ]);
    await shutdown(sim);
  });

  it.each(['permanent', 'transient'] as const)('a %s child is restarted after a failure', async (restart) => {
    const { sim, topSaw, send } = await oneChild(restart, failOrExit);
    const { before, reason } = await send('fail');
    expect(reason).toMatchObject({ kind: 'failed', failure: { kind: 'thrown', message: 'w broke' } });
    const next = sim.system.lookup('/top/sup/w');
    expect(next?.isAlive).toBe(true);
    expect(next).not.toBe(before);
    expect(topSaw).toEqual([]);
    await shutdown(sim);
  });

  it('a transient child that exits normally is removed, not restarted', async () => {
    const { sim, topSaw, send } = await oneChild('transient', failOrExit);
    const trace = traceOf(sim.system);
    expect((await send('exit')).reason).toEqual({ kind: 'normal' });
    expect(sim.system.lookup('/top/sup/w')).toBeUndefined();
    expect(trace.filter((line) => line.startsWith('restarted') || line.startsWith('spawned'))).toEqual([]);
    expect(sim.system.lookup('/top/sup')?.isAlive).toBe(true);
    expect(topSaw).toEqual([]);
    await shutdown(sim);
  });
});

describe('temporary children', () => {
  /** /sup (maxRestarts 1 in 1000 ms, optional backoff) over a temporary /sup/t and a permanent /sup/p. */
  async function mixed(extra: Partial<SupervisorOptions> = {}, tOptions: { restartLimit?: { maxRestarts: number; withinMs: number } } = {}) {
    const sim = simulated();
    const trace = traceOf(sim.system);
    const topSaw: Failure[] = [];
    sim.system.spawn<never>(
      {
        onStart: (ctx) =>
          void ctx.spawn<never>(
            {
              onStart: (c) => {
                c.spawn<'boom'>(() => {
                  throw new Error('t broke');
                }, { name: 't', restart: 'temporary', ...tOptions });
                c.spawn<'boom'>(() => {
                  throw new Error('p broke');
                }, { name: 'p' });
              },
              receive: () => undefined,
            },
            { name: 'sup', supervision: { maxRestarts: 1, withinMs: 1000, ...extra } },
          ),
        receive: () => undefined,
      },
      { name: 'top', supervision: { decide: (failure) => (topSaw.push(failure), 'stop') } },
    );
    await sim.scheduler.runUntilIdle();
    const crash = async (name: string): Promise<ActorRef<'boom'>> => {
      const ref = sim.system.lookup<'boom'>(`/top/sup/${name}`) as ActorRef<'boom'>;
      ref.tell('boom');
      await sim.scheduler.runUntilIdle();
      return ref;
    };
    return { sim, trace, topSaw, crash };
  }

  it('a failed temporary child is removed, not restarted, and does not count toward the restart intensity', async () => {
    const { sim, trace, topSaw, crash } = await mixed();
    const t = await crash('t');
    expect(await sim.system.whenTerminated(t)).toMatchObject({ kind: 'failed', failure: { kind: 'thrown', message: 't broke' } });
    expect(sim.system.lookup('/top/sup/t')).toBeUndefined();
    // The one restart the window allows is still there for p.
    const p = await crash('p');
    expect(topSaw).toEqual([]);
    expect(sim.system.lookup('/top/sup/p')).not.toBe(p);
    expect(sim.system.lookup('/top/sup/p')?.isAlive).toBe(true);
    expect(trace.filter((line) => line.startsWith('restarted'))).toEqual(['restarted /top/sup/p after 0 ms']);
    // The next one within the window is one too many, and says which child and failure it was.
    await crash('p');
    expect(topSaw).toEqual([
      {
        kind: 'intensity-exceeded',
        message: 'more than 1 restarts within 1000 ms (last: p: p broke)',
        child: '/top/sup/p',
        restarts: 1,
        withinMs: 1000,
        cause: expect.objectContaining({ kind: 'thrown', message: 'p broke' }) as unknown,
      },
    ]);
    await shutdown(sim);
  });

  it('a failed temporary child does not advance the backoff of the next restart', async () => {
    const { sim, trace, topSaw, crash } = await mixed({ maxRestarts: 5, backoff: { minMs: 100, maxMs: 10_000, factor: 2, jitter: 0 } });
    await crash('t');
    await crash('p');
    await sim.scheduler.advanceBy(1000);
    expect(topSaw).toEqual([]);
    expect(trace.filter((line) => line.startsWith('restarted'))).toEqual(['restarted /top/sup/p after 100 ms']);
    expect(sim.system.lookup('/top/sup/t')).toBeUndefined();
    await shutdown(sim);
  });

  it('a failed temporary child with its own restart limit is removed, not restarted', async () => {
    const { sim, trace, topSaw, crash } = await mixed({}, { restartLimit: { maxRestarts: 5, withinMs: 1000 } });
    const t = await crash('t');
    expect(await sim.system.whenTerminated(t)).toMatchObject({ kind: 'failed', failure: { kind: 'thrown', message: 't broke' } });
    expect(sim.system.lookup('/top/sup/t')).toBeUndefined();
    expect(trace.filter((line) => line.startsWith('restarted'))).toEqual([]);
    expect(topSaw).toEqual([]);
    await shutdown(sim);
  });

  it('a one-for-all restart keeps a child spawned meanwhile under the name of a temporary child it stopped', async () => {
    const sim: Simulated = simulated();
    const stopping = gate();
    let supCtx: ActorContext<never> | null = null;
    sim.system.spawn<never>(
      {
        onStart: (ctx) => {
          supCtx = ctx;
          ctx.spawn<'boom'>(() => {
            throw new Error('a broke');
          }, { name: 'a' });
          ctx.spawn<never>({ receive: () => undefined, onStop: () => stopping.promise }, { name: 't', restart: 'temporary' });
        },
        receive: () => undefined,
      },
      { name: 'sup', supervision: { strategy: 'one-for-all' } },
    );
    await sim.scheduler.runUntilIdle();
    sim.system.lookup<'boom'>('/sup/a')?.tell('boom');
    await sim.scheduler.runUntilIdle();
    // The restart is stopping t (its onStop holds): meanwhile the name is freed and reused.
    const ctx = supCtx as unknown as ActorContext<never>;
    void ctx.stopChild('t');
    const successor = ctx.spawn<never>(() => undefined, { name: 't' });
    stopping.open();
    await sim.scheduler.runUntilIdle();
    expect(sim.system.lookup('/sup/t')).toBe(successor);
    expect(successor.isAlive).toBe(true);
    expect(ctx.children().map((child) => child.name)).toEqual(['a', 't']);
    await shutdown(sim);
  });
});

describe('the err logged for a failure', () => {
  async function failureLines(behavior: (m: 'go') => void | Promise<void>): Promise<Line[]> {
    const { logger, lines } = memoryLogger();
    const sim = simulated({ logger, supervision: { decide: () => 'stop' } });
    sim.system.spawn(behavior, { name: 'subject' }).tell('go');
    await sim.scheduler.runUntilIdle();
    await shutdown(sim);
    return lines.filter((line) => line.msg === 'actor failed');
  }

  it('is the rejection itself (type, message, stack) for an async handler, as for a thrown one', async () => {
    const rejection = new RangeError('async broke');
    const thrown = new RangeError('sync broke');
    const rejected = await failureLines(async () => {
      await Promise.resolve();
      throw rejection;
    });
    expect(rejected).toEqual([
      expect.objectContaining({ level: 50, kind: 'rejected', err: { type: 'RangeError', message: 'async broke', stack: rejection.stack } }),
    ]);
    const sync = await failureLines(() => {
      throw thrown;
    });
    expect(sync).toEqual([expect.objectContaining({ level: 50, kind: 'thrown', err: { type: 'RangeError', message: 'sync broke', stack: thrown.stack } })]);
  });
});
