/**
 * The bus against a real nats-server: events both ways, durable events through JetStream,
 * membership through the KV bucket and heartbeats, no echo, and accounting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isModactorError, type ModactorErrorCode } from '../../src/index.js';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { streamNotReady, type Bus } from '../../src/nats/bus.js';
import { block, fakeNode, type FakePort, useNatsServer } from './support.js';

const nats = useNatsServer();
const open: Bus[] = [];
let prefixCount = 0;

/** Joins a fake node on a prefix of its own per test, so tests never see each other's traffic. */
async function join(nodeId: string, prefix: string, options: Parameters<typeof fakeNode>[2] = {}): Promise<{ port: FakePort; bus: Bus }> {
  const node = await fakeNode(nodeId, nats.server.url, { prefix, ...options });
  open.push(node.bus);
  return node;
}

const freshPrefix = (): string => `t${++prefixCount}`;

afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});

describe('joining', () => {
  it('refuses bad options with typed errors before connecting', async () => {
    const cases: [string, Parameters<typeof fakeNode>[2], string][] = [
      ['', {}, 'invalid-argument'],
      ['x'.repeat(129), {}, 'invalid-argument'],
      ['a', { prefix: 'a.b' }, 'invalid-argument'],
      ['a', { durableTypes: ['NoSuchType'] }, 'unknown-event-type'],
      ['a', { durableTypes: ['ModuleLoaded'] }, 'invalid-argument'],
      ['a', { heartbeatMs: 100, deadlineMs: 100 }, 'invalid-argument'],
      ['a', { heartbeatMs: 0 }, 'invalid-argument'],
      ['a', { durable: { window: 1.5 } }, 'invalid-argument'],
    ];
    for (const [nodeId, options, code] of cases) {
      const error: unknown = await fakeNode(nodeId, 'nats://127.0.0.1:1', options).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isModactorError(error, code as ModactorErrorCode), `${nodeId.slice(0, 8)} ${JSON.stringify(options)}`).toBe(true);
    }
  });
});

describe('core events', () => {
  it('delivers every event of one node to another, in order, with its origin, and never back to its sender', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix);
    const b = await join('b', prefix);
    for (let i = 1; i <= 500; i++) a.port.publish('NewBlock', block(i), 'miner');
    await b.port.until(() => b.port.injected.length === 500);
    expect(b.port.injected.map((i) => (i.event.payload as { height: number }).height)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(b.port.injected[0]?.origin).toEqual({ nodeId: 'a', module: 'miner', seq: 1 });
    expect(b.port.injected[499]?.origin.seq).toBe(500);
    b.port.publish('NewBlock', block(9999));
    await a.port.until(() => a.port.injected.length === 1);
    expect(a.port.injected.map((i) => i.origin.nodeId)).toEqual(['b']);
    const sent = a.bus.stats().core;
    expect(sent).toMatchObject({ offered: 500, sent: 500, busUnavailable: 0, overflow: 0, received: 1 });
    expect(b.bus.stats().core).toMatchObject({ received: 500, missed: 0, stale: 0, invalid: 0 });
    expect([...a.port.problems, ...b.port.problems]).toEqual([]);
  });

  it('keeps the node-reserved lifecycle types local', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix);
    const b = await join('b', prefix);
    a.port.publish('ModuleLoaded', { moduleName: 'x', version: '1' }, 'node');
    a.port.publish('NodeShutdown', { reason: 'bye', timeoutSeconds: 1 }, 'node');
    a.port.publish('NewBlock', block(1));
    await b.port.until(() => b.port.injected.length === 1);
    expect(b.port.injected.map((i) => i.event.type)).toEqual(['NewBlock']);
    expect(a.bus.stats().core.offered).toBe(1);
  });

  it('escapes node ids with dots, wildcards and spaces into subject tokens and back', async () => {
    const prefix = freshPrefix();
    const odd = 'eu.west *> 1/é';
    const a = await join(odd, prefix);
    const b = await join('b', prefix);
    a.port.publish('NewBlock', block(7), 'in.dex*er');
    await b.port.until(() => b.port.injected.length === 1);
    expect(b.port.injected[0]?.origin).toEqual({ nodeId: odd, module: 'in.dex*er', seq: 1 });
    a.port.load('my module');
    await b.port.until(() => b.port.present.has(`${odd}/my module`));
  });
});

