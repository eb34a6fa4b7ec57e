/**
 * The simulator against the real scheduler on the same workload: kernel fan-out to N actors in
 * bursts of 100. Real mode yields with a macrotask between bursts; simulated mode
 * (createSimulatedScheduler, seeded, autoRun off, default throughput 1 so every message is a
 * point of interleaving) drives with `runUntilIdle()` between bursts.
 *
 *   node --import tsx bench/cases/simulator.ts --mode real|sim --n 10
 */
import { createSimulatedScheduler } from '../../src/kernel/simulated-scheduler.js';
import { parseArgs } from '../lib/args.js';
import { timing } from '../lib/impls.js';
import { runCase } from '../lib/report.js';
import { runThroughput } from '../lib/workloads.js';
import { kernelSubject } from '../subjects/kernel.js';

runCase(async () => {
  const args = parseArgs();
  const mode = args.string('mode', 'real');
  const n = args.number('n', 10);
  if (mode === 'real') return runThroughput(kernelSubject(), { n, mode: 'burst', ...timing(args) });
  if (mode !== 'sim') throw new Error(`Expected --mode real or sim, got "${mode}"`);
  const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false });
  const factory = kernelSubject({
    scheduler,
    yield: async () => {
      await scheduler.runUntilIdle();
    },
  });
  return runThroughput(factory, { n, mode: 'burst', ...timing(args) });
});
