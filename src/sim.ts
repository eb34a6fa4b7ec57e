/**
 * `modactor/sim`: scenarios and the simulator. Parse a scenario, run it on a node under the
 * simulated scheduler (deterministic for its seed) or in real time, check the invariants, render
 * the report; turn a failing property-test case into a scenario file.
 *
 * @example
 * ```ts
 * import { parseScenarioText, renderText, simulate } from 'modactor/sim';
 * const report = await simulate(parseScenarioText(text, 'my.json'), { seed: 7 });
 * process.stdout.write(renderText(report));
 * ```
 */
export { simulate, simulateWithTrace } from './sim/simulator.js';
export type { SimulateOptions } from './sim/simulator.js';
export { parseScenario, parseScenarioText } from './sim/scenario.js';
export type {
  Scenario,
  ScenarioModule,
  TrafficSpec,
  TrafficKind,
  FaultSpec,
  ScenarioCommand,
  TimedAction,
  Expectation,
  InvariantName,
  NodeRestartHow,
} from './sim/scenario.js';
export { withFaults } from './sim/faults.js';
export type { Fault, FaultController } from './sim/faults.js';
export { scenarioFromCommands, commandsOfScenario, formatScenario, writeScenarioFile } from './sim/scenario-file.js';
export type { ModelCommand, ScenarioFile, FromCommandsOptions } from './sim/scenario-file.js';
export { scenarioFromModelRun, parseModelRun } from './sim/model-run.js';
export type { ModelStep, ModelRunOptions } from './sim/model-run.js';
export { checkInvariants, INVARIANTS } from './sim/invariants.js';
export type { Invariant, InvariantResult } from './sim/invariants.js';
export type { Trace, TraceModule, TraceIncarnation, TraceOp, TraceEvent, Checkpoint } from './sim/trace.js';
export type { DurabilityTrace, DurableTake, NodeLife } from './sim/node-restart.js';
export type { SimulationReport, ModuleRow, TimelineEntry, ReportSeries } from './sim/report.js';
export { renderText } from './sim/render-text.js';
export { renderHtml } from './sim/render-html.js';
