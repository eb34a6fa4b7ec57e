/**
 * The bundled node catalogue (SPEC section 2): every event type the guide names plus the module
 * lifecycle family, each with exactly one payload shape, as a type ({@link NodeEventMap}) and as
 * run-time checks ({@link nodeCatalogue}).
 *
 * Field types SPEC leaves open are fixed here, each documented on its field: identifiers, names
 * and addresses are non-empty strings; free text (`error`, `healthReport`) may be empty; counts,
 * sizes, versions and seconds are non-negative safe integers; millisecond durations and resource
 * amounts are non-negative finite numbers (they may be fractional); percentages are 0..100 except
 * `usagePercent`, which may exceed 100 (usage above a soft limit is exactly what gets reported).
 * Hashes are 64-character lowercase hex. Payloads are strict: unknown fields are rejected, and an
 * optional field is absent, never `undefined`.
 */
import { defineCatalogue, type Catalogue, type EventOf } from './catalogue.js';
import {
  arrayOf,
  boolean,
  hex64,
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
} from '../kernel/checks.js';

/** A block or transaction hash: 64 lowercase hex characters. */
export type Hash = string;

/** A module's health, as reported by `ModuleHealthChanged`. */
export type ModuleHealth = 'healthy' | 'degraded' | 'unhealthy';

/** What a `DataMaintenance` asks for: delete old data, write pending data, or both. */
export type MaintenanceOperation = 'cleanup' | 'flush' | 'both';

/** How urgent a `DataMaintenance` is; `high` (shutdown, low disk) goes through the priority lane. */
export type MaintenanceUrgency = 'low' | 'medium' | 'high';

/** Why a `DataMaintenance` was requested. */
export type MaintenanceReason = 'periodic' | 'shutdown' | 'low_disk' | 'manual';

/** Results of a maintenance run: a flat dictionary of statistics (`{ deletedBlocks: 12, vacuumed: true }`). */
export type MaintenanceResults = Readonly<Record<string, string | number | boolean>>;

// ---- core ----------------------------------------------------------------------------------

/** A block was connected to the chain. */
export interface NewBlockPayload {
  readonly blockHash: Hash;
  /** Non-negative safe integer. */
  readonly height: number;
}

/** A transaction entered the mempool. */
export interface NewTransactionPayload {
  readonly txHash: Hash;
}

/** A block was disconnected (reorg). */
export interface BlockDisconnectedPayload {
  readonly hash: Hash;
  /** Non-negative safe integer. */
  readonly height: number;
}

/** The chain tip moved to another branch. */
export interface ChainReorgPayload {
  readonly oldTip: Hash;
  readonly newTip: Hash;
}

// ---- governance ----------------------------------------------------------------------------

/** A governance proposal was created. */
export interface GovernanceProposalCreatedPayload {
  /** Non-empty. */
  readonly proposalId: string;
  /** Non-empty, e.g. `owner/repo`. */
  readonly repository: string;
  /** Non-negative safe integer. */
  readonly prNumber: number;
  /** The governance tier, a non-negative safe integer (the original carried it as a string). */
  readonly tier: number;
}

/** A vote was cast on a proposal. */
export interface GovernanceProposalVotedPayload {
  /** Non-empty. */
  readonly proposalId: string;
  /** Non-empty. */
  readonly voter: string;
  /** Non-empty free-form vote, e.g. `approve`, `reject`, `abstain` (not a closed set). */
  readonly vote: string;
}

/** A proposal was merged. */
export interface GovernanceProposalMergedPayload {
  /** Non-empty. */
  readonly proposalId: string;
  /** Non-empty. */
  readonly repository: string;
  /** Non-negative safe integer. */
  readonly prNumber: number;
}

/** A webhook was delivered (or answered with `success: false`). */
export interface WebhookSentPayload {
  /** Non-empty; not parsed as a URL. */
  readonly webhookUrl: string;
  /** Non-empty: the event type the webhook reported. */
  readonly eventType: string;
  readonly success: boolean;
}

