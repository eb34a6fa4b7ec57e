/**
 * A replay feed closed while its reader is in the middle of a read that takes more than one chunk
 * of the log (a node with a store, on a gated simulated disk): the reader is closed only when the
 * read ends, so the read finishes and nothing is reported as unreadable.
 */
import { expect, it } from 'vitest';
import { defineModule, type NodeEvent } from '../../src/index.js';
import { memoryLogger } from '../kernel/support.js';
import { createMemoryDisk, diskNode, driveGated } from './support.js';

/** A health report of `bytes` characters: a record of the log longer than one chunk of its reader (256 KiB). */
const report = (bytes: number): NodeEvent => ({ type: 'HealthCheck', payload: { checkType: 'big', nodeHealthy: true, healthReport: 'x'.repeat(bytes) } });

it('a replay feed closed during a read of more than one chunk closes its reader when the read ends: nothing is reported unreadable', async () => {
  const disk = createMemoryDisk({ gated: true });
  const { logger, lines } = memoryLogger('warn');
  const { node, scheduler } = diskNode(disk, { node: { logger } });
  const m = defineModule({ name: 'm', version: '1.0.0', subscribe: ['HealthCheck'], replay: true, mailboxCapacity: 64, handle: () => undefined });
  await driveGated(scheduler, disk, node.load(m));
  await driveGated(scheduler, disk, node.unload('m'));
  node.events.publish(report(300_000));
  await driveGated(scheduler, disk, node.events.flush());
  // Loaded again, behind by that record (reading it takes two reads of the log): the load needs
  // no disk call, so its feed's calls all still wait at the gate.
  let loaded = false;
  void node.load(m).then(() => (loaded = true));
  await scheduler.runAll();
  await new Promise((resolve) => setImmediate(resolve));
  expect(loaded).toBe(true);
  // Its feed opens its reader, then asks for the first chunk: the module goes away meanwhile.
  const opens = disk.counts.open;
  for (let rounds = 0; rounds < 20 && disk.counts.open === opens; rounds++) await disk.release(1);
  const unloaded = node.unload('m');
  await driveGated(scheduler, disk, unloaded);
  await driveGated(scheduler, disk, node.shutdown());
  expect(disk.counts.read).toBeGreaterThanOrEqual(2);
  expect(lines.filter((l) => String(l.msg).startsWith('replay:'))).toEqual([]);
});
