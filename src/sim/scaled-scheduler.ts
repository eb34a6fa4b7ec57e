import { createRealScheduler, type Scheduler } from '../kernel/scheduler.js';

/** The real scheduler of a `--real` run: its clock scaled, and held at 0 until the scenario starts. */
export interface ScaledScheduler extends Scheduler {
  /** Starts the clock: until then it reads 0 (start-up is not scenario time). Later calls do nothing. */
  startClock(): void;
}

/**
 * The real scheduler with its clock and timers scaled: `scale` real ms per virtual ms. The clock
 * reads 0 until {@link ScaledScheduler.startClock} (a `--real` run starts it once every initial
 * module has loaded), then counts from 0. Timers run in real time from when they are set, whether
 * the clock has started or not. What `simulate --real --time-scale X` runs on.
 */
export function scaledRealScheduler(scale: number): ScaledScheduler {
  const base = createRealScheduler();
  let origin: number | null = null;
  return {
    kind: 'real',
    throughput: base.throughput,
    now: () => (origin === null ? 0 : (base.now() - origin) / scale),
    enqueue: (task) => base.enqueue(task),
    setTimer: (ms, fn) => base.setTimer(ms === Number.POSITIVE_INFINITY ? ms : ms * scale, fn),
    random: () => base.random(),
    newId: () => base.newId(),
    startClock: () => {
      origin ??= base.now();
    },
  };
}
