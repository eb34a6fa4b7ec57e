import { describe, expect, it } from 'vitest';
import { createActorSystem, createSimulatedScheduler, type Schedulable, type SimulatedScheduler } from '../../src/index.js';
import { refusal, shutdown, simulated, traceOf } from './support.js';

describe('the simulated scheduler', () => {
  it('fires timers in virtual time order, only when driven', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false, startTime: 1000 });
    const fired: string[] = [];
    scheduler.setTimer(30, () => fired.push(`b@${scheduler.now()}`));
    scheduler.setTimer(10, () => fired.push(`a@${scheduler.now()}`));
    scheduler.setTimer(30, () => fired.push(`c@${scheduler.now()}`)); // same time: in creation order
    const cancelled = scheduler.setTimer(20, () => fired.push('cancelled'));
    cancelled.cancel();
    expect(scheduler.pendingTimers).toBe(3);

    await scheduler.advanceBy(10);
    expect(fired).toEqual(['a@1010']);
    await scheduler.advanceBy(100);
    expect(fired).toEqual(['a@1010', 'b@1030', 'c@1030']);
    expect(scheduler.now()).toBe(1110);
  });

  it('runAll fires every pending timer, including the ones timers set, up to maxTime', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(scheduler.now());
      if (scheduler.now() < 300) scheduler.setTimer(100, tick);
    };
    scheduler.setTimer(100, tick);
    scheduler.setTimer(Number.POSITIVE_INFINITY, () => fired.push(-1)); // never
    await scheduler.runAll({ maxTime: 250 });
    expect(fired).toEqual([100, 200]);
    await scheduler.runAll();
    expect(fired).toEqual([100, 200, 300]);
    expect(scheduler.now()).toBe(300);
    expect(() => scheduler.setTimer(-1, () => undefined)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('runs one seeded-chosen runnable task per step', () => {
    const scheduler = createSimulatedScheduler({ seed: 3, autoRun: false });
    const ran: string[] = [];
    const task = (name: string): Schedulable => ({ runSlice: () => void ran.push(name) });
    for (const name of ['a', 'b', 'c']) scheduler.enqueue(task(name));
    expect(scheduler.runnableCount).toBe(3);
    while (scheduler.step());
    expect([...ran].sort()).toEqual(['a', 'b', 'c']);
    expect(scheduler.step()).toBe(false);
  });

  it('gives the same seed the same ids, randoms and choices', () => {
    const draw = (seed: number): string[] => {
      const scheduler = createSimulatedScheduler({ seed, autoRun: false });
      const ran: string[] = [];
      for (const name of ['a', 'b', 'c', 'd', 'e']) scheduler.enqueue({ runSlice: () => void ran.push(name) });
      while (scheduler.step());
      return [scheduler.newId(), String(scheduler.random()), ran.join('')];
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
  });

  it('moves ctx.delay and scheduleOnce along virtual time, and cancels them with the actor', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const ref = system.spawn<'start' | 'tick'>(
      async (m, ctx) => {
        if (m === 'tick') {
          log.push(`tick@${ctx.now()}`);
          return;
        }
        ctx.scheduleOnce(500, 'tick');
        ctx.scheduleOnce(5000, 'tick');
        await ctx.delay(200);
        log.push(`delayed@${ctx.now()}`);
      },
      { name: 'timed' },
    );
    ref.tell('start');
    await scheduler.advanceBy(1000);
    expect(log).toEqual(['delayed@200', 'tick@500']);
    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    await scheduler.runAll();
    expect(log).toEqual(['delayed@200', 'tick@500']);
    expect(scheduler.now()).toBe(1000); // the 5000 ms timer was cancelled, not fired
    await shutdown(sim);
  });

  it('runs by itself when autoRun is on, so awaiting a reply needs no driving', async () => {
    const scheduler = createSimulatedScheduler({ seed: 2 });
    const system = createActorSystem({ scheduler });
    const echo = system.spawn<{ text: string; reply: (t: string) => void }>((m) => m.reply(m.text.toUpperCase()));
    expect(await system.ask<string, { text: string; reply: (t: string) => void }>(echo, (reply) => ({ text: 'hi', reply }))).toBe('HI');
    await system.shutdown();
    expect(scheduler.now()).toBe(0); // virtual time only moves when asked to
  });

  it('interleaves actors one message per turn, in an order fixed by the seed', async () => {
    const orderFor = async (seed: number): Promise<string> => {
      const sim = simulated({ seed });
      const order: string[] = [];
      const refs = ['a', 'b', 'c'].map((name) => sim.system.spawn<number>(() => void order.push(name), { name }));
      for (let i = 0; i < 4; i++) for (const ref of refs) ref.tell(i);
      await sim.scheduler.runUntilIdle();
      await shutdown(sim);
      return order.join('');
    };
    const first = await orderFor(1);
    expect(await orderFor(1)).toBe(first);
    const orders = new Set(await Promise.all([1, 2, 3, 4, 5, 6].map(orderFor)));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('stamps inspection events with virtual time', async () => {
    const sim = simulated();
    const trace = traceOf(sim.system, true);
    const ref = sim.system.spawn<string>(() => undefined, { name: 'x' });
    await sim.scheduler.advanceBy(42);
    ref.tell('late');
    await sim.scheduler.runUntilIdle();
    expect(trace).toEqual(['0 spawned /x', '42 offered /x user late', '42 delivered /x late', '42 handled /x late']);
    await shutdown(sim);
  });
});

describe('the simulated scheduler, member by member', () => {
  /** A task that runs `times` times, re-enqueueing itself; `runs()` counts its runs so far. */
  function selfRenewing(scheduler: SimulatedScheduler, times: number) {
    let runs = 0;
    const task: Schedulable = {
      runSlice() {
        if (++runs < times) scheduler.enqueue(task);
      },
    };
    scheduler.enqueue(task);
    return { runs: () => runs };
  }

  it('is simulated, and gives each turn its throughput as the budget', () => {
    const scheduler = createSimulatedScheduler({ throughput: 3, autoRun: false });
    expect([scheduler.kind, scheduler.throughput]).toEqual(['simulated', 3]);
    const budgets: number[] = [];
    scheduler.enqueue({ runSlice: (budget) => void budgets.push(budget) });
    scheduler.step();
    expect(budgets).toEqual([3]);
  });

  it('fires timers due at the same time in the order they were set, however many there are', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const fired: string[] = [];
    const delays = [30, 10, 30, 20, 10, 0, 30, 20, 10, 0, 30, 10, 20, 20, 0, 30, 10, 30, 20, 0];
    delays.forEach((delay, i) => scheduler.setTimer(delay, () => fired.push(`${delay}:${i}`)));
    await scheduler.runAll();
    const expected = delays.map((delay, i) => ({ delay, i })).sort((a, b) => a.delay - b.delay || a.i - b.i);
    expect(fired).toEqual(expected.map(({ delay, i }) => `${delay}:${i}`));
    expect(scheduler.now()).toBe(30);
  });

  it('fires a zero delay at the current time, never arms an infinite one, and refuses a negative or NaN one', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false, startTime: 5 });
    const fired: number[] = [];
    scheduler.setTimer(0, () => fired.push(scheduler.now()));
    const never = scheduler.setTimer(Number.POSITIVE_INFINITY, () => fired.push(-1));
    expect(scheduler.pendingTimers).toBe(1);
    never.cancel();
    await scheduler.advanceBy(0);
    expect(fired).toEqual([5]);
    for (const delay of [-1, Number.NaN]) {
      const error = refusal(() => scheduler.setTimer(delay, () => undefined));
      expect(`${error.code}: ${error.message}`).toBe(`invalid-argument: Expected a timer delay >= 0, got ${String(delay)}`);
    }
  });

  it('draws nothing from the seed for a turn with one runnable task: there is no choice to make', () => {
    const stepped = createSimulatedScheduler({ seed: 5, autoRun: false });
    stepped.enqueue({ runSlice: () => undefined });
    stepped.step();
    const fresh = createSimulatedScheduler({ seed: 5, autoRun: false });
    expect(stepped.random()).toBe(fresh.random());
  });

  it('makes the same ids for a seed from one version to the next', () => {
    const scheduler = createSimulatedScheduler({ seed: 7, autoRun: false });
    expect([scheduler.newId(), scheduler.newId(), scheduler.newId()]).toEqual([
      '0xxIGRvFFebostydjtPYf',
      'SpgsjYrdXw-yqr4jNms4X',
      't45RBfvP0SG7rX7BHqJvP',
    ]);
  });

  it('stops runUntilIdle and runAll after maxTurns turns', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const task = selfRenewing(scheduler, 10);
    expect(await scheduler.runUntilIdle({ maxTurns: 3 })).toBe(3);
    expect([task.runs(), scheduler.runnableCount]).toEqual([3, 1]);
    await scheduler.runAll({ maxTurns: 2 });
    expect(task.runs()).toBe(5);
    expect(await scheduler.runUntilIdle()).toBe(5);
    expect(task.runs()).toBe(10);
  });

  it('lets macrotasks in every 1024 turns of a long run', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const task = selfRenewing(scheduler, 3000);
    let runsWhenImmediateRan = -1;
    setImmediate(() => (runsWhenImmediateRan = task.runs()));
    expect(await scheduler.runUntilIdle()).toBe(3000);
    expect(runsWhenImmediateRan).toBe(1024);
  });

  it('with autoRun off, runs nothing until driven', async () => {
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const task = selfRenewing(scheduler, 1);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect([task.runs(), scheduler.runnableCount]).toEqual([0, 1]);
  });

  it('with autoRun on, leaves to the next driver what one stopped at maxTurns did not run', async () => {
    const scheduler = createSimulatedScheduler();
    // The task arrives while the driver waits for a macrotask: work that arrives while a driver
    // runs is the driver's, and does not start an auto-run of its own.
    const driven = scheduler.runUntilIdle({ maxTurns: 3 });
    const task = selfRenewing(scheduler, 10);
    expect(await driven).toBe(3);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect([task.runs(), scheduler.runnableCount]).toEqual([3, 1]);
    expect(await scheduler.runUntilIdle()).toBe(7);
  });

  it('with autoRun on, stays out of the way of a driver: every turn is the driver’s', async () => {
    const scheduler = createSimulatedScheduler();
    const ran: string[] = [];
    // The second task arrives from a promise continuation, while the driver waits for a macrotask.
    scheduler.enqueue({
      runSlice: () => {
        ran.push('first');
        void Promise.resolve().then(() => scheduler.enqueue({ runSlice: () => void ran.push('second') }));
      },
    });
    expect(await scheduler.runUntilIdle()).toBe(2);
    expect(ran).toEqual(['first', 'second']);
  });
});
