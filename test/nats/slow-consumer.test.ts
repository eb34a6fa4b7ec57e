/**
 * A server-side slow-consumer disconnect: a node whose event loop stalls while another floods the
 * bus is cut off by the server (small `max_pending`, short `write_deadline`). The node notices the
 * disconnection, reconnects, goes on receiving, and counts every event it lost as missed.
 */
import { afterAll, expect, it } from 'vitest';
import type { BusStats } from '../../src/nats/bus-stats.js';
import { fakeNode, nextConnection, spawnBusNode, useNatsServer, type ChildNode } from './support.js';

const nats = useNatsServer({ config: 'max_payload: 65536\nmax_pending: 262144\nwrite_deadline: "200ms"\n' });
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** Blocks this thread's event loop for `ms` (the stalled consumer). */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

it('detects the disconnection, recovers, and counts what the server threw away', async () => {
  const receiver = await fakeNode('receiver', nats.server.url, { prefix: 'slow' });
  cleanup.push(() => receiver.bus.close());
  receiver.port.record = false;
  const flooder: ChildNode = await spawnBusNode(['--url', nats.server.url, '--node', 'flooder', '--prefix', 'slow']);
  cleanup.push(() => flooder.kill());

  const down = nextConnection(receiver.bus, 'down');
  flooder.send('flood');
  await receiver.port.until(() => receiver.port.count > 0);
  stall(2000); // the flood goes on meanwhile: the server cuts this slow consumer off
  flooder.send('stop');
  await down;
  await nextConnection(receiver.bus, 'up');
  // A quiet bus now: one last event reveals every gap before it.
  const stats = flooder.line('stats ');
  flooder.send('final');
  const sent = (JSON.parse((await stats).slice('stats '.length)) as BusStats).core;
  await receiver.port.until(() => (receiver.port.last?.event.payload as { height?: number } | undefined)?.height === 0);

  expect(nats.server.log()).toMatch(/Slow Consumer Detected/);
  const got = receiver.bus.stats();
  expect(got.connection.disconnects).toBeGreaterThanOrEqual(1);
  expect(got.connection.reconnects).toBe(got.connection.disconnects);
  expect(got.core.missed).toBeGreaterThan(0);
  expect(got.core.received + got.core.missed).toBe(sent.sent);
  expect(got.core.stale).toBe(0);
  expect(receiver.port.problems).toEqual([]);
});