/** A webhook could not be delivered. */
export interface WebhookFailedPayload {
  /** Non-empty; not parsed as a URL. */
  readonly webhookUrl: string;
  /** Non-empty. */
  readonly eventType: string;
  /** Free text, may be empty. */
  readonly error: string;
}

/** A governance fork was detected. */
export interface GovernanceForkDetectedPayload {
  /** Non-empty. */
  readonly forkId: string;
  /** Non-empty. */
  readonly rulesetVersion: string;
  /** Non-negative safe integer. */
  readonly adoptionCount: number;
}

// ---- network -------------------------------------------------------------------------------

/** A peer connected. */
export interface PeerConnectedPayload {
  /** Non-empty, e.g. `203.0.113.7:8333`. */
  readonly peerAddr: string;
  /** Non-empty, e.g. `tcp`, `quinn`, `iroh`, `mesh` (not a closed set). */
  readonly transportType: string;
  /** Service-flags bitfield, a non-negative safe integer (so bits 0..52 only). */
  readonly services: number;
  /** Protocol version the peer announced, a non-negative safe integer. */
  readonly version: number;
  /** Non-empty, when the transport identifies the peer. */
  readonly peerNodeId?: string;
}

/** A peer disconnected. */
export interface PeerDisconnectedPayload {
  /** Non-empty. */
  readonly peerAddr: string;
  /** Non-empty, e.g. `timeout`, `error`, `ban`, `manual`. */
  readonly reason: string;
}

/** A peer was banned. */
export interface PeerBannedPayload {
  /** Non-empty. */
  readonly peerAddr: string;
  /** Non-empty. */
  readonly reason: string;
  /** Non-negative safe integer. */
  readonly banDurationSeconds: number;
}

/** A peer's ban was lifted. */
export interface PeerUnbannedPayload {
  /** Non-empty. */
  readonly peerAddr: string;
}

/** A network message arrived. */
export interface MessageReceivedPayload {
  /** Non-empty. */
  readonly peerAddr: string;
  /** Non-empty, e.g. `block`, `tx`, `inv`. */
  readonly messageType: string;
  /** Bytes, a non-negative safe integer. */
  readonly messageSize: number;
  /** Non-negative safe integer. */
  readonly protocolVersion: number;
}

/** A network message was sent. */
export interface MessageSentPayload {
  /** Non-empty. */
  readonly peerAddr: string;
  /** Non-empty. */
  readonly messageType: string;
  /** Bytes, a non-negative safe integer. */
  readonly messageSize: number;
}

/** A broadcast began. */
export interface BroadcastStartedPayload {
  /** Non-empty. */
  readonly messageType: string;
  /** Non-negative safe integer. */
  readonly targetPeers: number;
}

/** A broadcast ended. */
export interface BroadcastCompletedPayload {
  /** Non-empty. */
  readonly messageType: string;
  /** Peers reached, a non-negative safe integer. */
  readonly successful: number;
  /** Peers not reached, a non-negative safe integer. */
  readonly failed: number;
}

// ---- module lifecycle ----------------------------------------------------------------------

/** A module finished its startup (subscribed) and is loaded. */
export interface ModuleLoadedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  /** Non-empty, e.g. `1.0.0`. */
  readonly version: string;
}

/** A module was unloaded (also after a crash). */
export interface ModuleUnloadedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  /** Non-empty. */
  readonly version: string;
}

/** A module was replaced by another version of itself. */
export interface ModuleReloadedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  /** Non-empty. */
  readonly oldVersion: string;
  /** Non-empty. */
  readonly newVersion: string;
}

/** A module started. */
export interface ModuleStartedPayload {
  /** Non-empty. */
  readonly moduleName: string;
}

/** A module stopped. */
export interface ModuleStoppedPayload {
  /** Non-empty. */
  readonly moduleName: string;
}

