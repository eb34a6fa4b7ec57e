import { createRealScheduler, type Scheduler } from '../kernel/scheduler.js';

/**
 * The real scheduler with its clock and timers scaled: `scale` real ms per virtual ms, the clock
 * starting at 0. What `simulate --real --time-scale X` runs on.
 */
export function scaledRealScheduler(scale: number): Scheduler {
  const base = createRealScheduler();
  const origin = base.now();
  return {
    kind: 'real',
    throughput: base.throughput,
    now: () => (base.now() - origin) / scale,
    enqueue: (task) => base.enqueue(task),
    setTimer: (ms, fn) => base.setTimer(ms === Number.POSITIVE_INFINITY ? ms : ms * scale, fn),
    random: () => base.random(),
    newId: () => base.newId(),
  };
}
