/**
 * `modactor`: an actor runtime with supervision trees for module systems. What a user composes,
 * listed by name: the kernel (actor systems, schedulers, supervision, inspection), the event
 * catalogue, the node (EventManager, ModuleSupervisor, EventPublisher, in-process modules) and the
 * hosts of process and worker modules.
 *
 * The other entry points: `modactor/sdk` (a module's child process), `modactor/sim` (scenarios
 * and the simulator), `modactor/metrics` (Prometheus metrics and the HTTP helper). Internals
 * (mailboxes, the IPC protocol, the router) are not exported; tests import them from their files.
 */

// Kernel
export { createActorSystem } from './kernel/system.js';
export type { ActorSystem, ActorSystemOptions, DeadLetterCounts } from './kernel/system.js';
export { createSimulatedScheduler } from './kernel/simulated-scheduler.js';
export type { SimulatedScheduler, SimulatedSchedulerOptions } from './kernel/simulated-scheduler.js';
export { createRealScheduler } from './kernel/scheduler.js';
export type { Scheduler, Schedulable, TimerHandle, RealSchedulerOptions } from './kernel/scheduler.js';
export type { OfferResult } from './kernel/mailbox.js';
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
export { describeExit } from './kernel/supervision.js';
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
export type { Logger } from './kernel/logger.js';

// Events: the catalogue core and the validation vocabulary a catalogue of your own is written with
export { defineCatalogue } from './events/catalogue.js';
export type { Catalogue, CatalogueSchema, EventMap, EventMeta, EventOf, EventTypeOf } from './events/catalogue.js';
export {
  arrayOf,
  boolean,
  finiteNumber,
  fraction,
  func,
  hex64,
  issue,
  jsonValue,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  parse,
  percent,
  positiveInteger,
  positiveNumber,
  predicate,
  recordOf,
  refine,
  scalar,
  string,
} from './kernel/checks.js';
export type {
  Check,
  DescribedCheck,
  Infer,
  JsonValue,
  ObjectCheck,
  ObjectType,
  OneOfCheck,
  OptionalCheck,
  Refinement,
  Shape,
} from './kernel/checks.js';

// Events: the bundled node catalogue
export { EventType, eventFamilies, nodeCatalogue, nodePayloadChecks } from './events/node-catalogue.js';
export type {
  EventFamily,
  Hash,
  MaintenanceOperation,
  MaintenanceReason,
  MaintenanceResults,
  MaintenanceUrgency,
  ModuleHealth,
  NodeEvent,
  NodeEventMap,
  NodeEventType,
  NewBlockPayload,
  NewTransactionPayload,
  BlockDisconnectedPayload,
  ChainReorgPayload,
  GovernanceProposalCreatedPayload,
  GovernanceProposalVotedPayload,
  GovernanceProposalMergedPayload,
  WebhookSentPayload,
  WebhookFailedPayload,
  GovernanceForkDetectedPayload,
  PeerConnectedPayload,
  PeerDisconnectedPayload,
  PeerBannedPayload,
  PeerUnbannedPayload,
  MessageReceivedPayload,
  MessageSentPayload,
  BroadcastStartedPayload,
  BroadcastCompletedPayload,
  ModuleLoadedPayload,
  ModuleUnloadedPayload,
  ModuleReloadedPayload,
  ModuleStartedPayload,
  ModuleStoppedPayload,
  ModuleCrashedPayload,
  ModuleHealthChangedPayload,
  ModuleStateChangedPayload,
  NodeStartupCompletedPayload,
  NodeShutdownPayload,
  NodeShutdownCompletedPayload,
  DataMaintenancePayload,
  MaintenanceStartedPayload,
  MaintenanceCompletedPayload,
  HealthCheckPayload,
  DiskSpaceLowPayload,
  ResourceLimitWarningPayload,
} from './events/node-catalogue.js';
export { RESERVED_EVENT_TYPES, isReservedEventType } from './events/reserved-event-types.js';
export { isCriticalEvent } from './events/priority.js';

// Node
export { createNode } from './node/node.js';
export type { ModactorNode, NodeOptions, NodeState, NodeStatus } from './node/node.js';
export type { NodeStoreOptions, NodeStoreStatus } from './node/durable.js';
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
  ReplayOption,
} from './node/module.js';
export type { EventManager } from './node/event-manager.js';
export type { LoadableModule, ModuleInfo } from './node/module-supervisor.js';
export type { ModuleState } from './node/module-lifecycle.js';
export { offeredCount, pendingCount } from './node/delivery-stats.js';
export type { DeliveryStats, PublishReceipt } from './node/delivery-stats.js';
export { createEventPublisher } from './node/event-publisher.js';
export type { EventPublisher } from './node/event-publisher.js';

// Process and worker modules (the host side; the child side is `modactor/sdk`)
export { defineProcessModule, defineWorkerModule } from './ipc/process-module.js';
export type { ProcessModule, ProcessModuleOptions, ProcessModuleStatus } from './ipc/process-module.js';
export type {
  ProcessModuleManifest,
  NormalizedManifest,
  ModuleIsolation,
  HeartbeatOptions,
  PublishRateLimit,
} from './ipc/manifest.js';
export { ProcessModuleFailure, isProcessModuleFailure } from './ipc/failure.js';
export type { ChannelCloseReason } from './ipc/failure.js';