/** A module crashed. */
export interface ModuleCrashedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  /** Free text, may be empty (an `Error` may have an empty message). */
  readonly error: string;
}

/** A module's health changed. */
export interface ModuleHealthChangedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  readonly oldHealth: ModuleHealth;
  readonly newHealth: ModuleHealth;
}

/** A module's own state changed. */
export interface ModuleStateChangedPayload {
  /** Non-empty. */
  readonly moduleName: string;
  /** Non-empty, module-defined. */
  readonly oldState: string;
  /** Non-empty, module-defined. */
  readonly newState: string;
}

// ---- node ----------------------------------------------------------------------------------

/** The node finished starting. */
export interface NodeStartupCompletedPayload {
  /** Milliseconds, a finite number >= 0. */
  readonly durationMs: number;
  /** Names of the components started, each non-empty (the list may be empty). */
  readonly components: readonly string[];
}

/** The node is shutting down; modules have `timeoutSeconds` to finish. A critical event. */
export interface NodeShutdownPayload {
  /** Non-empty, e.g. `signal`, `rpc`, `error`. */
  readonly reason: string;
  /** Non-negative safe integer. */
  readonly timeoutSeconds: number;
}

/** The node finished shutting down. */
export interface NodeShutdownCompletedPayload {
  /** Milliseconds, a finite number >= 0. */
  readonly durationMs: number;
}

// ---- maintenance ---------------------------------------------------------------------------

/** Unified cleanup/flush request; with urgency `high` a critical event. */
export interface DataMaintenancePayload {
  readonly operation: MaintenanceOperation;
  readonly urgency: MaintenanceUrgency;
  readonly reason: MaintenanceReason;
  /** Age in days beyond which data is cleaned up, a non-negative safe integer. */
  readonly targetAgeDays?: number;
  /** Non-negative safe integer. */
  readonly timeoutSeconds?: number;
}

/** A maintenance run started. */
export interface MaintenanceStartedPayload {
  /** Non-empty, e.g. `backup`, `cleanup`, `prune`. */
  readonly maintenanceType: string;
  /** Non-negative safe integer, when known. */
  readonly estimatedDurationSeconds?: number;
}

/** A maintenance run ended. */
export interface MaintenanceCompletedPayload {
  /** Non-empty. */
  readonly maintenanceType: string;
  readonly success: boolean;
  /** Milliseconds, a finite number >= 0. */
  readonly durationMs: number;
  /** Statistics of the run: string, finite-number or boolean values. */
  readonly results?: MaintenanceResults;
}

/** A health check ran. */
export interface HealthCheckPayload {
  /** Non-empty, e.g. `periodic`, `manual`, `startup`. */
  readonly checkType: string;
  readonly nodeHealthy: boolean;
  /** Free text (often JSON), may be empty. */
  readonly healthReport?: string;
}

// ---- resources -----------------------------------------------------------------------------

/** Free disk space fell below its threshold. */
export interface DiskSpaceLowPayload {
  /** Bytes, a non-negative safe integer. */
  readonly availableBytes: number;
  /** Bytes, a non-negative safe integer. */
  readonly totalBytes: number;
  /** 0..100. */
  readonly percentFree: number;
  /** Non-empty. */
  readonly diskPath: string;
}

/** A resource's usage crossed its warning threshold. */
export interface ResourceLimitWarningPayload {
  /** Non-empty, e.g. `memory`, `cpu`, `disk`, `network`. */
  readonly resourceType: string;
  /** Usage as a percentage of the limit, a finite number >= 0; may exceed 100 (above a soft limit). */
  readonly usagePercent: number;
  /** In the resource's unit, a finite number >= 0. */
  readonly currentUsage: number;
  /** In the resource's unit, a finite number >= 0. */
  readonly limit: number;
  /** 0..100. */
  readonly thresholdPercent: number;
}

/**
 * The node catalogue as a type: event type → payload. (A `type`, not an `interface`, so that it
 * satisfies `EventMap`.)
 */
