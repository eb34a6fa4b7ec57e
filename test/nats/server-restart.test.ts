/**
 * The nats-server restarts mid-stream (same port, same JetStream store): nodes keep running,
 * count what they could not send, reconnect, and resume; durable events sent while the server was
 * away are delivered once it is back, in order, none lost.
 */
import { afterAll, expect, it } from 'vitest';
import type { Bus } from '../../src/nats/bus.js';
import { block, fakeNode, type FakePort, nextConnection, useNatsServer } from './support.js';

const nats = useNatsServer();
const nodes: Bus[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((bus) => bus.close()));
});

const heights = (port: FakePort, type: string): number[] => port.injected.filter((i) => i.event.type === type).map((i) => (i.event.payload as { height: number }).height);

it('keeps both nodes running through a server restart and resumes every path', async () => {
  const join = async (id: string): Promise<{ port: FakePort; bus: Bus }> => {
    const joined = await fakeNode(id, nats.server.url, { prefix: 'restart', durableTypes: ['BlockDisconnected'] });
    nodes.push(joined.bus);
    return joined;
  };
  const a = await join('a');
  const b = await join('b');
  a.port.load('amod');
  await b.port.until(() => b.port.present.has('a/amod'));
  for (let h = 1; h <= 50; h++) {
    a.port.publish('NewBlock', block(h));
    a.port.publish('BlockDisconnected', { hash: block(h).blockHash, height: h });
  }
  await b.port.until(() => b.port.injected.length === 100);

  const aDown = nextConnection(a.bus, 'down');
  const bDown = nextConnection(b.bus, 'down');
  await nats.server.stop();
  await Promise.all([aDown, bDown]);
  for (let h = 51; h <= 100; h++) {
    a.port.publish('NewBlock', block(h));
    a.port.publish('BlockDisconnected', { hash: block(h).blockHash, height: h });
  }
  expect(a.bus.stats().core).toMatchObject({ busUnavailable: 50 });
  expect(a.bus.stats().durable.pending).toBe(50);

  const aUp = nextConnection(a.bus, 'up');
  const bUp = nextConnection(b.bus, 'up');
  await nats.server.restart();
  expect(await aUp).toEqual({ type: 'up', serverRestarted: true });
  await bUp;
  await a.bus.durableSettled();
  for (let h = 101; h <= 120; h++) a.port.publish('NewBlock', block(h));
  await b.port.until(() => heights(b.port, 'NewBlock').includes(120));
  await b.port.until(() => heights(b.port, 'BlockDisconnected').length === 100);

  expect(heights(b.port, 'BlockDisconnected')).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(heights(b.port, 'NewBlock')).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), ...Array.from({ length: 20 }, (_, i) => i + 101)]);
  const sent = a.bus.stats();
  const got = b.bus.stats();
  expect(sent.core).toMatchObject({ offered: 120, sent: 70, busUnavailable: 50, overflow: 0 });
  expect(got.core).toMatchObject({ received: 70, missed: 0 });
  expect(sent.durable).toMatchObject({ offered: 100, sent: 100, pending: 0, unconfirmed: 0 });
  expect(got.durable).toMatchObject({ received: 100, missed: 0 });
  expect(sent.connection).toMatchObject({ connected: true, disconnects: 1, reconnects: 1, serverRestarts: 1 });
  // Membership survived (the bucket is on the server's store); if the restart outlasted the
  // deadline, a/amod was retired and announced again, never twice in a row.
  await b.port.until(() => b.port.present.has('a/amod'));
  expect(b.port.problems).toEqual([]);
  expect(['+a/amod@1.0.0', '+a/amod@1.0.0,-a/amod,+a/amod@1.0.0']).toContain(b.port.membershipLog.join(','));
});

it('leaves within its close timeout while the server is away, counting what it could not send', async () => {
  const c = await fakeNode('c', nats.server.url, { prefix: 'restart', durableTypes: ['BlockDisconnected'], closeTimeoutMs: 1000 });
  const down = nextConnection(c.bus, 'down');
  await nats.server.stop();
  await down;
  for (let h = 1; h <= 10; h++) c.port.publish('BlockDisconnected', { hash: block(h).blockHash, height: h });
  c.port.publish('NewBlock', block(11));
  await c.bus.close();
  const stats = c.bus.stats();
  expect(stats.durable).toMatchObject({ offered: 10, busUnavailable: 10, pending: 0 });
  expect(stats.core).toMatchObject({ offered: 1, busUnavailable: 1 });
  expect(stats.connection.connected).toBe(false);
  await nats.server.restart();
});
