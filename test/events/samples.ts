/**
 * One hand-written valid payload per node catalogue type, and one invalid variant naming the
 * field it breaks. Typed as a mapped object, so a type added to the catalogue without a sample
 * does not compile. Exported for reuse (scenario and property tests need a valid event of a type).
 */
import type { NodeEvent, NodeEventMap, NodeEventType } from '../../src/events/node-catalogue.js';

export const HASH_A = 'ab'.repeat(32);
export const HASH_B = '0123456789abcdef'.repeat(4);

interface Sample<K extends NodeEventType> {
  readonly valid: NodeEventMap[K];
  /** An invalid payload, and the path of the issue it must produce. */
  readonly invalid: { readonly payload: unknown; readonly path: string };
}

export const samples: { readonly [K in NodeEventType]: Sample<K> } = {
  NewBlock: {
    valid: { blockHash: HASH_A, height: 840_000 },
    invalid: { payload: { blockHash: HASH_A, height: 'x' }, path: 'payload.height' },
  },
  NewTransaction: {
    valid: { txHash: HASH_B },
    invalid: { payload: { txHash: HASH_B.toUpperCase() }, path: 'payload.txHash' },
  },
  BlockDisconnected: {
    valid: { hash: HASH_A, height: 0 },
    invalid: { payload: { hash: HASH_A, height: -1 }, path: 'payload.height' },
  },
  ChainReorg: {
    valid: { oldTip: HASH_A, newTip: HASH_B },
    invalid: { payload: { oldTip: HASH_A, newTip: HASH_B.slice(1) }, path: 'payload.newTip' },
  },
  GovernanceProposalCreated: {
    valid: { proposalId: 'p-1', repository: 'org/consensus', prNumber: 42, tier: 3 },
    invalid: { payload: { proposalId: 'p-1', repository: 'org/consensus', prNumber: 42, tier: 'three' }, path: 'payload.tier' },
  },
  GovernanceProposalVoted: {
    valid: { proposalId: 'p-1', voter: 'alice', vote: 'approve' },
    invalid: { payload: { proposalId: 'p-1', voter: '', vote: 'approve' }, path: 'payload.voter' },
  },
  GovernanceProposalMerged: {
    valid: { proposalId: 'p-1', repository: 'org/consensus', prNumber: 42 },
    invalid: { payload: { proposalId: 'p-1', repository: 'org/consensus', prNumber: 4.2 }, path: 'payload.prNumber' },
  },
  WebhookSent: {
    valid: { webhookUrl: 'https://example.test/hook', eventType: 'GovernanceProposalMerged', success: true },
    invalid: { payload: { webhookUrl: 'https://example.test/hook', eventType: 'x', success: 'yes' }, path: 'payload.success' },
  },
  WebhookFailed: {
    valid: { webhookUrl: 'https://example.test/hook', eventType: 'GovernanceProposalMerged', error: '' },
    invalid: { payload: { webhookUrl: 'https://example.test/hook', eventType: 'x' }, path: 'payload.error' },
  },
  GovernanceForkDetected: {
    valid: { forkId: 'fork-7', rulesetVersion: '2.1.0', adoptionCount: 12 },
    invalid: { payload: { forkId: 'fork-7', rulesetVersion: '2.1.0', adoptionCount: null }, path: 'payload.adoptionCount' },
  },
  PeerConnected: {
    valid: { peerAddr: '203.0.113.7:8333', transportType: 'tcp', services: 1033, version: 70016, peerNodeId: 'n-9' },
    invalid: {
      payload: { peerAddr: '203.0.113.7:8333', transportType: 'tcp', services: 2 ** 53, version: 70016 },
      path: 'payload.services',
    },
  },
  PeerDisconnected: {
    valid: { peerAddr: '203.0.113.7:8333', reason: 'timeout' },
    invalid: { payload: { peerAddr: '203.0.113.7:8333', reason: 'timeout', reasn: 'typo' }, path: 'payload.reasn' },
  },
  PeerBanned: {
    valid: { peerAddr: '203.0.113.7:8333', reason: 'misbehaving', banDurationSeconds: 86_400 },
    invalid: { payload: { peerAddr: '203.0.113.7:8333', reason: 'misbehaving', banDurationSeconds: '1d' }, path: 'payload.banDurationSeconds' },
  },
  PeerUnbanned: {
    valid: { peerAddr: '203.0.113.7:8333' },
    invalid: { payload: { peerAddr: 8333 }, path: 'payload.peerAddr' },
  },
  MessageReceived: {
    valid: { peerAddr: '203.0.113.7:8333', messageType: 'inv', messageSize: 1_024, protocolVersion: 70016 },
    invalid: {
      payload: { peerAddr: '203.0.113.7:8333', messageType: 'inv', messageSize: 1_024, protocolVersion: -70016 },
      path: 'payload.protocolVersion',
    },
  },
  MessageSent: {
    valid: { peerAddr: '203.0.113.7:8333', messageType: 'block', messageSize: 0 },
    invalid: { payload: { peerAddr: '203.0.113.7:8333', messageType: 'block', messageSize: Number.NaN }, path: 'payload.messageSize' },
  },
  BroadcastStarted: {
    valid: { messageType: 'tx', targetPeers: 8 },
    invalid: { payload: { messageType: 'tx' }, path: 'payload.targetPeers' },
  },
  BroadcastCompleted: {
    valid: { messageType: 'tx', successful: 7, failed: 1 },
    invalid: { payload: { messageType: 'tx', successful: 7, failed: [1] }, path: 'payload.failed' },
  },
  ModuleLoaded: {
    valid: { moduleName: 'indexer', version: '1.0.0' },
    invalid: { payload: { moduleName: 'indexer', version: 1 }, path: 'payload.version' },
  },
  ModuleUnloaded: {
    valid: { moduleName: 'indexer', version: '1.0.0' },
    invalid: { payload: { moduleName: '', version: '1.0.0' }, path: 'payload.moduleName' },
  },
  ModuleReloaded: {
    valid: { moduleName: 'indexer', oldVersion: '1.0.0', newVersion: '1.1.0' },
    invalid: { payload: { moduleName: 'indexer', oldVersion: '1.0.0', new_version: '1.1.0' }, path: 'payload.newVersion' },
  },
  ModuleStarted: {
    valid: { moduleName: 'indexer' },
    invalid: { payload: { moduleName: null }, path: 'payload.moduleName' },
  },
  ModuleStopped: {
    valid: { moduleName: 'indexer' },
    invalid: { payload: { moduleName: ['indexer'] }, path: 'payload.moduleName' },
  },
  ModuleCrashed: {
    valid: { moduleName: 'indexer', error: 'TypeError: x is undefined' },
    invalid: { payload: { moduleName: 'indexer', error: { message: 'boom' } }, path: 'payload.error' },
  },
  ModuleHealthChanged: {
    valid: { moduleName: 'indexer', oldHealth: 'healthy', newHealth: 'degraded' },
    invalid: { payload: { moduleName: 'indexer', oldHealth: 'healthy', newHealth: 'sick' }, path: 'payload.newHealth' },
  },
  ModuleStateChanged: {
    valid: { moduleName: 'indexer', oldState: 'syncing', newState: 'ready' },
    invalid: { payload: { moduleName: 'indexer', oldState: 'syncing', newState: '' }, path: 'payload.newState' },
  },
  NodeStartupCompleted: {
    valid: { durationMs: 1_234.5, components: ['chain', 'mempool', 'network'] },
    invalid: { payload: { durationMs: 1_234.5, components: ['chain', ''] }, path: 'payload.components[1]' },
  },
  NodeShutdown: {
    valid: { reason: 'signal', timeoutSeconds: 30 },
    invalid: { payload: { reason: 'signal', timeoutSeconds: Number.POSITIVE_INFINITY }, path: 'payload.timeoutSeconds' },
  },
  NodeShutdownCompleted: {
    valid: { durationMs: 0 },
    invalid: { payload: { durationMs: -5 }, path: 'payload.durationMs' },
  },
  DataMaintenance: {
    valid: { operation: 'both', urgency: 'high', reason: 'low_disk', targetAgeDays: 30, timeoutSeconds: 10 },
    invalid: { payload: { operation: 'both', urgency: 'critical', reason: 'low_disk' }, path: 'payload.urgency' },
  },
  MaintenanceStarted: {
    valid: { maintenanceType: 'prune' },
    invalid: { payload: { maintenanceType: 'prune', estimatedDurationSeconds: undefined }, path: 'payload.estimatedDurationSeconds' },
  },
  MaintenanceCompleted: {
    valid: { maintenanceType: 'prune', success: true, durationMs: 88, results: { prunedBlocks: 1_000, vacuumed: true, note: 'ok' } },
    invalid: {
      payload: { maintenanceType: 'prune', success: true, durationMs: 88, results: { prunedBlocks: { n: 1 } } },
      path: 'payload.results.prunedBlocks',
    },
  },
  HealthCheck: {
    valid: { checkType: 'periodic', nodeHealthy: false, healthReport: '{"disk":"low"}' },
    invalid: { payload: { checkType: 'periodic', nodeHealthy: 1 }, path: 'payload.nodeHealthy' },
  },
  DiskSpaceLow: {
    valid: { availableBytes: 1_000_000, totalBytes: 500_000_000_000, percentFree: 0.0002, diskPath: '/var/lib/node' },
    invalid: {
      payload: { availableBytes: 1_000_000, totalBytes: 500_000_000_000, percentFree: 101, diskPath: '/var/lib/node' },
      path: 'payload.percentFree',
    },
  },
  ResourceLimitWarning: {
    valid: { resourceType: 'memory', usagePercent: 104.5, currentUsage: 2_090, limit: 2_000, thresholdPercent: 90 },
    invalid: {
      payload: { resourceType: 'memory', usagePercent: 91, currentUsage: 1_820, limit: 2_000, thresholdPercent: -1 },
      path: 'payload.thresholdPercent',
    },
  },
};

/**
 * The valid sample of a type as an event: a fresh copy each time, so a test that changes what it
 * was given (the hostile-input property does) cannot change what the next test gets.
 */
export function sampleEvent<K extends NodeEventType>(type: K): NodeEvent<K> {
  return { type, payload: structuredClone(samples[type].valid) };
}
