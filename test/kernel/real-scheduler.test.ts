import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActorSystem, createRealScheduler, type ActorRef, type Failure, type Schedulable, type Scheduler } from '../../src/index.js';

/** These tests use the production scheduler: they await the promise that proves each state. */
describe('the real scheduler', () => {
  it('runs messages, ask, supervision and shutdown', async () => {
    const failures: Failure[] = [];
    const system = createActorSystem({ supervision: { decide: (f) => (failures.push(f), 'restart') } });
    expect(system.scheduler.kind).toBe('real');
    type Message = { type: 'add'; n: number } | { type: 'sum'; reply: (n: number) => void } | { type: 'boom' };
    const summer = system.spawn<Message>(
      {
        create: () => {
          let total = 0;
          return {
            receive: async (m) => {
              await Promise.resolve();
              if (m.type === 'add') total += m.n;
              else if (m.type === 'sum') m.reply(total);
              else throw new Error('boom');
            },
          };
        },
      },
      { name: 'summer', mailboxCapacity: 200 },
    );
    for (let n = 1; n <= 100; n++) summer.tell({ type: 'add', n });
    expect(await system.ask<number, Message>(summer, (reply) => ({ type: 'sum', reply }))).toBe(5050);

    const died = system.whenTerminated(summer);
    const restarted = new Promise<void>((resolve) => {
      const stop = system.inspect((event) => {
        if (event.type === 'restarted') {
          stop();
          resolve();
        }
      });
    });
    summer.tell({ type: 'boom' });
    expect(await died).toMatchObject({ kind: 'failed', failure: { kind: 'rejected', message: 'boom' } });
    await restarted;
    const fresh = system.lookup<Message>('/summer') as ActorRef<Message>;
    expect(await system.ask<number, Message>(fresh, (reply) => ({ type: 'sum', reply }))).toBe(0);
    expect(failures).toHaveLength(1);

    await system.shutdown();
    expect(fresh.isAlive).toBe(false);
  });

  it('kills an actor that hangs in onStop after its timeout, on the wall clock', async () => {
    const system = createActorSystem();
    const hanging = system.spawn<never>(
      { receive: () => undefined, onStop: () => new Promise<void>(() => undefined) },
      { name: 'hanging', shutdownTimeoutMs: 5 },
    );
    await system.shutdown();
    expect(await system.whenTerminated(hanging)).toMatchObject({ kind: 'killed', failure: { kind: 'stop-timeout' } });
  });

  it('yields to the event loop while it drains a huge backlog', async () => {
    const total = 50_000;
    // 32 messages per turn, a yield at the latest after 256 turns (the default also yields after 4 ms)
    const system = createActorSystem({ scheduler: createRealScheduler({ turnsPerYield: 256 }) });
    const order: string[] = [];
    let handled = 0;
    let handledWhenImmediateRan = -1;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const ref = system.spawn<number>(
      (n) => {
        handled++;
        if (n === 0) {
          setImmediate(() => {
            handledWhenImmediateRan = handled;
            order.push('immediate');
          });
        }
        if (n === total - 1) {
          order.push('backlog done');
          finish();
        }
      },
      { name: 'busy', mailboxCapacity: total },
    );
    for (let n = 0; n < total; n++) ref.tell(n);
    await finished;
    expect(order).toEqual(['immediate', 'backlog done']);
    expect(handledWhenImmediateRan).toBeGreaterThan(0);
    expect(handledWhenImmediateRan).toBeLessThan(total);
    await system.shutdown();
  });

  it('yields to the event loop during a restart storm carried by promise continuations', async () => {
    const restarts = 20_000;
    const system = createActorSystem({
      supervision: { maxRestarts: Number.MAX_SAFE_INTEGER, withinMs: 1000 },
    });
    const order: string[] = [];
    let starts = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    system.spawn<'crash'>(
      {
        create: (ctx) => ({
          onStart: () => {
            starts++;
            if (starts === 1) {
              setImmediate(() => order.push(`immediate after ${starts < restarts ? 'some' : 'all'} restarts`));
            }
            if (starts === restarts) {
              order.push('storm over');
              finish();
              return;
            }
            ctx.self.tell('crash');
          },
          receive: () => {
            throw new Error('again');
          },
        }),
      },
      { name: 'storm' },
    );
    await finished;
    await system.shutdown();
    expect(order).toEqual(['immediate after some restarts', 'storm over']);
  });

  it('lets many actors take turns from one run queue', async () => {
    const system = createActorSystem({ scheduler: createRealScheduler({ throughput: 1 }) });
    const order: string[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const refs = ['a', 'b'].map((name) =>
      system.spawn<number>(
        (n) => {
          order.push(`${name}${n}`);
          if (order.length === 6) finish();
        },
        { name },
      ),
    );
    for (let n = 0; n < 3; n++) for (const ref of refs) ref.tell(n);
    await finished;
    await system.shutdown();
    // One message per turn: the two actors alternate.
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });
});

/**
 * The drain's yields, counted in task runs: the test owns the clock the slice is measured on
 * (`performance.now`, frozen or moved by the tasks themselves), so where the drain yields does not
 * depend on how fast the machine is.
 */
describe('the real scheduler drains in slices', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A task that runs `total` times, re-enqueueing itself, each run costing `msPerRun` on the clock. */
  function selfRenewing(scheduler: Scheduler, total: number, msPerRun: number, runAsync = false) {
    let runs = 0;
    let runsWhenImmediateRan = -1;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const budgets = new Set<number>();
    const task: Schedulable = {
      runSlice(budget) {
        budgets.add(budget);
        runs++;
        clock += msPerRun;
        if (runs === 1) setImmediate(() => (runsWhenImmediateRan = runs));
        if (runs === total) finish();
        else if (runAsync) void Promise.resolve().then(() => scheduler.enqueue(task));
        else scheduler.enqueue(task);
      },
    };
    scheduler.enqueue(task);
    return { finished, budgets, runsBeforeYield: () => runsWhenImmediateRan };
  }

  it('yields after turnsPerYield turns when the slice has time left', async () => {
    const scheduler = createRealScheduler({ turnsPerYield: 256 }); // the clock stands still: only the turns count
    const run = selfRenewing(scheduler, 1000, 0);
    await run.finished;
    expect(run.runsBeforeYield()).toBe(256);
    expect([...run.budgets]).toEqual([32]);
  });

  it('yields at the first look at the clock (every 32 turns) once sliceMs has passed', async () => {
    // Each run costs 1/8 ms: the look at turn 32 sees 3.875 ms, the one at turn 64 sees 7.875 ms.
    const scheduler = createRealScheduler({ sliceMs: 7.875, throughput: 1 });
    const run = selfRenewing(scheduler, 1000, 0.125);
    await run.finished;
    expect(run.runsBeforeYield()).toBe(63);
    expect([...run.budgets]).toEqual([1]);
  });

  it('counts the drains started by promise continuations in the same slice', async () => {
    // Each run is its own drain (the task comes back from a promise continuation); the slice
    // spans them all until the event loop gets a turn.
    const scheduler = createRealScheduler({ sliceMs: 10 });
    const run = selfRenewing(scheduler, 100, 1, true);
    await run.finished;
    expect(run.runsBeforeYield()).toBe(10);
  });

  it('drains in the same microtask checkpoint when the event loop has just had a turn', async () => {
    // sliceMs 0: any time counts as a used slice, so only a fresh slice may skip the event loop.
    const scheduler = createRealScheduler({ sliceMs: 0 });
    const order: string[] = [];
    for (const round of [1, 2]) {
      await new Promise((resolve) => setImmediate(resolve));
      setImmediate(() => order.push(`event loop ${round}`));
      scheduler.enqueue({ runSlice: () => void order.push(`ran ${round}`) });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(order).toEqual(['ran 1', 'event loop 1', 'ran 2', 'event loop 2']);
  });

  it('tells time from the performance clock, in milliseconds since the epoch', () => {
    const scheduler = createRealScheduler();
    clock = 5000;
    expect(scheduler.now()).toBe(performance.timeOrigin + 5000);
  });
});

describe('the real scheduler', () => {
  it('makes 21-character url-safe ids, each new', () => {
    const scheduler = createRealScheduler();
    const ids = Array.from({ length: 50 }, () => scheduler.newId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the real scheduler timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fire after their delay, not before, and not once cancelled', () => {
    const scheduler = createRealScheduler();
    const fired: string[] = [];
    scheduler.setTimer(50, () => fired.push('kept'));
    scheduler.setTimer(50, () => fired.push('cancelled')).cancel();
    vi.advanceTimersByTime(49);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['kept']);
  });

  it('chain a delay past 2^31 - 1 ms (which setTimeout alone would fire at once), and never arm an infinite one', () => {
    const scheduler = createRealScheduler();
    const fired: string[] = [];
    const max = 2 ** 31 - 1;
    scheduler.setTimer(max + 1000, () => fired.push('late'));
    const never = scheduler.setTimer(Number.POSITIVE_INFINITY, () => fired.push('never'));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(max);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['late']);
    never.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });
});
