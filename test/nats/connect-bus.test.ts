/**
 * `connectBus(node, options)` with real nodes (createNode) on a real nats-server: options checked
 * before connecting, events and membership between nodes through the node's own paths, the bus
 * leaving with the node, and the bus's Prometheus metrics.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createNode, defineModule, EventType, isModactorError, type ModactorError, type ModactorNode, type NodeEvent } from '../../src/index.js';
import { createNodeMetrics } from '../../src/metrics.js';
import { connectBus, createBusMetrics, type Bus, type ConnectBusOptions } from '../../src/nats.js';
import { Conditions } from './fake-port.js';
import { testLogger, useNatsServer } from './support.js';

const nats = useNatsServer();
const nodes: ModactorNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((node) => node.shutdown()));
});

const fast = { heartbeatMs: 100, deadlineMs: 600, connection: { reconnectTimeWaitMs: 100, pingIntervalMs: 250, maxPingOut: 2 }, closeTimeoutMs: 2000 } satisfies Partial<ConnectBusOptions>;

/** A node that records what a module `watcher` takes, joined to the bus as `nodeId`. */
async function joined(nodeId: string, prefix: string): Promise<{ node: ModactorNode; bus: Bus; seen: NodeEvent[]; until: (condition: () => boolean) => Promise<void> }> {
  const node = createNode({ logger: testLogger() });
  nodes.push(node);
  const seen: NodeEvent[] = [];
  const conditions = new Conditions();
  await node.load(
    defineModule({
      name: 'watcher',
      version: '1.0.0',
      subscribe: [EventType.NewBlock, EventType.ModuleLoaded, EventType.ModuleUnloaded],
      handle(event) {
        seen.push(event);
        conditions.changed();
      },
    }),
  );
  const bus = await connectBus(node, { servers: nats.server.url, nodeId, prefix, ...fast });
  return { node, bus, seen, until: (condition) => conditions.until(condition) };
}

describe('connectBus', () => {
  it('refuses bad options before connecting, naming the field', async () => {
    const node = createNode();
    nodes.push(node);
    const cases: [unknown, string, RegExp][] = [
      [{ servers: 'nats://127.0.0.1:1' }, 'invalid-argument', /node id/],
      [{ server: 'nats://127.0.0.1:1', nodeId: 'a' }, 'invalid-argument', /server: expected only the fields/],
      [{ servers: [], nodeId: 'a' }, 'invalid-argument', /servers: expected a server URL or a list of them, got an empty array/],
      [{ servers: 'x', nodeId: 'a', prefix: 'a.b' }, 'invalid-argument', /prefix: expected a bus prefix/],
      [{ servers: 'x', nodeId: 'a', durableTypes: ['Nope'] }, 'unknown-event-type', /Nope/],
      [{ servers: 'x', nodeId: 'a', durableTypes: ['NodeShutdown'] }, 'invalid-argument', /node-reserved/],
      [{ servers: 'x', nodeId: 'a', heartbeatMs: 500, deadlineMs: 500 }, 'invalid-argument', /deadlineMs: expected more than heartbeatMs \(500\)/],
      [{ servers: 'x', nodeId: 'a', user: 'u' }, 'invalid-argument', /user: expected a user with a password/],
      [{ servers: 'x', nodeId: 'a', durable: { batchMax: 5000 } }, 'invalid-argument', /durable\.batchMax: expected at most 1000 events/],
      [{ servers: 'x', nodeId: 'a', tls: { caFile: 7 } }, 'invalid-argument', /tls\.caFile/],
    ];
    for (const [options, code, message] of cases) {
      const error: unknown = await connectBus(node, options as ConnectBusOptions).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isModactorError(error, code as 'invalid-argument'), JSON.stringify(options)).toBe(true);
      const issues = (error as ModactorError).issues ?? [];
      expect([(error as Error).message, ...issues.map((i) => `${i.path}: ${i.message}`)].join('\n')).toMatch(message);
    }
  });

  it('carries events and membership between nodes through their own paths, and leaves with its node', async () => {
    const a = await joined('a', 'connect');
    const b = await joined('b', 'connect');
    await b.until(() => b.seen.some((e) => e.type === 'ModuleLoaded' && e.payload.moduleName === 'a/watcher'));
    expect(await b.node.events.getLoadedModules()).toEqual(['watcher', 'a/watcher']);

    a.node.publisher.newBlock('ab'.repeat(32), 1);
    await b.until(() => b.seen.some((e) => e.type === 'NewBlock'));
    const remote = b.seen.find((e) => e.type === 'NewBlock');
    // Validated, stamped and counted by b like any event it accepts; its source names a's node.
    expect(remote?.meta?.source).toBe('a/node');
    expect(Object.isFrozen(remote?.payload)).toBe(true);
    expect(await b.node.events.getDeliveryStats('watcher')).toMatchObject({ successful: 3, handled: 3 });
    expect(b.bus.stats().core).toMatchObject({ received: 1, invalid: 0 });

    // a shuts down: its module is unloaded, its bus says goodbye and leaves by itself.
    await a.node.shutdown();
    await b.until(() => b.seen.some((e) => e.type === 'ModuleUnloaded' && e.payload.moduleName === 'a/watcher'));
    await a.bus.close(); // the same leaving, already under way: resolves when it is done
    expect(a.bus.stats().connection.connected).toBe(false);
    expect(await b.node.events.getLoadedModules()).toEqual(['watcher']);
  });

  it('exposes the bus counters as Prometheus metrics, beside the node\'s own', async () => {
    const a = await joined('a', 'metrics');
    const b = await joined('b', 'metrics');
    await b.until(() => b.bus.stats().membership.remoteModules === 1);
    for (let h = 1; h <= 3; h++) a.node.publisher.newBlock('cd'.repeat(32), h);
    await b.until(() => b.seen.filter((e) => e.type === 'NewBlock').length === 3);
    const registry = createBusMetrics(b.bus, { registry: createNodeMetrics(b.node) });
    const text = await registry.metrics();
    expect(text).toContain('modactor_bus_received_events_total{path="core",outcome="received"} 3');
    expect(text).toContain('modactor_bus_sent_events_total{path="durable",outcome="bus_unavailable"} 0');
    expect(text).toContain('modactor_bus_connected 1');
    expect(text).toContain('modactor_bus_remote_modules 1');
    expect(text).toContain('modactor_bus_nodes_alive 1');
    expect(text).toContain('modactor_events_delivered_total{module="watcher"}');
    const aText = await createBusMetrics(a.bus).metrics();
    expect(aText).toContain('modactor_bus_sent_events_total{path="core",outcome="sent"} 3');
  });
});
