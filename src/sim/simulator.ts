import { CompanionNode } from './companion-node.js';
import { buildReport, type SimulationReport } from './report.js';
import type { Scenario } from './scenario.js';
import { scheduleScenario } from './schedule-scenario.js';
import { planSimulation, type SimulateOptions } from './simulation-plan.js';
import { SimulationRun } from './simulation-run.js';
import type { Trace } from './trace.js';
import { errorMessage } from './error-message.js';

export type { SimulateOptions } from './simulation-plan.js';

/** What an abort reason says on the timeline: a string as it is (`SIGINT`), an Error's message. */
function describeAbort(reason: unknown): string {
  return typeof reason === 'string' ? reason : errorMessage(reason);
}

/**
 * Runs a scenario and returns its report. In deterministic mode (the default) the node runs on a
 * seeded simulated scheduler in virtual time: the same scenario and seed give a byte-identical
 * report. Throws `invalid-scenario` when an actor cannot be loaded.
 *
 * @example
 * ```ts
 * const report = await simulate(parseScenario(json), { seed: 7 });
 * console.log(report.passed);
 * ```
 */
export async function simulate(scenario: Scenario, options: SimulateOptions = {}): Promise<SimulationReport> {
  return (await simulateWithTrace(scenario, options)).report;
}

/**
 * Like {@link simulate}, also returning the trace the invariants were checked on. A run is
 * plan → run → report: resolve every actor first (a bad one is a scenario error), then start the
 * node with the simulator's recorder (and the process modules' companion node, if any), set the
 * scenario's timers and drive the scheduler to the end of the shutdown, then check and report.
 */
export async function simulateWithTrace(scenario: Scenario, options: SimulateOptions = {}): Promise<{ report: SimulationReport; trace: Trace }> {
  const plan = await planSimulation(scenario, options);

  const run = new SimulationRun(plan);
  await options.onNode?.(run.node);
  await run.start();
  const companion = plan.companionMode ? await CompanionNode.start(run) : null;
  const abort = (): void => run.interrupt(describeAbort(options.signal?.reason));
  if (options.signal?.aborted === true) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  try {
    await scheduleScenario(run);
    await run.ended();
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
  const processRows = companion === null ? [] : await companion.retire(run.trace);
  const endMs = run.trace.shutdown.completedAt ?? run.now();
  options.onProgress?.(endMs, endMs);

  const report = buildReport({
    scenario,
    seed: plan.seed,
    real: plan.real,
    timeScale: plan.timeScale,
    endMs,
    trace: run.trace,
    timeline: run.timeline.entries,
    published: run.published,
    interrupted: run.interrupted,
    companion: companion === null ? null : { rows: processRows, failures: companion.failures },
  });
  return { report, trace: run.trace };
}
