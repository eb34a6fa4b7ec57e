/**
 * Another node is a trust boundary: whatever arrives on the bus's subjects, the bus counts what it
 * refuses, never throws, and keeps delivering what is valid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ModactorError } from '../../src/index.js';
import type { Bus } from '../../src/nats/bus.js';
import { doublingLog } from '../../src/nats/port.js';
import { busSubjects } from '../../src/nats/subject.js';
import { MAX_MESSAGE_DEPTH } from '../../src/nats/wire.js';
import { block, fakeNode, type FakePort, useNatsServer } from './support.js';

const nats = useNatsServer();
const subjects = busSubjects('edge');
let raw: NatsConnection;
let node: { port: FakePort; bus: Bus };

beforeAll(async () => {
  node = await fakeNode('receiver', nats.server.url, { prefix: 'edge', durableTypes: ['NewTransaction'], maxMessageBytes: 4096 });
  raw = await connect({ servers: nats.server.url });
});

afterAll(async () => {
  await node.bus.close();
  await raw.close();
});

const envelope = (n: number, events: unknown[]): string => JSON.stringify({ e: 'epoch-1', n, events });
const item = (type: string, payload: unknown, s = 1): unknown => ({ m: 'mod', s, type, payload });

/** Publishes a valid marker event and waits for it: everything published before has been handled. */
async function settle(n: number): Promise<void> {
  raw.publish(subjects.event('raw', 'NewBlock'), envelope(n, [item('NewBlock', block(n))]));
  await node.port.until(() => node.port.injected.some((i) => (i.event.payload as { height?: number }).height === n));
}

describe('logging refusals', () => {
  it('logs the 1st, 2nd, 4th, 8th ... occurrence, never one line per message', () => {
    const gate = doublingLog();
    const logged = Array.from({ length: 20 }, (_, i) => i + 1).filter(() => gate());
    expect(logged).toEqual([1, 2, 4, 8, 16]);
  });
});