export type NodeEventMap = {
  NewBlock: NewBlockPayload;
  NewTransaction: NewTransactionPayload;
  BlockDisconnected: BlockDisconnectedPayload;
  ChainReorg: ChainReorgPayload;
  GovernanceProposalCreated: GovernanceProposalCreatedPayload;
  GovernanceProposalVoted: GovernanceProposalVotedPayload;
  GovernanceProposalMerged: GovernanceProposalMergedPayload;
  WebhookSent: WebhookSentPayload;
  WebhookFailed: WebhookFailedPayload;
  GovernanceForkDetected: GovernanceForkDetectedPayload;
  PeerConnected: PeerConnectedPayload;
  PeerDisconnected: PeerDisconnectedPayload;
  PeerBanned: PeerBannedPayload;
  PeerUnbanned: PeerUnbannedPayload;
  MessageReceived: MessageReceivedPayload;
  MessageSent: MessageSentPayload;
  BroadcastStarted: BroadcastStartedPayload;
  BroadcastCompleted: BroadcastCompletedPayload;
  ModuleLoaded: ModuleLoadedPayload;
  ModuleUnloaded: ModuleUnloadedPayload;
  ModuleReloaded: ModuleReloadedPayload;
  ModuleStarted: ModuleStartedPayload;
  ModuleStopped: ModuleStoppedPayload;
  ModuleCrashed: ModuleCrashedPayload;
  ModuleHealthChanged: ModuleHealthChangedPayload;
  ModuleStateChanged: ModuleStateChangedPayload;
  NodeStartupCompleted: NodeStartupCompletedPayload;
  NodeShutdown: NodeShutdownPayload;
  NodeShutdownCompleted: NodeShutdownCompletedPayload;
  DataMaintenance: DataMaintenancePayload;
  MaintenanceStarted: MaintenanceStartedPayload;
  MaintenanceCompleted: MaintenanceCompletedPayload;
  HealthCheck: HealthCheckPayload;
  DiskSpaceLow: DiskSpaceLowPayload;
  ResourceLimitWarning: ResourceLimitWarningPayload;
};

/** A node catalogue event type. */
export type NodeEventType = keyof NodeEventMap;

/**
 * A node event: `{ type, payload, meta? }` with the payload of its type.
 *
 * @example
 * ```ts
 * const ok: NodeEvent = { type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 1 } };
 * // @ts-expect-error -- height must be a number
 * const bad: NodeEvent = { type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 'x' } };
 * ```
 */
export type NodeEvent<K extends NodeEventType = NodeEventType> = EventOf<NodeEventMap, K>;

/** The node event types by name: `EventType.NewBlock === 'NewBlock'`, for every type. */
export const EventType = {
  NewBlock: 'NewBlock',
  NewTransaction: 'NewTransaction',
  BlockDisconnected: 'BlockDisconnected',
  ChainReorg: 'ChainReorg',
  GovernanceProposalCreated: 'GovernanceProposalCreated',
  GovernanceProposalVoted: 'GovernanceProposalVoted',
  GovernanceProposalMerged: 'GovernanceProposalMerged',
  WebhookSent: 'WebhookSent',
  WebhookFailed: 'WebhookFailed',
  GovernanceForkDetected: 'GovernanceForkDetected',
  PeerConnected: 'PeerConnected',
  PeerDisconnected: 'PeerDisconnected',
  PeerBanned: 'PeerBanned',
  PeerUnbanned: 'PeerUnbanned',
  MessageReceived: 'MessageReceived',
  MessageSent: 'MessageSent',
  BroadcastStarted: 'BroadcastStarted',
  BroadcastCompleted: 'BroadcastCompleted',
  ModuleLoaded: 'ModuleLoaded',
  ModuleUnloaded: 'ModuleUnloaded',
  ModuleReloaded: 'ModuleReloaded',
  ModuleStarted: 'ModuleStarted',
  ModuleStopped: 'ModuleStopped',
  ModuleCrashed: 'ModuleCrashed',
  ModuleHealthChanged: 'ModuleHealthChanged',
  ModuleStateChanged: 'ModuleStateChanged',
  NodeStartupCompleted: 'NodeStartupCompleted',
  NodeShutdown: 'NodeShutdown',
  NodeShutdownCompleted: 'NodeShutdownCompleted',
  DataMaintenance: 'DataMaintenance',
  MaintenanceStarted: 'MaintenanceStarted',
  MaintenanceCompleted: 'MaintenanceCompleted',
  HealthCheck: 'HealthCheck',
  DiskSpaceLow: 'DiskSpaceLow',
  ResourceLimitWarning: 'ResourceLimitWarning',
} as const satisfies { readonly [K in NodeEventType]: K };

