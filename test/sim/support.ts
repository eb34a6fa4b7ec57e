import { readFileSync } from 'node:fs';
import { parseScenario, parseScenarioText, simulateWithTrace, type Scenario, type SimulationReport, type Trace } from '../../src/sim.js';

/** The default scenario of `modactor simulate`, parsed. */
export function defaultScenario(): Scenario {
  return parseScenarioText(readFileSync(new URL('../../scenarios/default.json', import.meta.url), 'utf8'), 'default.json');
}

let cached: Promise<{ report: SimulationReport; trace: Trace }> | null = null;

/** One deterministic run of the default scenario (seed 7), shared by the tests that only read it. */
export function defaultRun(): Promise<{ report: SimulationReport; trace: Trace }> {
  cached ??= simulateWithTrace(defaultScenario());
  return cached;
}

/** A small scenario: two probes, some blocks, a crash; quick to run, easy to doctor. */
export function smallScenario(extra: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    name: 'small',
    seed: 11,
    duration: 5000,
    modules: [
      { actor: 'probe', name: 'watcher', options: { subscribe: ['ModuleLoaded', 'ModuleUnloaded', 'NewBlock', 'NodeShutdown'] } },
      { actor: 'probe', name: 'slow', options: { subscribe: ['NewBlock'], mailboxCapacity: 3, workMs: 300 } },
      { actor: 'crashy', options: { crashEvery: 2, maxRestarts: 1, withinMs: 60000 } },
      { actor: 'probe', name: 'late', at: 2000, options: { subscribe: ['ModuleLoaded'] } },
    ],
    traffic: [{ kind: 'blocks', every: 100 }],
    ...extra,
  });
}
