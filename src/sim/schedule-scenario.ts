import { createRandom } from '../kernel/random.js';
import { secs } from './invariants.js';
import { performCommand } from './perform-command.js';
import { nameOf, type FaultSpec, type ScenarioCommand, type TrafficSpec } from './scenario.js';
import type { SimulationRun } from './simulation-run.js';
import { nextGap } from './traffic-source.js';
import { restartNode } from './node-restart.js';

/**
 * Starts the scenario on the run: sets its timers on the run's scheduler, in this order: the
 * modules' loads, the traffic generators, the faults, the timed actions, the script, the progress
 * ticks and the shutdown. Once the shutdown began nothing more is injected or published.
 *
 * In a `--real` run the modules loaded at 0 are loaded first and waited for: scenario time starts
 * once every one of them has loaded (or failed to), so a hotload at 20 s comes 20 scaled seconds
 * after start-up, however long start-up took. In virtual time they load at 0 with the rest. In
 * both, the node is started (NodeStartupCompleted) once they have all loaded.
 */
export async function scheduleScenario(run: SimulationRun): Promise<void> {
  const { scenario, plan } = run;
  const modules = scenario.modules.filter((m) => !(plan.companionMode && plan.processModules.has(nameOf(m))));
  const initial = modules.filter((m) => m.at === 0);
  const load = (m: (typeof modules)[number]): Promise<void> => run.load(nameOf(m), plan.definitionOf(m), m.actor, 'load');
  if (plan.real) {
    await Promise.all(initial.map(load));
    run.startScenario();
    await run.startNode();
  } else {
    const loaded = initial.map((m) => new Promise<void>((resolve) => run.at(0, () => resolve(load(m)))));
    void Promise.all(loaded).then(() => run.startNode());
    run.startScenario();
  }
  if (run.shuttingDown) return;
  for (const m of modules) {
    if (initial.includes(m)) continue;
    const definition = plan.definitionOf(m);
    run.at(m.at, () => void run.load(nameOf(m), definition, m.actor, 'hotload'));
  }
  scenario.traffic.forEach((spec, i) => scheduleTraffic(run, spec, i));
  for (const fault of scenario.faults) run.at(fault.at, () => (run.shuttingDown ? undefined : injectFault(run, fault)));
  for (const action of scenario.actions) run.at(action.at, () => void (run.shuttingDown ? undefined : performCommand(run, action)));
  if (scenario.script.length > 0) run.at(0, () => void runScript(run, scenario.script));
  const shutdownAt = scenario.shutdown.at;
  const progressEvery = Math.max(1, Math.ceil(shutdownAt / 50));
  for (let t = progressEvery; t < shutdownAt; t += progressEvery) run.at(t, () => plan.options.onProgress?.(t, shutdownAt));
  run.at(shutdownAt, () => void run.shutdown());
}

/** A generator: events of its kind from `from` to `until` (or the shutdown), at seeded gaps of its own. */
function scheduleTraffic(run: SimulationRun, spec: TrafficSpec, index: number): void {
  const gaps = createRandom((run.plan.seed * 1_000_003 + (index + 1) * 7919) >>> 0);
  const stopAt = Math.min(spec.until ?? Number.POSITIVE_INFINITY, run.scenario.shutdown.at);
  const options = spec.reorgEvery === undefined ? {} : { reorgEvery: spec.reorgEvery };
  let due = spec.from;
  const tick = (): void => {
    if (run.shuttingDown || due >= stopAt) return;
    for (const event of run.traffic.next(spec.kind, options)) run.publish(event);
    const gap = nextGap(gaps, spec);
    due += gap;
    // Virtual timers fire on time. Real ones fire late, and a gap counted from a late tick would
    // add up: a real run aims at the due time instead (a loaded machine then publishes late, not less).
    run.after(run.sim === null ? Math.max(0, due - run.now()) : gap, tick);
  };
  run.at(spec.from, tick);
}

/** Arms a fault of the scenario's `faults` at its time (a flood publishes its burst). */
function injectFault(run: SimulationRun, fault: FaultSpec): void {
  switch (fault.kind) {
    case 'crash':
      for (let i = 0; i < fault.count; i++) run.faults.crash(fault.module, `injected crash at ${secs(fault.at)}`);
      run.note(fault.module, 'fault', `crash ${fault.module} on its next ${fault.count === 1 ? 'event' : `${fault.count} events`}`);
      return;
    case 'hang':
      run.faults.hang(fault.module, fault.for ?? null);
      run.note(fault.module, 'fault', `hang ${fault.module} on its next event ${fault.for === undefined ? 'until it is stopped' : `for ${fault.for} ms`}`);
      return;
    case 'slow':
      run.faults.slow(fault.module, fault.delayMs, fault.for === undefined ? Number.POSITIVE_INFINITY : fault.at + fault.for);
      run.note(fault.module, 'fault', `slow ${fault.module}: +${fault.delayMs} ms per event${fault.for === undefined ? '' : ` for ${fault.for} ms`}`);
      return;
    case 'restart-node':
      void restartNode(run, fault.how);
      return;
    case 'flood': {
      run.note(null, 'flood', `flood of ${fault.count} events (${fault.traffic}) ${fault.over > 0 ? `over ${fault.over} ms` : 'at once'}`);
      const burst = (n: number): void => {
        for (let i = 0; i < n; i++) for (const event of run.traffic.next(fault.traffic)) run.publish(event);
      };
      if (fault.over === 0) {
        burst(fault.count);
        return;
      }
      const gap = fault.over / fault.count;
      for (let i = 0; i < fault.count; i++) run.at(fault.at + Math.round(i * gap), () => (run.shuttingDown ? undefined : burst(1)));
      return;
    }
  }
}

/** The script: its commands one after the other, each when the one before it is done. */
async function runScript(run: SimulationRun, script: readonly ScenarioCommand[]): Promise<void> {
  for (const step of script) {
    if (run.shuttingDown) return;
    await performCommand(run, step);
  }
}
