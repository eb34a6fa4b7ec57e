import { ModactorError } from './errors.js';
import { createRandom, type Random } from './random.js';
import { seededIdGenerator, type Schedulable, type Scheduler, type TimerHandle } from './scheduler.js';

/** Options of {@link createSimulatedScheduler}. */
export interface SimulatedSchedulerOptions {
  /** Seed of every choice the scheduler makes. Default 1. */
  seed?: number;
  /** Virtual time at start, in ms. Default 0. */
  startTime?: number;
  /** Messages per actor turn. Default 1, so every message is a point of interleaving. */
  throughput?: number;
  /**
   * When true (the default), runnable actors are run automatically on a macrotask after work
   * arrives, so `await node.load(...)` resolves without driving by hand. Virtual time only ever
   * moves through {@link SimulatedScheduler.advanceBy} or {@link SimulatedScheduler.runAll}.
   */
  autoRun?: boolean;
}

/**
 * A deterministic scheduler: a virtual clock, timers in virtual time, and a seeded choice of which
 * runnable actor goes next. Given the same seed and the same program, every run makes the same
 * choices, so any interleaving found by a test can be replayed exactly.
 *
 * Async continuations (a handler awaiting a promise) run whenever the run queue is empty, before
 * virtual time moves.
 *
 * @example
 * ```ts
 * const scheduler = createSimulatedScheduler({ seed: 7 });
 * const system = createActorSystem({ scheduler });
 * system.spawn((msg: string) => { seen.push(msg); }).tell('hi');
 * await scheduler.runUntilIdle();
 * ```
 */
export interface SimulatedScheduler extends Scheduler {
  readonly kind: 'simulated';
  readonly seed: number;
  /** Runnable actors right now. */
  readonly runnableCount: number;
  /** Timers pending in virtual time. */
  readonly pendingTimers: number;
  /** Runs one turn of one seeded-chosen runnable actor. Returns false when none is runnable. */
  step(): boolean;
  /** Runs actors (and async continuations) until nothing is runnable. Time does not move. */
  runUntilIdle(options?: { maxTurns?: number }): Promise<number>;
  /** Runs until idle, then fires timers in order up to `now + ms`, running to idle after each. */
  advanceBy(ms: number): Promise<void>;
  /** Runs until no actor is runnable and no timer is pending (or until `maxTime`). */
  runAll(options?: { maxTime?: number; maxTurns?: number }): Promise<void>;
}

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

const flushMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createSimulatedScheduler(options: SimulatedSchedulerOptions = {}): SimulatedScheduler {
  const seed = options.seed ?? 1;
  const random: Random = createRandom(seed);
  const idRandom: Random = createRandom(seed ^ 0x5bd1e995);
  const newId = seededIdGenerator(idRandom);
  const throughput = options.throughput ?? 1;
  const autoRun = options.autoRun ?? true;
  let clock = options.startTime ?? 0;
  let timerSeq = 0;
  const runnable: Schedulable[] = [];
  const timers: SimTimer[] = []; // binary min-heap on (at, seq)
  let autoRunPending = false;
  let driving = 0;

  const less = (a: SimTimer, b: SimTimer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const heapPush = (t: SimTimer): void => {
    timers.push(t);
    let i = timers.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(timers[i] as SimTimer, timers[p] as SimTimer)) break;
      [timers[i], timers[p]] = [timers[p] as SimTimer, timers[i] as SimTimer];
      i = p;
    }
  };
  const heapPop = (): SimTimer | undefined => {
    const top = timers[0];
    const last = timers.pop();
    if (timers.length > 0 && last !== undefined) {
      timers[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < timers.length && less(timers[l] as SimTimer, timers[m] as SimTimer)) m = l;
        if (r < timers.length && less(timers[r] as SimTimer, timers[m] as SimTimer)) m = r;
        if (m === i) break;
        [timers[i], timers[m]] = [timers[m] as SimTimer, timers[i] as SimTimer];
        i = m;
      }
    }
    return top;
  };
  const peekLive = (): SimTimer | undefined => {
    while (timers.length > 0 && (timers[0] as SimTimer).cancelled) heapPop();
    return timers[0];
  };

  const step = (): boolean => {
    const n = runnable.length;
    if (n === 0) return false;
    const i = n === 1 ? 0 : random.int(n);
    const task = runnable[i] as Schedulable;
    runnable[i] = runnable[n - 1] as Schedulable;
    runnable.pop();
    task.runSlice(throughput);
    return true;
  };

  const runUntilIdle = async (opts: { maxTurns?: number } = {}): Promise<number> => {
    const maxTurns = opts.maxTurns ?? Number.POSITIVE_INFINITY;
    let turns = 0;
    driving++;
    try {
      for (;;) {
        while (runnable.length > 0) {
          if (turns >= maxTurns) return turns;
          step();
          turns++;
          // Let I/O and async continuations in now and then, deterministically by count.
          if ((turns & 1023) === 0) await flushMacrotask();
        }
        await flushMacrotask();
        if (runnable.length === 0) return turns;
      }
    } finally {
      driving--;
    }
  };

  const fireNext = (limit: number): boolean => {
    const t = peekLive();
    if (t === undefined || t.at > limit) return false;
    heapPop();
    if (t.at > clock) clock = t.at;
    t.fn();
    return true;
  };

  const scheduleAutoRun = (): void => {
    if (!autoRun || autoRunPending) return;
    autoRunPending = true;
    setImmediate(() => {
      autoRunPending = false;
      if (driving === 0) void runUntilIdle();
    });
  };

  const scheduler: SimulatedScheduler = {
    kind: 'simulated',
    seed,
    throughput,
    get runnableCount() {
      return runnable.length;
    },
    get pendingTimers() {
      return timers.filter((t) => !t.cancelled).length;
    },
    now: () => clock,
    enqueue(task) {
      runnable.push(task);
      if (driving === 0) scheduleAutoRun();
    },
    setTimer(delayMs, fn) {
      if (!(delayMs >= 0)) {
        throw new ModactorError('invalid-argument', `Expected a timer delay >= 0, got ${String(delayMs)}`);
      }
      // Never fires; not queued, so runAll() does not move the clock to infinity.
      if (delayMs === Number.POSITIVE_INFINITY) return { cancel: () => undefined };
      const timer: SimTimer = { at: clock + delayMs, seq: timerSeq++, fn, cancelled: false };
      heapPush(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
    random: random.next,
    newId,
    step,
    runUntilIdle,
    async advanceBy(ms) {
      const target = clock + ms;
      await runUntilIdle();
      while (fireNext(target)) await runUntilIdle();
      clock = Math.max(clock, target);
    },
    async runAll(opts = {}) {
      const maxTime = opts.maxTime ?? Number.POSITIVE_INFINITY;
      await runUntilIdle(opts.maxTurns === undefined ? {} : { maxTurns: opts.maxTurns });
      while (fireNext(maxTime)) await runUntilIdle();
    },
  };
  return scheduler;
}

export type { TimerHandle };