describe('what arrives from the bus', () => {
  it('refuses oversize, too deep, non-JSON and malformed messages, counts them, and keeps delivering', async () => {
    await settle(1);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_MESSAGE_DEPTH + 5; i++) deep = [deep];
    const garbage = [
      'not json at all',
      `{"e":"x","n":2,"events":[${'{'.repeat(10)}`, // unbalanced, shallow: JSON.parse refuses it
      'x'.repeat(5000), // over maxMessageBytes
      envelope(2, [item('NewBlock', deep)]),
      JSON.stringify({ e: 'epoch-1', n: 2 }), // no events
      JSON.stringify({ e: 'epoch-1', n: 0, events: [item('NewBlock', block(2))] }), // numbers start at 1
      JSON.stringify({ e: 'epoch-1', n: 2, events: [item('NewBlock', block(2))], extra: true }),
      '{"e":"epoch-1","n":2,"events":[{"m":"mod","s":1,"type":"NewBlock","payload":{},"__proto__":{}}]}',
      JSON.stringify({ e: 'epoch-1', n: 2, events: [{ m: '', s: 1, type: 'NewBlock', payload: block(2) }] }), // empty module
      JSON.stringify({ e: 'epoch-1', n: 2, events: [{ m: 'mod', s: -1, type: 'NewBlock', payload: block(2) }] }), // bad seq
      JSON.stringify([1, 2, 3]),
      'null',
    ];
    for (const body of garbage) raw.publish(subjects.event('raw', 'NewBlock'), body);
    // An event whose type differs from its subject's, and subjects this bus never produces.
    raw.publish(subjects.event('raw', 'NewTransaction'), envelope(2, [item('NewBlock', block(2))]));
    raw.publish('edge.ev.raw.=41', envelope(2, [item('A', block(2))]));
    raw.publish('edge.ev.raw.NewBlock.extra', envelope(2, [item('NewBlock', block(2))]));
    await settle(3);
    expect(node.bus.stats().garbage).toBe(garbage.length + 3);
    expect(node.port.problems).toEqual([]);
  });

  it('counts events the catalogue refuses and node-reserved types as invalid, and delivers the valid ones of the same message', async () => {
    const before = node.bus.stats().core;
    await jetstream(raw).publish(
      subjects.durableBatch('raw'),
      envelope(1, [
        item('NewTransaction', { txHash: 'ab'.repeat(32) }, 1),
        item('NewTransaction', { txHash: 'not a hash' }, 2),
        item('NoSuchType', {}, 3),
        item('ModuleLoaded', { moduleName: 'spoof', version: '1' }, 4),
        item('NewTransaction', { txHash: 'cd'.repeat(32) }, 5),
      ]),
    );
    await node.port.until(() => node.port.from('raw').filter((i) => i.event.type === 'NewTransaction').length === 2);
    expect(node.bus.stats().durable).toMatchObject({ received: 2, invalid: 3, missed: 0 });
    expect(node.bus.stats().core.invalid).toBe(before.invalid);
    expect(node.port.from('raw').filter((i) => i.event.type === 'NewTransaction').map((i) => i.origin.seq)).toEqual([1, 5]);
  });

  it('delivers the durable messages of an origin in number order when the stream holds them out of order, and counts a gap that never fills', async () => {
    // After a server restart the stream can hold an origin's message N+1 before N (N+1 left the
    // client's reconnect buffer before N was sent again): N+1 is held back until N arrives.
    const js = jetstream(raw);
    const heights = (): number[] => node.port.from('late').map((i) => (i.event.payload as { height: number }).height);
    const publish = (n: number): Promise<unknown> => js.publish(subjects.durableBatch('late'), JSON.stringify({ e: 'epoch-L', n, events: [item('NewBlock', block(100 + n), n)] }));
    const before = node.bus.stats().durable;
    await publish(1);
    await node.port.until(() => heights().length === 1);
    await publish(3);
    await publish(2);
    await node.port.until(() => heights().length === 3);
    expect(heights()).toEqual([101, 102, 103]);
    // 4 never comes: 5 waits its while, then goes on, the gap counted missed.
    await publish(5);
    await node.port.until(() => heights().length === 4);
    expect(heights()).toEqual([101, 102, 103, 105]);
    const after = node.bus.stats().durable;
    expect({ missed: after.missed - before.missed, stale: after.stale - before.stale }).toEqual({ missed: 1, stale: 0 });
  });

  it('counts events the node refuses, or throws on, and goes on', async () => {
    node.port.refuse = (event) => {
      const height = (event.payload as { height?: number }).height;
      if (height === 12) throw new Error('a node that breaks its promise not to throw');
      return height === 11 ? new ModactorError('node-shutting-down', 'The node is shutting-down: publishes from outside its modules are refused') : null;
    };
    const before = node.bus.stats().core;
    for (const n of [10, 11, 12]) raw.publish(subjects.event('raw', 'NewBlock'), envelope(n, [item('NewBlock', block(n))]));
    await settle(13);
    node.port.refuse = null;
    const after = node.bus.stats().core;
    expect({ refused: after.refused - before.refused, received: after.received - before.received }).toEqual({ refused: 2, received: 2 });
  });

  it('refuses malformed heartbeats and membership entries, and still announces a valid node', async () => {
    const before = node.bus.stats().membership.garbage;
    raw.publish(subjects.heartbeat('ghost'), 'nope');
    raw.publish(subjects.heartbeat('ghost'), JSON.stringify({ e: 'x', extra: 1 }));
    const kv = await new Kvm(raw).open(subjects.bucket);
    await kv.put('ghost.mod', 'not json');
    await kv.put('ghost.=zz', JSON.stringify({ version: '1', epoch: 'x' }));
    // A valid node after the garbage: the watch and the heartbeats are each in order, so once it
    // is announced, everything before it was handled.
    await kv.put(subjects.membershipKey('ghost2', 'mod'), JSON.stringify({ version: '1.0.0', epoch: 'g2' }));
    raw.publish(subjects.heartbeat('ghost2'), JSON.stringify({ e: 'g2' }));
    await node.port.until(() => node.port.present.has('ghost2/mod'));
    expect([...node.port.present.keys()]).toEqual(['ghost2/mod']);
    expect(node.bus.stats().membership.garbage - before).toBe(4);
  });
});
