import { describe, expect, it } from 'vitest';
import type { ActorContext, ActorRef } from '../../src/index.js';
import { gate, outcome, shutdown, simulated, traceOf } from './support.js';

describe('actors', () => {
  it('gives each actor a name, a path in the tree, and an id: the nanoid of its incarnation', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    let child: ActorRef<unknown> | undefined;
    const parent = system.spawn<never>(
      {
        onStart: (ctx) => {
          child = ctx.spawn(() => undefined, { name: 'child' });
        },
        receive: () => undefined,
      },
      { name: 'parent' },
    );
    const anonymous = system.spawn(() => undefined);
    await scheduler.runUntilIdle();
    expect(parent.path).toBe('/parent');
    expect(child?.path).toBe('/parent/child');
    expect(anonymous.name).toMatch(/^\$\d+$/);
    expect(anonymous.path).toBe(`/${anonymous.name}`);
    expect(parent.id).not.toBe(anonymous.id);
    expect(parent.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(parent.id).toBe(parent.incarnation);
    expect(system.lookup('/parent/child')).toBe(child);
    expect(system.lookup('/nobody')).toBeUndefined();
    await shutdown(sim);
  });

  it('handles one message at a time, in mailbox order, also when handlers are async', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    let inside = 0;
    const ref = system.spawn<number>(
      async (n, ctx) => {
        inside++;
        expect(inside).toBe(1);
        log.push(`start ${n}`);
        await ctx.delay(10 - n); // later messages finish sooner if they were allowed to overlap
        log.push(`end ${n}`);
        inside--;
      },
      { name: 'serial' },
    );
    for (const n of [1, 2, 3]) ref.tell(n);
    await scheduler.runAll();
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(scheduler.now()).toBe(9 + 8 + 7);
    await shutdown(sim);
  });

  it('creates fresh state per incarnation from a factory and shares nothing between actors', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const counts: number[] = [];
    const counter = {
      create: () => {
        let n = 0;
        return { receive: (m: 'inc' | 'report') => void (m === 'inc' ? n++ : counts.push(n)) };
      },
    };
    const a = system.spawn(counter, { name: 'a' });
    const b = system.spawn(counter, { name: 'b' });
    a.tell('inc');
    a.tell('inc');
    a.tell('report');
    await scheduler.runUntilIdle();
    b.tell('report');
    await scheduler.runUntilIdle();
    expect(counts).toEqual([2, 0]);
    await shutdown(sim);
  });

  it('ends normally with ctx.stopSelf() once the current message is handled', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const handled: string[] = [];
    const ref = system.spawn<string>(
      (m, ctx) => {
        handled.push(m);
        if (m === 'last') ctx.stopSelf();
      },
      { name: 'quitter', restart: 'transient' },
    );
    const reason = system.whenTerminated(ref);
    for (const m of ['a', 'last', 'never']) ref.tell(m);
    await scheduler.runUntilIdle();
    expect(await reason).toEqual({ kind: 'normal' });
    expect(handled).toEqual(['a', 'last']);
    expect(system.deadLetterCounts()['lost-on-termination']).toBe(1);
    await shutdown(sim);
  });

  it('never counts a handler that ends after its actor was killed as handled: its message is lost, once', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const trace = traceOf(system);
    const held = gate();
    const ref = system.spawn<string>(() => held.promise, { name: 'stuck', shutdownTimeoutMs: 100 });
    ref.tell('in-hand');
    await scheduler.runUntilIdle();
    const stopped = system.stop(ref);
    await scheduler.runAll();
    await stopped;
    expect(await system.whenTerminated(ref)).toMatchObject({ kind: 'killed' });
    // The abandoned handler ends now: too late, its actor is gone.
    held.open();
    await scheduler.runAll();
    expect(trace.filter((line) => line.includes('in-hand'))).toEqual([
      'offered /stuck user in-hand',
      'delivered /stuck in-hand',
      'dead-letter /stuck lost-on-termination in-hand',
    ]);
    expect(system.deadLetterCounts()['lost-on-termination']).toBe(1);
    await shutdown(sim);
  });

  it('runs onStart before the first message and onStop once at the end', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const ref = system.spawn<string>(
      {
        onStart: () => void log.push('start'),
        receive: (m) => void log.push(m),
        onStop: (_ctx, reason) => void log.push(`stop ${reason.kind}`),
      },
      { name: 'hooks' },
    );
    ref.tell('hello');
    await scheduler.runUntilIdle();
    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    expect(log).toEqual(['start', 'hello', 'stop stopped']);
    await shutdown(sim);
  });

  it('lists live children in start order and stops one with ctx.stop', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    let ctxOf: ActorContext<string> | undefined;
    system.spawn<string>(
      {
        onStart: (ctx) => {
          ctxOf = ctx;
          for (const name of ['a', 'b', 'c']) ctx.spawn(() => undefined, { name });
        },
        receive: () => undefined,
      },
      { name: 'parent' },
    );
    await scheduler.runUntilIdle();
    const ctx = ctxOf as ActorContext<string>;
    expect(ctx.children().map((c) => c.name)).toEqual(['a', 'b', 'c']);
    const b = ctx.children()[1] as ActorRef<unknown>;
    const stopped = ctx.stop(b);
    await scheduler.runUntilIdle();
    await stopped;
    expect(b.isAlive).toBe(false);
    expect(ctx.children().map((c) => c.name)).toEqual(['a', 'c']);
    await shutdown(sim);
  });

  it('rejects a duplicate sibling name with duplicate-name, but allows it under another parent', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    system.spawn(() => undefined, { name: 'worker' });
    expect(() => system.spawn(() => undefined, { name: 'worker' })).toThrow(expect.objectContaining({ code: 'duplicate-name' }));
    let nested: string | undefined;
    system.spawn<never>(
      {
        onStart: (ctx) => {
          nested = ctx.spawn(() => undefined, { name: 'worker' }).path;
          expect(() => ctx.spawn(() => undefined, { name: 'worker' })).toThrow(expect.objectContaining({ code: 'duplicate-name' }));
        },
        receive: () => undefined,
      },
      { name: 'team' },
    );
    await scheduler.runUntilIdle();
    expect(nested).toBe('/team/worker');
    await shutdown(sim);
  });

  it('rejects bad names and bad options with invalid-argument before spawning anything', async () => {
    const sim = simulated();
    const { system } = sim;
    const bad = [
      { name: '' },
      { name: 'a/b' },
      { restart: 'sometimes' as never },
      { shutdownTimeoutMs: -1 },
      { supervision: { maxRestarts: -1 } },
      { supervision: { withinMs: 0 } },
      { supervision: { strategy: 'all-for-none' as never } },
      { supervision: { backoff: { minMs: 100, maxMs: 10 } } },
      { supervision: { backoff: { minMs: 1, maxMs: 10, jitter: 2 } } },
    ];
    for (const options of bad) {
      expect(() => system.spawn(() => undefined, options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    }
    expect(system.lookup('/a')).toBeUndefined();
    await shutdown(sim);
  });

  it('refuses to spawn on a stopped system with system-stopped', async () => {
    const sim = simulated();
    await shutdown(sim);
    expect(sim.system.isRunning).toBe(false);
    expect(() => sim.system.spawn(() => undefined)).toThrow(expect.objectContaining({ code: 'system-stopped' }));
  });

  it('refuses refs of another system with unknown-actor', async () => {
    const one = simulated();
    const two = simulated();
    const foreign = two.system.spawn(() => undefined, { name: 'foreign' });
    await expect(one.system.whenTerminated(foreign)).rejects.toMatchObject({ code: 'unknown-actor' });
    await expect(one.system.stop(foreign)).rejects.toMatchObject({ code: 'unknown-actor' });
    let watchError: unknown;
    one.system.spawn<never>(
      {
        onStart: (ctx) => {
          try {
            ctx.watch(foreign);
          } catch (error) {
            watchError = error;
          }
        },
        receive: () => undefined,
      },
      { name: 'local' },
    );
    await one.scheduler.runUntilIdle();
    expect(watchError).toMatchObject({ code: 'unknown-actor' });
    await shutdown(one);
    await shutdown(two);
  });

  it('stops a child from outside even while its parent is stopping, and resolves both stops', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const slowStop = gate();
    const parent = system.spawn<never>(
      {
        onStart: (ctx) => void ctx.spawn({ receive: () => undefined, onStop: () => slowStop.promise }, { name: 'child' }),
        receive: () => undefined,
      },
      { name: 'parent' },
    );
    await scheduler.runUntilIdle();
    const child = system.lookup('/parent/child') as ActorRef<unknown>;
    const parentStopped = outcome(system.stop(parent));
    await scheduler.runUntilIdle(); // the parent is now stopping, waiting for the child's onStop
    const childStopped = outcome(system.stop(child));
    slowStop.open();
    await scheduler.runUntilIdle();
    expect(await parentStopped).toEqual({ ok: true, value: undefined });
    expect(await childStopped).toEqual({ ok: true, value: undefined });
    expect(child.isAlive).toBe(false);
    await shutdown(sim);
  });

  it('stops the incarnation it was given: a restart that came first lives on', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const parentBusy = gate();
    const parent = system.spawn<'hold'>(
      {
        onStart: (ctx) =>
          void ctx.spawn<'boom'>(() => {
            throw new Error('boom');
          }, { name: 'child' }),
        receive: () => parentBusy.promise,
      },
      { name: 'parent' },
    );
    await scheduler.runUntilIdle();
    parent.tell('hold');
    await scheduler.runUntilIdle();
    const first = system.lookup<'boom'>('/parent/child') as ActorRef<'boom'>;
    first.tell('boom');
    await scheduler.runUntilIdle(); // failed; the parent decides once it is free
    const stopped = outcome(system.stop(first));
    parentBusy.open();
    await scheduler.runUntilIdle();
    expect(await stopped).toEqual({ ok: true, value: undefined });
    expect(first.isAlive).toBe(false);
    const second = system.lookup('/parent/child');
    expect(second).not.toBe(first);
    expect(second?.isAlive).toBe(true);
    await shutdown(sim);
  });
});
