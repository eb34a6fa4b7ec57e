/**
 * The event layer's public names: the catalogue core, the check combinators, the bundled node
 * catalogue and the priority rule. `src/index.ts` re-exports these by name.
 */
export { defineCatalogue } from './catalogue.js';
export type { Catalogue, CatalogueSchema, Check, EventMap, EventMeta, EventOf, EventTypeOf } from './catalogue.js';

export {
  MAX_ISSUES,
  arrayOf,
  boolean,
  describeReceived,
  expectedOf,
  finiteNumber,
  hex64,
  isPlainObject,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  percent,
  recordOf,
  scalar,
  string,
} from './checks.js';
export type { DescribedCheck, Infer, ObjectCheck, ObjectType, OneOfCheck, OptionalCheck, Shape } from './checks.js';

export { EventType, eventFamilies, nodeCatalogue, nodePayloadChecks } from './node-catalogue.js';
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
} from './node-catalogue.js';

export { isCriticalEvent } from './priority.js';