describe('durable events', () => {
  it('tells a publish no stream took (costs the sender no attempt) from a timeout', async () => {
    const nc = await connect({ servers: nats.server.url });
    try {
      const js = jetstream(nc);
      const refused = await js.publish(`${freshPrefix()}.no.stream`, 'x', { timeout: 2000 }).then(() => null, (error: unknown) => error);
      expect(streamNotReady(refused)).toBe(true);
      // A responder that never answers: a timeout, which costs an attempt.
      const silent = nc.subscribe(`${freshPrefix()}.silent`);
      const timedOut = await js.publish(silent.getSubject(), 'x', { timeout: 50 }).then(() => null, (error: unknown) => error);
      expect(timedOut).toBeInstanceOf(Error);
      expect(streamNotReady(timedOut)).toBe(false);
      expect(streamNotReady(new Error('no responders'))).toBe(false);
    } finally {
      await nc.close();
    }
  });

  it('batches a burst into few JetStream messages within the window and delivers every event once, in order', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix, { durableTypes: ['NewBlock'], durable: { window: 4, batchMax: 100, ackTimeoutMs: 5000 } });
    const b = await join('b', prefix, { durableTypes: ['NewBlock'] });
    for (let i = 1; i <= 2000; i++) a.port.publish('NewBlock', block(i));
    await a.bus.durableSettled();
    await b.port.until(() => b.port.injected.length === 2000);
    expect(b.port.injected.map((i) => (i.event.payload as { height: number }).height)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    const sent = a.bus.stats().durable;
    expect(sent).toMatchObject({ offered: 2000, sent: 2000, pending: 0, busUnavailable: 0, overflow: 0, unconfirmed: 0 });
    expect(sent.messages).toBeLessThanOrEqual(2000 / 100 + 4);
    expect(b.bus.stats().durable).toMatchObject({ received: 2000, missed: 0 });
  });

  it('mixes durable and core types, each on its own path, each in order', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix, { durableTypes: ['NewTransaction'] });
    const b = await join('b', prefix, { durableTypes: ['NewTransaction'] });
    for (let i = 1; i <= 100; i++) {
      a.port.publish('NewBlock', block(i));
      a.port.publish('NewTransaction', { txHash: block(i).blockHash });
    }
    await b.port.until(() => b.port.injected.length === 200);
    const seqs = (type: string): number[] => b.port.injected.filter((i) => i.event.type === type).map((i) => i.origin.seq);
    expect(seqs('NewBlock')).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 1));
    expect(seqs('NewTransaction')).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + 2));
    await a.bus.durableSettled();
    expect(a.bus.stats()).toMatchObject({ core: { sent: 100 }, durable: { sent: 100 } });
  });

  it('gives a node that comes back what it missed while away, and nothing twice', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix, { durableTypes: ['NewBlock'] });
    const first = await join('b', prefix, { durableTypes: ['NewBlock'] });
    for (let i = 1; i <= 10; i++) a.port.publish('NewBlock', block(i));
    await first.port.until(() => first.port.injected.length === 10);
    await first.bus.close();
    for (let i = 11; i <= 30; i++) a.port.publish('NewBlock', block(i));
    await a.bus.durableSettled();
    const again = await join('b', prefix, { durableTypes: ['NewBlock'] });
    await again.port.until(() => again.port.injected.length >= 20);
    a.port.publish('NewBlock', block(31));
    await again.port.until(() => again.port.injected.some((i) => (i.event.payload as { height: number }).height === 31));
    expect(again.port.injected.map((i) => (i.event.payload as { height: number }).height)).toEqual(Array.from({ length: 21 }, (_, i) => i + 11));
  });
});

describe('membership', () => {
  it('announces every module of every node exactly once, to newcomers too, and retires them when unloaded or their node leaves', async () => {
    const prefix = freshPrefix();
    const a = await join('a', prefix);
    a.port.load('indexer', '1.0.0');
    a.port.load('mempool', '2.0.0');
    const b = await join('b', prefix);
    await b.port.until(() => b.port.present.size === 2);
    b.port.load('audit');
    await a.port.until(() => a.port.present.has('b/audit'));
    const c = await join('c', prefix);
    await c.port.until(() => c.port.present.size === 3);
    expect([...c.port.present].sort()).toEqual([
      ['a/indexer', '1.0.0'],
      ['a/mempool', '2.0.0'],
      ['b/audit', '1.0.0'],
    ]);
    a.port.unload('mempool');
    await c.port.until(() => !c.port.present.has('a/mempool'));
    await b.port.until(() => !b.port.present.has('a/mempool'));
    await a.bus.close();
    await c.port.until(() => c.port.present.size === 1);
    await b.port.until(() => b.port.present.size === 0);
    expect(b.port.membershipLog).toEqual(['+a/indexer@1.0.0', '+a/mempool@2.0.0', '-a/mempool', '-a/indexer']);
    expect([...a.port.problems, ...b.port.problems, ...c.port.problems]).toEqual([]);
  });
});
