/**
 * Deliberately broken simulated schedulers. The determinism properties must fail on each.
 */
import { createSimulatedScheduler, type SimulatedScheduler } from '../../../src/index.js';

/** Makes the scheduler of one run from its seed. */
export type SchedulerFactory = (seed: number) => SimulatedScheduler;

export const seededScheduler: SchedulerFactory = (seed) => createSimulatedScheduler({ seed, autoRun: false });

/** Ignores the seed it is given: every seed explores the same single interleaving. */
export const seedIgnoringScheduler: SchedulerFactory = () => createSimulatedScheduler({ seed: 1, autoRun: false });

/** Draws its own seed from Math.random: a run cannot be replayed from its seed. */
export const unseededScheduler: SchedulerFactory = () =>
  createSimulatedScheduler({ seed: Math.floor(Math.random() * 2 ** 31), autoRun: false });
