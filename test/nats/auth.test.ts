/**
 * A server with authentication on: nodes with the credentials join and exchange events and
 * membership; a node without them is refused at join, loudly. Both with the bus layer on a test
 * port and with real nodes (createNode + connectBus) in processes of their own.
 */
import { afterAll, expect, it } from 'vitest';
import type { Bus } from '../../src/nats/bus.js';
import { Cluster } from './cluster/cluster.js';
import { block, fakeNode, useNatsServer } from './support.js';

const nats = useNatsServer({ auth: { user: 'modactor', pass: 's3cret' } });
const nodes: Bus[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((bus) => bus.close()));
});

it('joins nodes that bring the credentials, and refuses one that does not', async () => {
  const credentials = { user: 'modactor', pass: 's3cret' };
  const a = await fakeNode('a', nats.server.url, { prefix: 'auth', durableTypes: ['NewTransaction'], ...credentials });
  nodes.push(a.bus);
  const b = await fakeNode('b', nats.server.url, { prefix: 'auth', durableTypes: ['NewTransaction'], ...credentials });
  nodes.push(b.bus);
  a.port.load('amod');
  a.port.publish('NewBlock', block(1));
  a.port.publish('NewTransaction', { txHash: block(2).blockHash });
  await b.port.until(() => b.port.injected.length === 2 && b.port.present.has('a/amod'));

  await expect(fakeNode('intruder', nats.server.url, { prefix: 'auth' })).rejects.toThrow(/Authorization/i);
  await expect(fakeNode('intruder', nats.server.url, { prefix: 'auth', user: 'modactor', pass: 'wrong' })).rejects.toThrow(/Authorization/i);
});

it('joins real nodes in processes of their own through connectBus with the credentials, and a node without them never joins', async () => {
  const cluster = new Cluster({ url: nats.server.url, prefix: 'auth-nodes', user: 'modactor', pass: 's3cret' });
  try {
    const [a, b] = await Promise.all([cluster.start('a'), cluster.start('b')]);
    await a.load({ name: 'amod' });
    await cluster.until(() => b.registry.includes('a/amod'));
    await a.publish({ core: 5, durable: 5 });
    await cluster.settled();
    expect(b.probe('sink')?.lastHeight).toMatchObject({ 'a/node core': 6, 'a/node durable': 6 }); // the 5, then settled()'s marker
    expect(cluster.violations).toEqual([]);

    await expect(cluster.start('intruder', { user: 'modactor', pass: 'wrong' })).rejects.toThrow(/exited before it joined the bus \(code 2\): .*Authorization Violation/);
    await expect(new Cluster({ url: nats.server.url, prefix: 'auth-nodes' }).start('anonymous')).rejects.toThrow(/exited before it joined the bus \(code 2\): .*Authorization Violation/);
  } finally {
    await cluster.dispose();
  }
}, 60_000);
