/**
 * The guide's five integration scenarios across nodes: three real nodes (createNode + connectBus)
 * in three processes on one real nats-server. Each scenario uses module names of its own; after
 * them, the accounting law is checked on every node, and the events every node sent match what the
 * others received.
 */
import { describe, expect, it } from 'vitest';
import { accountingViolations, type ClusterNode } from './cluster/cluster.js';
import { useCluster, useNatsServer } from './support.js';

const nats = useNatsServer();
const nodes = useCluster(nats, 'guide');

/** The membership events a probe saw about modules whose name contains `tag`. */
const membership = (node: ClusterNode, probe: string, tag: string): string[] =>
  (node.probe(probe)?.seen ?? []).filter((s) => s.startsWith('Module') && s.includes(tag));

describe('guide scenario 1: module startup, across nodes', () => {
  it('replays every module of every node to a newcomer once, then announces it everywhere, itself included', async () => {
    const { cluster, a, b, c } = nodes;
    await a.load({ name: 's1-x' });
    await b.load({ name: 's1-y' });
    await cluster.until(() => a.registry.includes('b/s1-y'));
    await a.load({ name: 's1-watch', watch: true });
    await cluster.until(() => ['a/s1-x', 'b/s1-y', 'a/s1-watch'].every((m) => c.registry.includes(m)));
    await c.load({ name: 's1-new', watch: true });
    await cluster.until(() => membership(a, 's1-watch', 's1-new').length === 1 && membership(c, 's1-new', 's1-').length === 4);
    // Replayed in the order the modules were announced on c, then its own ModuleLoaded, once each.
    expect(membership(c, 's1-new', 's1-')).toEqual(['ModuleLoaded(a/s1-x)', 'ModuleLoaded(b/s1-y)', 'ModuleLoaded(a/s1-watch)', 'ModuleLoaded(s1-new)']);
    expect(membership(a, 's1-watch', 's1-')).toEqual(['ModuleLoaded(s1-x)', 'ModuleLoaded(b/s1-y)', 'ModuleLoaded(s1-watch)', 'ModuleLoaded(c/s1-new)']);
    // b hears of them on its own time: what a and c saw says nothing of b yet.
    await cluster.until(() => ['a/s1-x', 's1-y', 'a/s1-watch', 'c/s1-new'].every((m) => b.registry.includes(m)));
    expect(cluster.violations).toEqual([]);
  });
});

describe('guide scenario 2: hotloaded module, across nodes', () => {
  it('gives a module hotloaded on one node the modules of the others while events flow, and announces it to them', async () => {
    const { cluster, a, b } = nodes;
    await a.load({ name: 's2-a', watch: true });
    await cluster.until(() => b.registry.includes('a/s2-a'));
    const traffic = a.publish({ core: 200, durable: 50 });
    await b.load({ name: 's2-b', watch: true });
    await traffic;
    await cluster.until(() => membership(a, 's2-a', 's2-b').length === 1 && membership(b, 's2-b', 's2-').length === 2);
    expect(membership(b, 's2-b', 's2-')).toEqual(['ModuleLoaded(a/s2-a)', 'ModuleLoaded(s2-b)']);
    expect(membership(a, 's2-a', 's2-')).toEqual(['ModuleLoaded(s2-a)', 'ModuleLoaded(b/s2-b)']);
    await cluster.settled();
    // The hotloaded module took a's events in order from where it joined (its probe checks that).
    expect(b.probe('s2-b')?.fromOrigin['a/node core']).toBeGreaterThan(0);
    expect(cluster.violations).toEqual([]);
  });
});

describe('guide scenario 3: slow module, across nodes', () => {
  it('drops what a stuck module on another node cannot take, counts it there, keeps it subscribed, never slows the publisher', async () => {
    const { cluster, a, b } = nodes;
    await b.load({ name: 's3-slow', hold: true, mailboxCapacity: 100 });
    await b.load({ name: 's3-fast' });
    await cluster.until(() => a.registry.includes('b/s3-slow') && a.registry.includes('b/s3-fast'));
    const before = a.published.core;
    await a.publish({ core: 150 });
    // s3-fast took all 150 from the same offers: every offer to s3-slow has been made.
    await cluster.until(() => (b.probe('s3-fast')?.fromOrigin['a/node core'] ?? 0) >= 150);
    const held = await b.state();
    // 150 offers to a stuck module: 100 queued and 1 in hand at most, the rest dropped (channelFull)
    // and counted on node b. (The one in hand: if the module's turn came between two reads of the
    // connection; a burst read at once finds it still queued.)
    const slow = held.stats['s3-slow'];
    expect(slow?.successful).toBeGreaterThanOrEqual(100);
    expect(slow?.successful).toBeLessThanOrEqual(101);
    expect((slow?.successful ?? 0) + (slow?.channelFull ?? 0)).toBe(150);
    expect(held.subscribers).toContain('s3-slow');
    expect((await a.state()).bus.core).toMatchObject({ overflow: 0, busUnavailable: 0 });
    await b.release('s3-slow');
    await a.publish({ core: 10 });
    await cluster.until(() => b.probe('s3-slow')?.lastHeight['a/node core'] === before + 160);
    expect(b.probe('s3-slow')?.fromOrigin['a/node core']).toBe((slow?.successful ?? 0) + 10);
    expect(cluster.violations).toEqual([]);
  });
});

