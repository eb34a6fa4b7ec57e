/**
 * Faults between nodes: a network cut (a black hole in front of one node) and a node killed with
 * SIGKILL. The others notice by the heartbeat deadline, retire its modules, remove its keys, and
 * announce it again when it comes back; what could not be sent or received is counted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { Bus } from '../../src/nats/bus.js';
import { sendingBalanced } from '../../src/nats/bus-stats.js';
import { busSubjects } from '../../src/nats/subject.js';
import { startProxy, type TcpProxy } from './proxy.js';
import { block, fakeNode, type FakePort, nextConnection, spawnBusNode, useNatsServer } from './support.js';

const nats = useNatsServer();
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function node(nodeId: string, url: string, prefix: string, durableTypes: string[] = []): Promise<{ port: FakePort; bus: Bus }> {
  const joined = await fakeNode(nodeId, url, { prefix, durableTypes });
  cleanup.push(() => joined.bus.close());
  return joined;
}

const heights = (port: FakePort, type: string, from: string): number[] =>
  port.from(from).filter((i) => i.event.type === type).map((i) => (i.event.payload as { height?: number; txHash?: string }).height ?? 0);

describe('a network cut', () => {
  it('retires the cut node on the others at the deadline, announces it again when it is back, and counts every core event lost', async () => {
    const proxy: TcpProxy = await startProxy(nats.server.port);
    cleanup.push(() => proxy.close());
    const a = await node('a', nats.server.url, 'cut', ['BlockDisconnected']);
    const b = await node('b', proxy.url, 'cut', ['BlockDisconnected']);
    a.port.load('amod');
    b.port.load('bmod');
    await a.port.until(() => a.port.present.has('b/bmod'));
    await b.port.until(() => b.port.present.has('a/amod'));
    b.port.publish('NewBlock', block(1));
    await a.port.until(() => a.port.count === 1);

    const down = nextConnection(b.bus, 'down');
    proxy.cut();
    // b keeps publishing: core events go into the black hole until b notices, then are counted
    // busUnavailable; durable events wait in b's queue.
    let height = 2;
    const publishing = setInterval(() => {
      b.port.publish('NewBlock', block(height));
      b.port.publish('BlockDisconnected', { hash: block(height).blockHash, height });
      height++;
    }, 5);
    await a.port.until(() => !a.port.present.has('b/bmod'));
    await b.port.until(() => !b.port.present.has('a/amod'));
    await down;
    clearInterval(publishing);
    // Known down: core events are counted busUnavailable, durable ones wait.
    for (let i = 0; i < 5; i++, height++) {
      b.port.publish('NewBlock', block(height));
      b.port.publish('BlockDisconnected', { hash: block(height).blockHash, height });
    }
    expect(b.bus.stats().core.busUnavailable).toBeGreaterThanOrEqual(5);
    expect(b.bus.stats().durable.pending).toBeGreaterThanOrEqual(5);
    const up = nextConnection(b.bus, 'up');
    proxy.restore();
    expect(await up).toEqual({ type: 'up', serverRestarted: false });
    await a.port.until(() => a.port.present.has('b/bmod'));
    await b.port.until(() => b.port.present.has('a/amod'));
    const last = height;
    b.port.publish('NewBlock', block(last));
    b.port.publish('BlockDisconnected', { hash: block(last).blockHash, height: last });
    await a.port.until(() => heights(a.port, 'NewBlock', 'b').includes(last));
    await b.bus.durableSettled();
    await a.port.until(() => heights(a.port, 'BlockDisconnected', 'b').includes(last));

    expect(a.port.membershipLog).toEqual(['+b/bmod@1.0.0', '-b/bmod', '+b/bmod@1.0.0']);
    expect(b.port.membershipLog).toEqual(['+a/amod@1.0.0', '-a/amod', '+a/amod@1.0.0']);
    const sent = b.bus.stats();
    const got = a.bus.stats();
    // Core: at most once, and nothing lost uncounted.
    expect(sendingBalanced(sent.core)).toBe(true);
    expect(sendingBalanced(sent.durable)).toBe(true);
    expect(got.core.received + got.core.missed).toBe(sent.core.sent);
    expect(got.core.missed).toBeGreaterThan(0); // written into the black hole before b noticed
    expect(heights(a.port, 'NewBlock', 'b')).toEqual([...heights(a.port, 'NewBlock', 'b')].sort((x, y) => x - y));
    // Durable: every event, once, in order.
    expect(sent.durable).toMatchObject({ pending: 0, busUnavailable: 0, overflow: 0, unconfirmed: 0 });
    expect(heights(a.port, 'BlockDisconnected', 'b')).toEqual(Array.from({ length: last - 1 }, (_, i) => i + 2));
    expect(got.durable.missed).toBe(0);
    expect(sent.connection).toMatchObject({ disconnects: 1, reconnects: 1, serverRestarts: 0 });
    expect([...a.port.problems, ...b.port.problems]).toEqual([]);
  });
});

describe('a node killed with SIGKILL', () => {
  it('is declared gone at the deadline: its modules retired on the others and its keys removed', async () => {
    const prefix = 'kill';
    const a = await node('a', nats.server.url, prefix);
    const child = await spawnBusNode(['--url', nats.server.url, '--node', 'victim', '--prefix', prefix, '--load', 'm1,m2']);
    cleanup.push(() => child.kill());
    await a.port.until(() => a.port.present.size === 2);
    const nc = await connect({ servers: nats.server.url });
    cleanup.push(() => nc.close());
    const kv = await new Kvm(nc).open(busSubjects(prefix).bucket);
    const keys = async (): Promise<string[]> => {
      const found: string[] = [];
      for await (const key of await kv.keys()) found.push(key);
      return found.sort();
    };
    expect(await keys()).toEqual(['victim.m1', 'victim.m2']);

    await child.kill();
    await a.port.until(() => a.port.present.size === 0);
    expect(a.port.membershipLog).toEqual(['+victim/m1@1.0.0', '+victim/m2@1.0.0', '-victim/m2', '-victim/m1']);
    // The deletes are on their way; the bucket's watch shows them to a watcher started now.
    const watch = await kv.watch({ key: 'victim.*' });
    let deleted = 0;
    for await (const entry of watch) {
      if (entry.operation === 'DEL') deleted++;
      if (deleted === 2) break;
    }
    expect(await keys()).toEqual([]);
    expect(a.bus.stats().membership).toMatchObject({ nodesGone: 1, remoteModules: 0 });
  });
});

describe('a node restarted under the same id before the deadline', () => {
  it('retires the old incarnation at once, announces the new one, and never the old one\'s leftover keys', async () => {
    const prefix = 'phoenix';
    // A deadline far longer than the restart: only the new incarnation can tell a the old one is gone.
    const a = await fakeNode('a', nats.server.url, { prefix, deadlineMs: 60_000 });
    cleanup.push(() => a.bus.close());
    const first = await spawnBusNode(['--url', nats.server.url, '--node', 'phoenix', '--prefix', prefix, '--load', 'm1,m2', '--deadline-ms', '60000']);
    cleanup.push(() => first.kill());
    await a.port.until(() => a.port.present.size === 2);
    await first.kill();
    const second = await spawnBusNode(['--url', nats.server.url, '--node', 'phoenix', '--prefix', prefix, '--load', 'm2,m3', '--deadline-ms', '60000']);
    cleanup.push(() => second.kill());
    await a.port.until(() => a.port.present.has('phoenix/m3'));
    expect(a.port.membershipLog).toEqual(['+phoenix/m1@1.0.0', '+phoenix/m2@1.0.0', '-phoenix/m2', '-phoenix/m1', '+phoenix/m2@1.0.0', '+phoenix/m3@1.0.0']);
    // The new incarnation removed m1's key, left by the killed one.
    const nc = await connect({ servers: nats.server.url });
    cleanup.push(() => nc.close());
    const kv = await new Kvm(nc).open(busSubjects(prefix).bucket);
    const watch = await kv.watch({ key: 'phoenix.m1' });
    for await (const entry of watch) if (entry.operation === 'DEL') break;
    expect(a.bus.stats().membership.nodesGone).toBe(0);
    expect(a.port.problems).toEqual([]);
  });
});