/** A node event type, as a type (`EventType.NewBlock` has type `'NewBlock'`). */
export type EventType = NodeEventType;

/** The families of the node catalogue. */
export type EventFamily = 'core' | 'governance' | 'network' | 'lifecycle' | 'node' | 'maintenance' | 'resources';

/** The node event types by family (SPEC section 2's table); every type is in exactly one family. */
export const eventFamilies = {
  core: ['NewBlock', 'NewTransaction', 'BlockDisconnected', 'ChainReorg'],
  governance: [
    'GovernanceProposalCreated',
    'GovernanceProposalVoted',
    'GovernanceProposalMerged',
    'WebhookSent',
    'WebhookFailed',
    'GovernanceForkDetected',
  ],
  network: [
    'PeerConnected',
    'PeerDisconnected',
    'PeerBanned',
    'PeerUnbanned',
    'MessageReceived',
    'MessageSent',
    'BroadcastStarted',
    'BroadcastCompleted',
  ],
  lifecycle: [
    'ModuleLoaded',
    'ModuleUnloaded',
    'ModuleReloaded',
    'ModuleStarted',
    'ModuleStopped',
    'ModuleCrashed',
    'ModuleHealthChanged',
    'ModuleStateChanged',
  ],
  node: ['NodeStartupCompleted', 'NodeShutdown', 'NodeShutdownCompleted'],
  maintenance: ['DataMaintenance', 'MaintenanceStarted', 'MaintenanceCompleted', 'HealthCheck'],
  resources: ['DiskSpaceLow', 'ResourceLimitWarning'],
} as const satisfies { readonly [F in EventFamily]: readonly NodeEventType[] };

const health = oneOf('healthy', 'degraded', 'unhealthy');

/**
 * The run-time payload checks of the node catalogue, one {@link object} check per type, fields in
 * SPEC's order (`nodePayloadChecks.NewBlock.shape` lists them). Each check's admitted type equals
 * its payload interface (proved in `test/events/types.test-d.ts`).
 */