describe('guide scenario 4: dead module, across nodes', () => {
  it('unsubscribes a module that died on one node and retires it on the others', async () => {
    const { cluster, a, b, c } = nodes;
    await c.load({ name: 's4-dead', restart: 'temporary' });
    await a.load({ name: 's4-watch', watch: true });
    await cluster.until(() => membership(a, 's4-watch', 'c/s4-dead').length === 1);
    await c.crash('s4-dead');
    await cluster.until(
      () => membership(a, 's4-watch', 'c/s4-dead').length === 2 && !b.registry.includes('c/s4-dead') && membership(c, 'sink', 's4-dead').length === 3,
    );
    // Remotely it is unloaded (ModuleCrashed is the node's own lifecycle event: it stays local).
    expect(membership(a, 's4-watch', 'c/s4-dead')).toEqual(['ModuleLoaded(c/s4-dead)', 'ModuleUnloaded(c/s4-dead)']);
    expect(membership(c, 'sink', 's4-dead').slice(-2)).toEqual(['ModuleCrashed(s4-dead)', 'ModuleUnloaded(s4-dead)']);
    await a.publish({ core: 5 });
    await cluster.settled();
    const state = await c.state();
    expect(state.subscribers).not.toContain('s4-dead');
    expect(state.stats['s4-dead']).toMatchObject({ handlerFailed: 1 });
    expect(state.registry).not.toContain('s4-dead');
    expect(cluster.violations).toEqual([]);
  });
});

describe('guide scenario 5: governance event flow, across nodes', () => {
  it('delivers a proposal to the governance module of another node and its follow-up to every node, with the same channel semantics', async () => {
    const { cluster, a, b, c } = nodes;
    await b.loadActor('governance-webhook', { failEvery: 0, latencyMs: 1 });
    await a.load({ name: 's5-a', extra: ['WebhookSent'] });
    await c.load({ name: 's5-c', extra: ['WebhookSent'] });
    await cluster.until(() => a.registry.includes('b/governance-webhook') && c.registry.includes('b/governance-webhook') && b.registry.includes('a/s5-a') && b.registry.includes('c/s5-c'));
    await c.publishEvent({ type: 'GovernanceProposalCreated', payload: { proposalId: 'p-1', repository: 'modactor/modactor', prNumber: 7, tier: 2 } });
    await cluster.until(() => ['s5-a', 's5-c'].every((p) => [a, c].some((n) => n.probe(p)?.seen.includes('WebhookSent<-b/governance-webhook'))));
    const gov = (await b.state()).stats['governance-webhook'];
    expect(gov).toMatchObject({ successful: 1, handled: 1, channelFull: 0 });
    expect(cluster.violations).toEqual([]);
  });
});

describe('the accounting law on every node', () => {
  it('ends every event offered to every module in one counted outcome, and every node received what the others sent', async () => {
    const { cluster, a, b, c } = nodes;
    await b.release('s3-slow');
    await cluster.settled();
    const states = await Promise.all([a, b, c].map((n) => n.state()));
    const violations = states.flatMap((state, i) => accountingViolations(['a', 'b', 'c'][i] as string, state));
    expect(violations).toEqual([]);
    for (const path of ['core', 'durable'] as const) {
      const sent = states.reduce((sum, s) => sum + s.bus[path].sent, 0);
      for (const state of states) {
        const got = state.bus[path];
        expect(got.received + got.refused + got.invalid + got.missed, path).toBe(sent - state.bus[path].sent);
        expect(got.missed, path).toBe(0);
      }
    }
    expect(cluster.violations).toEqual([]);
  });
});
