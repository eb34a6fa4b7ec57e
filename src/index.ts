/**
 * modactor: an actor runtime with supervision trees for module systems.
 * Every public name is exported here, by name.
 */

// Kernel
export { createActorSystem } from './kernel/system.js';
export type { ActorSystem, ActorSystemOptions, DeadLetterCounts } from './kernel/system.js';
export { createSimulatedScheduler } from './kernel/simulated-scheduler.js';
export type { SimulatedScheduler, SimulatedSchedulerOptions } from './kernel/simulated-scheduler.js';
export { createRealScheduler } from './kernel/scheduler.js';
export type { Scheduler, Schedulable, TimerHandle, RealSchedulerOptions } from './kernel/scheduler.js';
export { Mailbox, BoundedQueue, DEFAULT_MAILBOX_CAPACITY } from './kernel/mailbox.js';
export type { OfferResult, Lane } from './kernel/mailbox.js';
export type {
  ActorRef,
  ActorContext,
  Behavior,
  BehaviorObject,
  BehaviorFactory,
  Handler,
  SpawnOptions,
} from './kernel/behavior.js';
export { fromMachine } from './kernel/machine-behavior.js';
export type { MachineBehaviorOptions } from './kernel/machine-behavior.js';
export { RestartWindow, Backoff, describeExit } from './kernel/supervision.js';
export type {
  SupervisionStrategy,
  RestartType,
  Directive,
  Failure,
  ExitReason,
  BackoffOptions,
  SupervisorOptions,
} from './kernel/supervision.js';
export type { InspectionEvent, InspectionObserver, DeadLetter, DeadLetterReason } from './kernel/inspection.js';
export { ModactorError, isModactorError } from './kernel/errors.js';
export type { ModactorErrorCode, ValidationIssue } from './kernel/errors.js';
export { createRandom } from './kernel/random.js';
export type { Random } from './kernel/random.js';
export { silentLogger } from './kernel/logger.js';
export type { Logger } from './kernel/logger.js';

// Events
export * from './events/index.js';

// Node
export { createNode } from './node/node.js';
export type { ModactorNode, NodeOptions } from './node/node.js';
export { defineModule } from './node/module.js';
export type {
  ModuleDefinition,
  ModuleSpec,
  HandlerModuleDefinition,
  FactoryModuleDefinition,
  MachineModuleDefinition,
  ModuleContext,
  ModuleHandlers,
  ModuleRestartPolicy,
} from './node/module.js';
export type { EventManager } from './node/event-manager.js';
export type { LoadableModule, ModuleInfo } from './node/module-supervisor.js';
export type { ModuleState, ModuleLifecycleEvent } from './node/module-lifecycle.js';
export { moduleLifecycleMachine } from './node/module-lifecycle.js';
export type { DeliveryStats, PublishReceipt } from './node/delivery-stats.js';
export { emptyStats, offeredCount, pendingCount } from './node/delivery-stats.js';
export { createEventPublisher } from './node/event-publisher.js';
export type { EventPublisher } from './node/event-publisher.js';
export type { ModuleServices } from './node/module-instance.js';

// IPC
export { defineProcessModule, defineWorkerModule } from './ipc/process-module.js';
export type { ProcessModule, ProcessModuleOptions, ProcessModuleStatus } from './ipc/process-module.js';
export { validateManifest } from './ipc/manifest.js';
export type {
  ProcessModuleManifest,
  NormalizedManifest,
  ModuleIsolation,
  HeartbeatOptions,
  PublishRateLimit,
} from './ipc/manifest.js';
export { runModule, MAX_PENDING_PUBLISHES } from './ipc/sdk.js';
export type {
  ChildModuleContext,
  ChildModuleHandlers,
  ChildModuleDefinition,
  ChildHandlerDefinition,
  ChildFactoryDefinition,
} from './ipc/sdk.js';
export { ProcessModuleFailure, isProcessModuleFailure, describeCloseReason } from './ipc/failure.js';
export type { ChannelCloseReason } from './ipc/failure.js';
export { isJsonSafe, MAX_JSON_DEPTH, MAX_JSON_NODES } from './ipc/json-safe.js';
export {
  PROTOCOL_VERSION,
  DEFAULT_MAX_MESSAGE_BYTES,
  parseChildMessage,
  validateChildMessage,
} from './ipc/protocol.js';
export type { HostMessage, ChildMessage, WelcomeMessage, ProtocolViolation } from './ipc/protocol.js';

// Simulation
export { simulate, simulateWithTrace } from './sim/simulator.js';
export type { SimulateOptions } from './sim/simulator.js';
export { parseScenario, parseScenarioText, INVARIANT_NAMES, TRAFFIC_KINDS, COMMAND_KINDS } from './sim/scenario.js';
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
} from './sim/scenario.js';
export { withFaults, InjectedFault } from './sim/faults.js';
export type { Fault, FaultController } from './sim/faults.js';
export { scenarioFromCommands, commandsOfScenario, formatScenario, writeScenarioFile } from './sim/scenario-file.js';
export type { ModelCommand, ScenarioFile, FromCommandsOptions } from './sim/scenario-file.js';
export { scenarioFromModelRun, parseModelRun } from './sim/model-run.js';
export type { ModelStep, ModelRunOptions } from './sim/model-run.js';
export { checkInvariants, INVARIANTS } from './sim/invariants.js';
export type { Invariant, InvariantResult } from './sim/invariants.js';
export type { Trace, TraceModule, TraceIncarnation, TraceOp, TraceEvent, Checkpoint } from './sim/trace.js';
export type { SimulationReport, ModuleRow, TimelineEntry, ReportSeries } from './sim/report.js';
export { renderText } from './sim/render-text.js';
export { renderHtml } from './sim/render-html.js';
