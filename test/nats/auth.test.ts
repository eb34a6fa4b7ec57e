/**
 * A server with authentication on: nodes with the credentials join and exchange events and
 * membership; a node without them is refused at join, loudly.
 */
import { afterAll, expect, it } from 'vitest';
import type { Bus } from '../../src/nats/bus.js';
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
