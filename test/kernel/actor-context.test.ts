/**
 * What a behaviour's context does beyond handling messages: spawning (and the refusals), its list
 * of children, stopping one, watching and unwatching, its own timers; and what the trace and the
 * log say about the lanes and the drops of its mailbox.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Inspector } from '../../src/kernel/inspection.js';
import type { ActorContext, ActorRef, ExitReason } from '../../src/index.js';
import { gate, memoryLogger, refusal, shutdown, simulated, traceOf } from './support.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Spawns a top-level actor that hands its context to the test, and runs it until started. */
async function contextOf(sim: ReturnType<typeof simulated>, name = 'parent'): Promise<ActorContext<unknown>> {
  let ctx: ActorContext<unknown> | undefined;
  sim.system.spawn<unknown>({ onStart: (c) => void (ctx = c), receive: () => undefined }, { name });
  await sim.scheduler.runUntilIdle();
  if (ctx === undefined) throw new Error('the actor did not start');
  return ctx;
}

describe('spawning from a context', () => {
  it('refuses a child once the actor is stopping or terminated, and a name taken twice', async () => {
    const sim = simulated();
    const refusals: string[] = [];
    const ref = sim.system.spawn<unknown>(
      {
        onStart: (ctx) => void ctx.spawn(() => undefined, { name: 'kid' }),
        receive: (_m, ctx) => {
          const error = refusal(() => ctx.spawn(() => undefined, { name: 'kid' }));
          refusals.push(`${error.code}: ${error.message}`);
        },
        onStop: (ctx) => {
          const error = refusal(() => ctx.spawn(() => undefined, { name: 'late' }));
          refusals.push(`${error.code}: ${error.message}`);
        },
      },
      { name: 'host' },
    );
    let kept: ActorContext<unknown> | undefined;
    sim.system.spawn<unknown>({ onStart: (c) => void (kept = c), receive: () => undefined }, { name: 'kept' });
    ref.tell('again');
    await sim.scheduler.runUntilIdle();
    const stopped = sim.system.stop(ref);
    await sim.scheduler.runAll();
    await stopped;
    const keptRef = sim.system.lookup('/kept') as ActorRef<unknown>;
    const keptStopped = sim.system.stop(keptRef);
    await sim.scheduler.runAll();
    await keptStopped;
    const error = refusal(() => kept?.spawn(() => undefined, { name: 'after' }));
    refusals.push(`${error.code}: ${error.message}`);
    expect(refusals).toEqual([
      'duplicate-name: Expected a unique child name under /host, got "kid" twice',
      'system-stopped: Cannot spawn a child of /host: it is stopping',
      'system-stopped: Cannot spawn a child of /kept: it is terminated',
    ]);
    await shutdown(sim);
  });

  it('makes a child permanent by default: it is restarted also when it ends normally', async () => {
    const sim = simulated();
    const ctx = await contextOf(sim);
    let starts = 0;
    ctx.spawn<'end'>(
      {
        onStart: () => void starts++,
        receive: (_m, c) => c.stopSelf(),
      },
      { name: 'worker' },
    );
    await sim.scheduler.runUntilIdle();
    (sim.system.lookup('/parent/worker') as ActorRef<'end'>).tell('end');
    await sim.scheduler.runUntilIdle();
    expect(starts).toBe(2);
    expect(sim.system.lookup('/parent/worker')?.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('looks actors up by their absolute path only', async () => {
    const sim = simulated();
    const ref = sim.system.spawn<unknown>({ receive: () => undefined }, { name: 'b' });
    await sim.scheduler.runUntilIdle();
    expect(sim.system.lookup('/b')).toBe(ref);
    // Not a relative path, nor one whose tail happens to name an actor, nor the root.
    for (const path of ['b', 'ab', '', '/', '/b/', '/c']) expect(sim.system.lookup(path)).toBeUndefined();
    await shutdown(sim);
  });

  it('names a top-level child that exceeded its own restart limit by its path', async () => {
    const sim = simulated();
    const ref = sim.system.spawn<'crash'>(
      () => {
        throw new Error('again');
      },
      { name: 'fragile', restartLimit: { maxRestarts: 1, withinMs: 10_000 } },
    );
    ref.tell('crash');
    await sim.scheduler.runUntilIdle();
    const second = sim.system.lookup<'crash'>('/fragile') as ActorRef<'crash'>;
    const ended = sim.system.whenTerminated(second);
    second.tell('crash');
    await sim.scheduler.runAll();
    expect(await ended).toMatchObject({ kind: 'failed', failure: { kind: 'intensity-exceeded', child: '/fragile' } });
    await shutdown(sim);
  });
});

describe('a context’s children', () => {
  it('lists none before the first child, and leaves out one waiting for its restart', async () => {
    const sim = simulated({ supervision: { backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } });
    const ctx = await contextOf(sim);
    expect(ctx.children()).toEqual([]);
    const steady = ctx.spawn(() => undefined, { name: 'steady' });
    const flaky = ctx.spawn<'crash'>(
      () => {
        throw new Error('flaky');
      },
      { name: 'flaky' },
    );
    flaky.tell('crash');
    await sim.scheduler.runUntilIdle();
    expect(ctx.children()).toEqual([steady]); // flaky waits out its backoff
    await sim.scheduler.advanceBy(1000);
    expect(ctx.children().map((c) => c.path)).toEqual(['/parent/steady', '/parent/flaky']);
    await shutdown(sim);
  });

  it('stops a child as stopped, by ref or by name, and answers a stranger or an unknown name quietly', async () => {
    const sim = simulated();
    const ctx = await contextOf(sim);
    const other = await contextOf(sim, 'other');
    expect(await other.stopChild('nobody')).toBeNull();
    const a = ctx.spawn(() => undefined, { name: 'a' });
    const b = ctx.spawn(() => undefined, { name: 'b' });
    const aEnded = sim.system.whenTerminated(a);
    const byRef = ctx.stop(a);
    const byName = ctx.stopChild('b');
    await sim.scheduler.runAll();
    await byRef;
    expect([await aEnded, await byName]).toEqual([{ kind: 'stopped' }, { kind: 'stopped' }]);
    expect(b.isAlive).toBe(false);
    // Not a child of `other`: nothing to stop.
    const stranger = ctx.spawn(() => undefined, { name: 'c' });
    const quiet = other.stop(stranger);
    await sim.scheduler.runAll();
    await quiet;
    expect(stranger.isAlive).toBe(true);
    await shutdown(sim);
  });
});

describe('watching', () => {
  it('tells each watcher once, also with several, and not one that unwatched', async () => {
    const sim = simulated();
    const told: string[] = [];
    const target = sim.system.spawn(() => undefined, { name: 'target' });
    const watcher = (name: string, unwatchAfter: boolean): void => {
      sim.system.spawn<'unwatch'>(
        {
          onStart: (ctx) => {
            ctx.watch(target);
            ctx.watch(target); // twice: still one call
          },
          receive: (_m, ctx) => ctx.unwatch(target),
          onTerminated: (t, reason: ExitReason) => void told.push(`${name}: ${t.path} ${reason.kind}`),
        },
        { name },
      );
      if (unwatchAfter) (sim.system.lookup(`/${name}`) as ActorRef<'unwatch'>).tell('unwatch');
    };
    watcher('w1', false);
    watcher('w2', true);
    watcher('w3', false);
    await sim.scheduler.runUntilIdle();
    const stopped = sim.system.stop(target);
    await sim.scheduler.runAll();
    await stopped;
    expect(told.sort()).toEqual(['w1: /target stopped', 'w3: /target stopped']);
    await shutdown(sim);
  });

  it('lets a watcher without onTerminated carry on when its target dies', async () => {
    const sim = simulated();
    const failures: string[] = [];
    sim.system.inspect((event) => {
      if (event.type === 'failed') failures.push(event.actor);
    });
    const target = sim.system.spawn(() => undefined, { name: 'target' });
    const watcher = sim.system.spawn<unknown>({ onStart: (ctx) => ctx.watch(target), receive: () => undefined }, { name: 'watcher' });
    await sim.scheduler.runUntilIdle();
    const stopped = sim.system.stop(target);
    await sim.scheduler.runAll();
    await stopped;
    expect([failures, watcher.isAlive]).toEqual([[], true]);
    await shutdown(sim);
  });

  it('tells the last watcher left after the others unwatched', async () => {
    const sim = simulated();
    const told: string[] = [];
    const target = sim.system.spawn(() => undefined, { name: 'target' });
    const contexts: ActorContext<unknown>[] = [];
    for (const name of ['first', 'second']) {
      sim.system.spawn<unknown>(
        {
          onStart: (ctx) => {
            contexts.push(ctx);
            ctx.watch(target);
          },
          receive: () => undefined,
          onTerminated: () => void told.push(name),
        },
        { name },
      );
    }
    await sim.scheduler.runUntilIdle();
    contexts[0]?.unwatch(target);
    contexts[1]?.unwatch(target);
    contexts[1]?.watch(target);
    const stopped = sim.system.stop(target);
    await sim.scheduler.runAll();
    await stopped;
    expect(told).toEqual(['second']);
    await shutdown(sim);
  });
});

describe('a context’s own timers', () => {
  it('does not deliver a scheduled message once its handle is cancelled', async () => {
    const sim = simulated();
    const got: string[] = [];
    sim.system.spawn<string>(
      {
        onStart: (ctx) => {
          ctx.scheduleOnce(100, 'kept');
          ctx.scheduleOnce(100, 'cancelled').cancel();
        },
        receive: (m) => void got.push(m),
      },
      { name: 'timed' },
    );
    await sim.scheduler.advanceBy(1000);
    expect(got).toEqual(['kept']);
    await shutdown(sim);
  });
});

describe('the lanes and the drops, as the trace and the log tell them', () => {
  it('names the lane of each offer and the reason of each drop', async () => {
    const sim = simulated();
    const trace = traceOf(sim.system);
    const held = gate();
    const ref = sim.system.spawn<string>(() => held.promise, { name: 'x', mailboxCapacity: 1, priorityCapacity: 1 });
    ref.tell('in hand');
    await sim.scheduler.runUntilIdle();
    ref.tell('u');
    ref.tell('over');
    ref.tellPriority('p');
    ref.tellReserved('r');
    expect(trace.slice(1)).toEqual([
      'offered /x user in hand',
      'delivered /x in hand',
      'offered /x user u',
      'dropped /x full over',
      'dead-letter /x mailbox-full over',
      'offered /x priority p',
      'offered /x reserved r',
    ]);
    held.open();
    await shutdown(sim);
    ref.tell('late');
    expect(trace.slice(-2)).toEqual(['dropped /x closed late', 'dead-letter /x closed late']);
  });

  it('builds no event for a drop nobody observes', async () => {
    const emit = vi.spyOn(Inspector.prototype, 'emit');
    const sim = simulated();
    const held = gate();
    const ref = sim.system.spawn<string>(() => held.promise, { name: 'x', mailboxCapacity: 1 });
    ref.tell('in hand');
    await sim.scheduler.runUntilIdle();
    sim.system.onDeadLetter(() => undefined); // observed letters, yet no inspection event
    expect([ref.tell('queued'), ref.tell('over')]).toEqual(['enqueued', 'full']);
    held.open();
    await shutdown(sim);
    expect(ref.tell('late')).toBe('closed');
    expect(emit).not.toHaveBeenCalled();
    // 'queued' was still queued when the shutdown closed the mailbox (the held handler went first).
    expect(sim.system.deadLetterCounts()).toEqual({ 'mailbox-full': 1, closed: 1, 'lost-on-termination': 1 });
  });

  it('says a drained mailbox only for a run of drops whose start it said', async () => {
    const { logger, lines } = memoryLogger('info');
    const sim = simulated({ logger });
    const ref = sim.system.spawn<number>(() => undefined, { name: 'slow', mailboxCapacity: 1 });
    for (const run of [1, 2]) {
      ref.tell(run);
      ref.tell(run); // dropped: a run of drops begins
      await sim.scheduler.runUntilIdle();
      ref.tell(run); // accepted again: the run ends
      await sim.scheduler.runUntilIdle();
    }
    // The second run began within 10 s of the first warning: neither its start nor its end is said.
    expect(lines.map((l) => String(l.msg))).toEqual([
      'mailbox full: dropping messages until it drains',
      'mailbox drained: accepting messages again',
    ]);
    await shutdown(sim);
  });

  it('puts an actor in the run queue once, however many messages arrive: one turn per message', async () => {
    const sim = simulated();
    const ref = sim.system.spawn<number>(() => undefined, { name: 'x' });
    await sim.scheduler.runUntilIdle();
    for (let i = 0; i < 5; i++) ref.tell(i);
    expect(sim.scheduler.runnableCount).toBe(1);
    expect(await sim.scheduler.runUntilIdle()).toBe(5);
    await shutdown(sim);
  });

  it('counts what is queued, routine and reserved', async () => {
    const sim = simulated();
    const held = gate();
    const ref = sim.system.spawn<string>(() => held.promise, { name: 'x', mailboxCapacity: 4 });
    ref.tell('in hand');
    await sim.scheduler.runUntilIdle();
    ref.tell('a');
    ref.tell('b');
    ref.tellReserved('r');
    expect([ref.queued, ref.queuedRoutine]).toEqual([3, 2]);
    held.open();
    await shutdown(sim);
  });

  it('does not run a suspended actor for the messages it gets while its parent decides', async () => {
    const sim = simulated({ supervision: { decide: () => 'resume' } });
    const busy = gate();
    let child: ActorRef<string> | undefined;
    const parent = sim.system.spawn<'hold'>(
      {
        onStart: (ctx) => {
          child = ctx.spawn<string>(
            (m) => {
              if (m === 'crash') throw new Error('crash');
            },
            { name: 'child' },
          );
        },
        receive: () => busy.promise,
      },
      { name: 'parent', supervision: { decide: () => 'resume' } },
    );
    await sim.scheduler.runUntilIdle();
    parent.tell('hold');
    await sim.scheduler.runUntilIdle(); // the parent is busy
    child?.tell('crash');
    await sim.scheduler.runUntilIdle(); // the child failed and waits for its parent
    child?.tell('one');
    child?.tell('two');
    expect(sim.scheduler.runnableCount).toBe(0);
    busy.open();
    await shutdown(sim);
  });
});

describe('a busy actor', () => {
  it('is not run for a signal it gets while its handler is in hand, only once the handler ends', async () => {
    const sim = simulated();
    const held = gate();
    let context: ActorContext<string> | undefined;
    const ref = sim.system.spawn<string>(
      (_m, ctx) => {
        context = ctx;
        return held.promise;
      },
      { name: 'busy' },
    );
    ref.tell('work');
    await sim.scheduler.runUntilIdle();
    context?.crash(new Error('noticed while busy'));
    expect(sim.scheduler.runnableCount).toBe(0);
    const failed = sim.system.whenTerminated(ref);
    held.open();
    await sim.scheduler.runUntilIdle();
    expect(await failed).toMatchObject({ kind: 'failed', failure: { message: 'noticed while busy' } });
    await shutdown(sim);
  });
});

describe('a context kept after its actor ended', () => {
  it('ignores an unwatch of what it never watched, and a stopSelf after the end', async () => {
    const sim = simulated();
    const target = sim.system.spawn(() => undefined, { name: 'target' });
    const ctx = await contextOf(sim, 'keeper');
    ctx.unwatch(target);
    const keeper = sim.system.lookup('/keeper') as ActorRef<unknown>;
    const stopped = sim.system.stop(keeper);
    await sim.scheduler.runAll();
    await stopped;
    ctx.stopSelf();
    expect(sim.scheduler.runnableCount).toBe(0);
    expect(await sim.scheduler.runUntilIdle()).toBe(0);
    await shutdown(sim);
  });

  it('ignores a handler that rejects after its actor was killed: no failure, no log line', async () => {
    const { logger, lines } = memoryLogger('info');
    const sim = simulated({ logger });
    const held = gate();
    const failures: string[] = [];
    sim.system.inspect((event) => {
      if (event.type === 'failed') failures.push(event.actor);
    });
    const ref = sim.system.spawn<string>(
      async () => {
        await held.promise;
        throw new Error('too late');
      },
      { name: 'stuck', shutdownTimeoutMs: 100 },
    );
    ref.tell('work');
    await sim.scheduler.runUntilIdle();
    const ended = sim.system.whenTerminated(ref);
    const stopped = sim.system.stop(ref);
    await sim.scheduler.advanceBy(100);
    await stopped;
    expect(await ended).toEqual({ kind: 'killed', failure: { kind: 'stop-timeout', message: 'did not stop within 100 ms', timeoutMs: 100 } });
    held.open();
    await sim.scheduler.runUntilIdle();
    expect(failures).toEqual([]);
    expect(lines.filter((l) => l.level === 50)).toEqual([]);
    await shutdown(sim);
  });
});

describe('failures of a context’s own making', () => {
  it('reports a crash once, while the actor waits for its parent, as a thrown failure', async () => {
    const decided: string[] = [];
    const sim = simulated({ supervision: { decide: (f) => (decided.push(`${f.kind}: ${f.message}`), 'resume') } });
    let context: ActorContext<unknown> | undefined;
    sim.system.spawn<unknown>({ onStart: (ctx) => void (context = ctx), receive: () => undefined }, { name: 'crasher' });
    await sim.scheduler.runUntilIdle();
    context?.crash(new Error('first'));
    context?.crash(new Error('second, while suspended'));
    await sim.scheduler.runUntilIdle();
    expect(decided).toEqual(['thrown: first']);
    await shutdown(sim);
  });

  it('calls a failure of onStart or of the factory thrown, and a resumed actor whose factory failed takes messages without handling them', async () => {
    const decided: string[] = [];
    const sim = simulated({ supervision: { decide: (f) => (decided.push(`${f.kind}: ${f.message}`), 'resume') } });
    sim.system.spawn<unknown>(
      {
        onStart: () => {
          throw new Error('onStart broke');
        },
        receive: () => undefined,
      },
      { name: 'bad-start' },
    );
    const unbuilt = sim.system.spawn<string>(
      {
        create: () => {
          throw new Error('factory broke');
        },
      },
      { name: 'unbuilt' },
    );
    await sim.scheduler.runUntilIdle();
    unbuilt.tell('ignored');
    await sim.scheduler.runUntilIdle();
    expect(decided.sort()).toEqual(['thrown: factory broke', 'thrown: onStart broke']);
    expect(unbuilt.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('does not restart a child stopped while it waited out its backoff', async () => {
    const sim = simulated({ supervision: { backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } });
    const ctx = await contextOf(sim);
    let starts = 0;
    const flaky = ctx.spawn<'crash'>(
      {
        onStart: () => void starts++,
        receive: () => {
          throw new Error('flaky');
        },
      },
      { name: 'flaky' },
    );
    flaky.tell('crash');
    await sim.scheduler.runUntilIdle();
    const stopped = ctx.stopChild('flaky');
    await sim.scheduler.advanceBy(2000);
    expect(await stopped).toBeNull(); // no incarnation was running: the pending restart is cancelled
    expect([starts, ctx.children()]).toEqual([1, []]);
    await shutdown(sim);
  });

  it('logs an onStop that throws, and still ends the actor as asked', async () => {
    const { logger, lines } = memoryLogger('info');
    const sim = simulated({ logger });
    const ref = sim.system.spawn<unknown>(
      {
        receive: () => undefined,
        onStop: () => {
          throw new Error('cleanup broke');
        },
      },
      { name: 'messy' },
    );
    const ended = sim.system.whenTerminated(ref);
    const stopped = sim.system.stop(ref);
    await sim.scheduler.runAll();
    await stopped;
    expect(await ended).toEqual({ kind: 'stopped' });
    const line = lines.find((l) => l.msg === 'onStop failed');
    expect([line?.level, line?.actor, (line?.err as { message?: string } | undefined)?.message]).toEqual([50, '/messy', 'cleanup broke']);
    await shutdown(sim);
  });

  it('kills a stuck actor whose child waits out its backoff', async () => {
    const sim = simulated({ supervision: { backoff: { minMs: 1000, maxMs: 1000, jitter: 0 } } });
    const held = gate();
    let flaky: ActorRef<'crash'> | undefined;
    const parent = sim.system.spawn<'hold'>(
      {
        onStart: (ctx) => {
          flaky = ctx.spawn<'crash'>(
            () => {
              throw new Error('flaky');
            },
            { name: 'flaky' },
          );
        },
        receive: () => held.promise,
      },
      { name: 'stuck', shutdownTimeoutMs: 100 },
    );
    await sim.scheduler.runUntilIdle();
    flaky?.tell('crash');
    await sim.scheduler.runUntilIdle(); // the child waits out its backoff
    parent.tell('hold');
    await sim.scheduler.runUntilIdle();
    const ended = sim.system.whenTerminated(parent);
    const stopped = sim.system.stop(parent);
    await sim.scheduler.advanceBy(100);
    await stopped;
    expect(await ended).toMatchObject({ kind: 'killed', failure: { kind: 'stop-timeout' } });
    await sim.scheduler.advanceBy(2000);
    expect(sim.system.lookup('/stuck/flaky')).toBeUndefined();
    held.open();
    await shutdown(sim);
  });
});