export const nodePayloadChecks = {
  NewBlock: object({ blockHash: hex64, height: nonNegativeInteger }),
  NewTransaction: object({ txHash: hex64 }),
  BlockDisconnected: object({ hash: hex64, height: nonNegativeInteger }),
  ChainReorg: object({ oldTip: hex64, newTip: hex64 }),
  GovernanceProposalCreated: object({
    proposalId: nonEmptyString,
    repository: nonEmptyString,
    prNumber: nonNegativeInteger,
    tier: nonNegativeInteger,
  }),
  GovernanceProposalVoted: object({ proposalId: nonEmptyString, voter: nonEmptyString, vote: nonEmptyString }),
  GovernanceProposalMerged: object({ proposalId: nonEmptyString, repository: nonEmptyString, prNumber: nonNegativeInteger }),
  WebhookSent: object({ webhookUrl: nonEmptyString, eventType: nonEmptyString, success: boolean }),
  WebhookFailed: object({ webhookUrl: nonEmptyString, eventType: nonEmptyString, error: string }),
  GovernanceForkDetected: object({
    forkId: nonEmptyString,
    rulesetVersion: nonEmptyString,
    adoptionCount: nonNegativeInteger,
  }),
  PeerConnected: object({
    peerAddr: nonEmptyString,
    transportType: nonEmptyString,
    services: nonNegativeInteger,
    version: nonNegativeInteger,
    peerNodeId: optional(nonEmptyString),
  }),
  PeerDisconnected: object({ peerAddr: nonEmptyString, reason: nonEmptyString }),
  PeerBanned: object({ peerAddr: nonEmptyString, reason: nonEmptyString, banDurationSeconds: nonNegativeInteger }),
  PeerUnbanned: object({ peerAddr: nonEmptyString }),
  MessageReceived: object({
    peerAddr: nonEmptyString,
    messageType: nonEmptyString,
    messageSize: nonNegativeInteger,
    protocolVersion: nonNegativeInteger,
  }),
  MessageSent: object({ peerAddr: nonEmptyString, messageType: nonEmptyString, messageSize: nonNegativeInteger }),
  BroadcastStarted: object({ messageType: nonEmptyString, targetPeers: nonNegativeInteger }),
  BroadcastCompleted: object({
    messageType: nonEmptyString,
    successful: nonNegativeInteger,
    failed: nonNegativeInteger,
  }),
  ModuleLoaded: object({ moduleName: nonEmptyString, version: nonEmptyString }),
  ModuleUnloaded: object({ moduleName: nonEmptyString, version: nonEmptyString }),
  ModuleReloaded: object({ moduleName: nonEmptyString, oldVersion: nonEmptyString, newVersion: nonEmptyString }),
  ModuleStarted: object({ moduleName: nonEmptyString }),
  ModuleStopped: object({ moduleName: nonEmptyString }),
  ModuleCrashed: object({ moduleName: nonEmptyString, error: string }),
  ModuleHealthChanged: object({ moduleName: nonEmptyString, oldHealth: health, newHealth: health }),
  ModuleStateChanged: object({ moduleName: nonEmptyString, oldState: nonEmptyString, newState: nonEmptyString }),
  NodeStartupCompleted: object({ durationMs: nonNegativeNumber, components: arrayOf(nonEmptyString) }),
  NodeShutdown: object({ reason: nonEmptyString, timeoutSeconds: nonNegativeInteger }),
  NodeShutdownCompleted: object({ durationMs: nonNegativeNumber }),
  DataMaintenance: object({
    operation: oneOf('cleanup', 'flush', 'both'),
    urgency: oneOf('low', 'medium', 'high'),
    reason: oneOf('periodic', 'shutdown', 'low_disk', 'manual'),
    targetAgeDays: optional(nonNegativeInteger),
    timeoutSeconds: optional(nonNegativeInteger),
  }),
  MaintenanceStarted: object({ maintenanceType: nonEmptyString, estimatedDurationSeconds: optional(nonNegativeInteger) }),
  MaintenanceCompleted: object({
    maintenanceType: nonEmptyString,
    success: boolean,
    durationMs: nonNegativeNumber,
    results: optional(recordOf(scalar)),
  }),
  HealthCheck: object({ checkType: nonEmptyString, nodeHealthy: boolean, healthReport: optional(string) }),
  DiskSpaceLow: object({
    availableBytes: nonNegativeInteger,
    totalBytes: nonNegativeInteger,
    percentFree: percent,
    diskPath: nonEmptyString,
  }),
  ResourceLimitWarning: object({
    resourceType: nonEmptyString,
    usagePercent: nonNegativeNumber,
    currentUsage: nonNegativeNumber,
    limit: nonNegativeNumber,
    thresholdPercent: percent,
  }),
} as const;

/**
 * The node catalogue: its types in SPEC's order, and validation of untrusted values as node events.
 *
 * @example
 * ```ts
 * const event = nodeCatalogue.validate(JSON.parse(line)); // NodeEvent, or throws ModactorError
 * ```
 */
export const nodeCatalogue: Catalogue<NodeEventMap> = defineCatalogue<NodeEventMap>(nodePayloadChecks);
