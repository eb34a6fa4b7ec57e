/**
 * Faults with real nodes in processes of their own on one real nats-server: a node SIGKILLed and
 * started again under its id, and the server restarted while events flow. The nodes keep running,
 * count what they could not send or receive, and resume; durable events reach a node that was
 * away, in order, once; the accounting law holds on every node.
 */
import { describe, expect, it } from 'vitest';
import { accountingViolations, type ClusterNode } from './cluster/cluster.js';
import { useCluster, useNatsServer } from './support.js';

const nats = useNatsServer();
const nodes = useCluster(nats, 'faults');

const sinkSaw = (node: ClusterNode, module: string): string[] => (node.probe('sink')?.seen ?? []).filter((s) => s.endsWith(`(${module})`));

describe('a node killed with SIGKILL', () => {
  it('is retired on the others at the deadline, and announced again when it starts under its id, with the durable events it missed', async () => {
    const { cluster, a, b } = nodes;
    let c = nodes.c;
    await c.load({ name: 'k1' });
    await c.load({ name: 'k2' });
    await cluster.until(() => [a, b].every((n) => n.registry.includes('c/k1') && n.registry.includes('c/k2')));
    await a.publish({ core: 100, durable: 100 });
    await cluster.settled();
    const durableBefore = a.published.durable;

    await c.kill();
    await cluster.until(() => [a, b].every((n) => !n.registry.some((m) => m.startsWith('c/'))));
    // Retired once each, in reverse announce order.
    for (const n of [a, b]) {
      expect(sinkSaw(n, 'c/k2')).toEqual(['ModuleLoaded(c/k2)', 'ModuleUnloaded(c/k2)']);
      expect(sinkSaw(n, 'c/k1')).toEqual(['ModuleLoaded(c/k1)', 'ModuleUnloaded(c/k1)']);
    }
    expect((await a.state()).bus.membership).toMatchObject({ nodesGone: 1, nodesAlive: 1 });

    // While c is away: its durable events wait in the stream, its core events are not for it.
    await a.publish({ core: 50, durable: 50 });
    c = await cluster.start('c');
    await c.load({ name: 'k1' });
    await cluster.until(() => [a, b].every((n) => n.registry.includes('c/k1') && n.registry.includes('c/sink')) && c.registry.includes('a/sink') && c.registry.includes('b/sink'));
    await cluster.settled();
    for (const n of [a, b]) expect(sinkSaw(n, 'c/k1')).toEqual(['ModuleLoaded(c/k1)', 'ModuleUnloaded(c/k1)', 'ModuleLoaded(c/k1)']);
    // The new c got every durable event a published from the kill on, in order, none twice
    // (its sink checks consecutive heights; it started from the stream, before it joined).
    const sink = c.probe('sink');
    expect(sink?.lastHeight['a/node durable']).toBe(a.published.durable);
    expect(sink?.fromOrigin['a/node durable']).toBeGreaterThanOrEqual(a.published.durable - durableBefore);
    expect(sinkSaw(c, 'a/sink')).toEqual(['ModuleLoaded(a/sink)']);
    expect(cluster.violations).toEqual([]);
  });
});

describe('the server restarted while events flow', () => {
  it('keeps every node running, counts what could not be sent, and resumes both paths and membership', async () => {
    const { cluster, a, b, c } = nodes;
    await cluster.settled();
    const before = await Promise.all([a, b, c].map((n) => n.state()));
    // A stream of events in flight when the server stops, more while it is away, more after.
    const flowing = a.publish({ core: 3000, durable: 1000 });
    await nats.server.stop();
    await flowing;
    await cluster.until(() => [a, b, c].every((n) => !n.connected));
    await a.publish({ core: 100, durable: 100 });
    await b.load({ name: 'during' });
    await nats.server.restart();
    await cluster.settled(30_000);
    await cluster.until(() => [a, c].every((n) => n.registry.includes('b/during')));

    const after = await Promise.all([a, b, c].map((n) => n.state()));
    const [sentA] = after;
    const delta = (i: number, path: 'core' | 'durable', field: 'received' | 'missed' | 'sent' | 'busUnavailable' | 'unconfirmed'): number =>
      (after[i]?.bus[path][field] ?? 0) - (before[i]?.bus[path][field] ?? 0);
    expect(sentA?.bus.connection).toMatchObject({ connected: true, serverRestarts: 1 });
    // Core: a counted what it could not send; what it sent either arrived or is counted missed.
    expect(delta(0, 'core', 'busUnavailable')).toBeGreaterThanOrEqual(100);
    for (const i of [1, 2]) expect(delta(i, 'core', 'received') + delta(i, 'core', 'missed')).toBe(delta(0, 'core', 'sent') + delta(i === 1 ? 2 : 1, 'core', 'sent'));
    // Durable: nothing lost, every node got all of it, once, in order.
    expect(delta(0, 'durable', 'unconfirmed')).toBe(0);
    expect(delta(0, 'durable', 'busUnavailable')).toBe(0);
    for (const n of [b, c]) expect(n.probe('sink')?.lastHeight['a/node durable']).toBe(a.published.durable);
    for (const i of [1, 2]) {
      expect(delta(i, 'durable', 'missed')).toBe(0);
      expect(delta(i, 'durable', 'received')).toBe(delta(0, 'durable', 'sent') + delta(i === 1 ? 2 : 1, 'durable', 'sent'));
    }
    expect(after.flatMap((state, i) => accountingViolations(['a', 'b', 'c'][i] as string, state))).toEqual([]);
    expect(cluster.violations).toEqual([]);
  });
});
