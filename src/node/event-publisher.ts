/**
 * The EventPublisher (SPEC section 2): a facade for node code with one typed helper per node
 * catalogue event, each building `{ type, payload }` and handing it to one publish function
 * (the node wires it to `EventManager.publish`, so validation and delivery happen there).
 */
import type {
  Hash,
  MaintenanceOperation,
  MaintenanceReason,
  MaintenanceResults,
  MaintenanceUrgency,
  ModuleHealth,
  NodeEvent,
  NodeEventMap,
  NodeEventType,
} from '../events/node-catalogue.js';

/**
 * One helper per node catalogue event, named after its type in lowerCamelCase, taking the payload
 * fields positionally in the catalogue's order (optional fields last, and optional), and returning
 * whatever the publish function returns (`R`, e.g. the EventManager's receipt). An omitted
 * optional field is left out of the payload, never set to `undefined`.
 *
 * The helpers are plain functions, not methods: they can be destructured
 * (`const { newBlock } = publisher`).
 */
export interface EventPublisher<R> {
  // core
  readonly newBlock: (blockHash: Hash, height: number) => R;
  readonly newTransaction: (txHash: Hash) => R;
  readonly blockDisconnected: (hash: Hash, height: number) => R;
  readonly chainReorg: (oldTip: Hash, newTip: Hash) => R;
  // governance
  readonly governanceProposalCreated: (proposalId: string, repository: string, prNumber: number, tier: number) => R;
  readonly governanceProposalVoted: (proposalId: string, voter: string, vote: string) => R;
  readonly governanceProposalMerged: (proposalId: string, repository: string, prNumber: number) => R;
  readonly webhookSent: (webhookUrl: string, eventType: string, success: boolean) => R;
  readonly webhookFailed: (webhookUrl: string, eventType: string, error: string) => R;
  readonly governanceForkDetected: (forkId: string, rulesetVersion: string, adoptionCount: number) => R;
  // network
  readonly peerConnected: (peerAddr: string, transportType: string, services: number, version: number, peerNodeId?: string) => R;
  readonly peerDisconnected: (peerAddr: string, reason: string) => R;
  readonly peerBanned: (peerAddr: string, reason: string, banDurationSeconds: number) => R;
  readonly peerUnbanned: (peerAddr: string) => R;
  readonly messageReceived: (peerAddr: string, messageType: string, messageSize: number, protocolVersion: number) => R;
  readonly messageSent: (peerAddr: string, messageType: string, messageSize: number) => R;
  readonly broadcastStarted: (messageType: string, targetPeers: number) => R;
  readonly broadcastCompleted: (messageType: string, successful: number, failed: number) => R;
  // module lifecycle
  readonly moduleLoaded: (moduleName: string, version: string) => R;
  readonly moduleUnloaded: (moduleName: string, version: string) => R;
  readonly moduleReloaded: (moduleName: string, oldVersion: string, newVersion: string) => R;
  readonly moduleStarted: (moduleName: string) => R;
  readonly moduleStopped: (moduleName: string) => R;
  readonly moduleCrashed: (moduleName: string, error: string) => R;
  readonly moduleHealthChanged: (moduleName: string, oldHealth: ModuleHealth, newHealth: ModuleHealth) => R;
  readonly moduleStateChanged: (moduleName: string, oldState: string, newState: string) => R;
  // node
  readonly nodeStartupCompleted: (durationMs: number, components: readonly string[]) => R;
  readonly nodeShutdown: (reason: string, timeoutSeconds: number) => R;
  readonly nodeShutdownCompleted: (durationMs: number) => R;
  // maintenance
  readonly dataMaintenance: (
    operation: MaintenanceOperation,
    urgency: MaintenanceUrgency,
    reason: MaintenanceReason,
    targetAgeDays?: number,
    timeoutSeconds?: number,
  ) => R;
  readonly maintenanceStarted: (maintenanceType: string, estimatedDurationSeconds?: number) => R;
  readonly maintenanceCompleted: (maintenanceType: string, success: boolean, durationMs: number, results?: MaintenanceResults) => R;
  readonly healthCheck: (checkType: string, nodeHealthy: boolean, healthReport?: string) => R;
  // resources
  readonly diskSpaceLow: (availableBytes: number, totalBytes: number, percentFree: number, diskPath: string) => R;
  readonly resourceLimitWarning: (
    resourceType: string,
    usagePercent: number,
    currentUsage: number,
    limit: number,
    thresholdPercent: number,
  ) => R;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Makes an {@link EventPublisher} over `publish`.
 *
 * @example
 * ```ts
 * const publisher = createEventPublisher((event) => node.events.publish(event));
 * publisher.newBlock('ab'.repeat(32), 1);
 * publisher.dataMaintenance('flush', 'high', 'shutdown', undefined, 30); // no targetAgeDays key
 * ```
 */
export function createEventPublisher<R>(publish: (event: NodeEvent) => R): EventPublisher<R> {
  const emit = <K extends NodeEventType>(type: K, payload: NodeEventMap[K]): R =>
    publish({ type, payload } as NodeEvent);
  return {
    newBlock: (blockHash, height) => emit('NewBlock', { blockHash, height }),
    newTransaction: (txHash) => emit('NewTransaction', { txHash }),
    blockDisconnected: (hash, height) => emit('BlockDisconnected', { hash, height }),
    chainReorg: (oldTip, newTip) => emit('ChainReorg', { oldTip, newTip }),

    governanceProposalCreated: (proposalId, repository, prNumber, tier) =>
      emit('GovernanceProposalCreated', { proposalId, repository, prNumber, tier }),
    governanceProposalVoted: (proposalId, voter, vote) => emit('GovernanceProposalVoted', { proposalId, voter, vote }),
    governanceProposalMerged: (proposalId, repository, prNumber) =>
      emit('GovernanceProposalMerged', { proposalId, repository, prNumber }),
    webhookSent: (webhookUrl, eventType, success) => emit('WebhookSent', { webhookUrl, eventType, success }),
    webhookFailed: (webhookUrl, eventType, error) => emit('WebhookFailed', { webhookUrl, eventType, error }),
    governanceForkDetected: (forkId, rulesetVersion, adoptionCount) =>
      emit('GovernanceForkDetected', { forkId, rulesetVersion, adoptionCount }),

    peerConnected: (peerAddr, transportType, services, version, peerNodeId) => {
      const payload: Writable<NodeEventMap['PeerConnected']> = { peerAddr, transportType, services, version };
      if (peerNodeId !== undefined) payload.peerNodeId = peerNodeId;
      return emit('PeerConnected', payload);
    },
    peerDisconnected: (peerAddr, reason) => emit('PeerDisconnected', { peerAddr, reason }),
    peerBanned: (peerAddr, reason, banDurationSeconds) => emit('PeerBanned', { peerAddr, reason, banDurationSeconds }),
    peerUnbanned: (peerAddr) => emit('PeerUnbanned', { peerAddr }),
    messageReceived: (peerAddr, messageType, messageSize, protocolVersion) =>
      emit('MessageReceived', { peerAddr, messageType, messageSize, protocolVersion }),
    messageSent: (peerAddr, messageType, messageSize) => emit('MessageSent', { peerAddr, messageType, messageSize }),
    broadcastStarted: (messageType, targetPeers) => emit('BroadcastStarted', { messageType, targetPeers }),
    broadcastCompleted: (messageType, successful, failed) =>
      emit('BroadcastCompleted', { messageType, successful, failed }),

    moduleLoaded: (moduleName, version) => emit('ModuleLoaded', { moduleName, version }),
    moduleUnloaded: (moduleName, version) => emit('ModuleUnloaded', { moduleName, version }),
    moduleReloaded: (moduleName, oldVersion, newVersion) => emit('ModuleReloaded', { moduleName, oldVersion, newVersion }),
    moduleStarted: (moduleName) => emit('ModuleStarted', { moduleName }),
    moduleStopped: (moduleName) => emit('ModuleStopped', { moduleName }),
    moduleCrashed: (moduleName, error) => emit('ModuleCrashed', { moduleName, error }),
    moduleHealthChanged: (moduleName, oldHealth, newHealth) =>
      emit('ModuleHealthChanged', { moduleName, oldHealth, newHealth }),
    moduleStateChanged: (moduleName, oldState, newState) => emit('ModuleStateChanged', { moduleName, oldState, newState }),

    nodeStartupCompleted: (durationMs, components) => emit('NodeStartupCompleted', { durationMs, components }),
    nodeShutdown: (reason, timeoutSeconds) => emit('NodeShutdown', { reason, timeoutSeconds }),
    nodeShutdownCompleted: (durationMs) => emit('NodeShutdownCompleted', { durationMs }),

    dataMaintenance: (operation, urgency, reason, targetAgeDays, timeoutSeconds) => {
      const payload: Writable<NodeEventMap['DataMaintenance']> = { operation, urgency, reason };
      if (targetAgeDays !== undefined) payload.targetAgeDays = targetAgeDays;
      if (timeoutSeconds !== undefined) payload.timeoutSeconds = timeoutSeconds;
      return emit('DataMaintenance', payload);
    },
    maintenanceStarted: (maintenanceType, estimatedDurationSeconds) => {
      const payload: Writable<NodeEventMap['MaintenanceStarted']> = { maintenanceType };
      if (estimatedDurationSeconds !== undefined) payload.estimatedDurationSeconds = estimatedDurationSeconds;
      return emit('MaintenanceStarted', payload);
    },
    maintenanceCompleted: (maintenanceType, success, durationMs, results) => {
      const payload: Writable<NodeEventMap['MaintenanceCompleted']> = { maintenanceType, success, durationMs };
      if (results !== undefined) payload.results = results;
      return emit('MaintenanceCompleted', payload);
    },
    healthCheck: (checkType, nodeHealthy, healthReport) => {
      const payload: Writable<NodeEventMap['HealthCheck']> = { checkType, nodeHealthy };
      if (healthReport !== undefined) payload.healthReport = healthReport;
      return emit('HealthCheck', payload);
    },

    diskSpaceLow: (availableBytes, totalBytes, percentFree, diskPath) =>
      emit('DiskSpaceLow', { availableBytes, totalBytes, percentFree, diskPath }),
    resourceLimitWarning: (resourceType, usagePercent, currentUsage, limit, thresholdPercent) =>
      emit('ResourceLimitWarning', { resourceType, usagePercent, currentUsage, limit, thresholdPercent }),
  };
}
