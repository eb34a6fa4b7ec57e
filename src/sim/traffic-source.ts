import type { Random } from '../kernel/random.js';
import type { Hash, MaintenanceOperation, MaintenanceUrgency, NodeEvent } from '../events/node-catalogue.js';
import type { TrafficKind } from './scenario.js';

/**
 * Makes the events of the simulator's traffic generators: a chain that grows (with the odd
 * reorg), transactions, peers that come and go, governance proposals that are created, voted on
 * and merged, periodic maintenance. Every choice comes from one seeded {@link Random}, so the same
 * seed gives the same events.
 */
export class TrafficSource {
  private height = 0;
  private tip: Hash;
  private blocks = 0;
  private readonly peers: string[] = [];
  private nextPeer = 1;
  private readonly proposals: { id: string; pr: number }[] = [];
  private nextProposal = 1;
  private maintenance = 0;

  constructor(private readonly random: Random) {
    this.tip = this.hash();
  }

  /** A fresh 64-character lowercase hex hash. */
  hash(): Hash {
    let out = '';
    for (let i = 0; i < 8; i++) out += Math.floor(this.random.next() * 0x1_0000_0000).toString(16).padStart(8, '0');
    return out;
  }

  /** The events of one tick of a generator of `kind` (a reorg is three events). */
  next(kind: TrafficKind, options: { reorgEvery?: number } = {}): NodeEvent[] {
    switch (kind) {
      case 'blocks':
        return this.block(options.reorgEvery);
      case 'transactions':
        return [{ type: 'NewTransaction', payload: { txHash: this.hash() } }];
      case 'peers':
        return [this.peer()];
      case 'governance':
        return [this.governance()];
      case 'maintenance':
        return [this.dataMaintenance()];
    }
  }

  private block(reorgEvery: number | undefined): NodeEvent[] {
    this.blocks++;
    if (reorgEvery !== undefined && this.blocks % reorgEvery === 0 && this.height > 0) {
      // Replace the tip by a competing block at the same height.
      const oldTip = this.tip;
      const newTip = this.hash();
      this.tip = newTip;
      return [
        { type: 'BlockDisconnected', payload: { hash: oldTip, height: this.height } },
        { type: 'ChainReorg', payload: { oldTip, newTip } },
        { type: 'NewBlock', payload: { blockHash: newTip, height: this.height } },
      ];
    }
    this.height++;
    this.tip = this.hash();
    return [{ type: 'NewBlock', payload: { blockHash: this.tip, height: this.height } }];
  }

  private peer(): NodeEvent {
    if (this.peers.length < 3 || this.random.next() < 0.55) {
      const n = this.nextPeer++;
      const peerAddr = `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}:8333`;
      this.peers.push(peerAddr);
      return { type: 'PeerConnected', payload: { peerAddr, transportType: 'tcp', services: 1033, version: 70016 } };
    }
    const [peerAddr] = this.peers.splice(this.random.int(this.peers.length), 1);
    return { type: 'PeerDisconnected', payload: { peerAddr: peerAddr as string, reason: 'timeout' } };
  }

  private governance(): NodeEvent {
    const roll = this.random.next();
    if (this.proposals.length === 0 || (roll < 0.35 && this.proposals.length < 4)) {
      const n = this.nextProposal++;
      const proposal = { id: `prop-${n}`, pr: 100 + n };
      this.proposals.push(proposal);
      return {
        type: 'GovernanceProposalCreated',
        payload: { proposalId: proposal.id, repository: 'btcdecoded/governance', prNumber: proposal.pr, tier: 1 + this.random.int(5) },
      };
    }
    if (roll < 0.8) {
      const proposal = this.proposals[this.random.int(this.proposals.length)] as { id: string };
      const vote = this.random.next() < 0.7 ? 'yes' : 'no';
      return { type: 'GovernanceProposalVoted', payload: { proposalId: proposal.id, voter: `maintainer-${1 + this.random.int(7)}`, vote } };
    }
    const [proposal] = this.proposals.splice(this.random.int(this.proposals.length), 1) as [{ id: string; pr: number }];
    return { type: 'GovernanceProposalMerged', payload: { proposalId: proposal.id, repository: 'btcdecoded/governance', prNumber: proposal.pr } };
  }

  private dataMaintenance(): NodeEvent {
    const operations: readonly MaintenanceOperation[] = ['cleanup', 'flush', 'both'];
    const operation = operations[this.maintenance++ % operations.length] as MaintenanceOperation;
    const roll = this.random.next();
    const urgency: MaintenanceUrgency = roll < 0.6 ? 'low' : roll < 0.85 ? 'medium' : 'high';
    return { type: 'DataMaintenance', payload: { operation, urgency, reason: 'periodic' } };
  }
}

/** The gap to the next event of a generator: `every`, or an exponential gap with mean 1000/rate ms. */
export function nextGap(random: Random, spec: { readonly every?: number; readonly rate?: number }): number {
  if (spec.every !== undefined) return spec.every;
  const rate = spec.rate ?? 1;
  const u = 1 - random.next(); // (0, 1]
  return Math.max(1, Math.round((-Math.log(u) * 1000) / rate));
}
