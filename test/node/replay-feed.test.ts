/**
 * How a module with replay is fed from the event log: back to live delivery once caught up,
 * records today's catalogue refuses and a log that cannot be read counted as a gap, a reader that
 * cannot be closed logged; on a simulated disk and clock.
 */
import { describe, expect, it } from 'vitest';
import {
  createNode,
  createSimulatedScheduler,
  defineCatalogue,
  defineModule,
  nodePayloadChecks,
  nonNegativeInteger,
  object,
  string,
  type Check,
  type EventOf,
  type NodeEventMap,
} from '../../src/index.js';
import type { MemoryDisk } from '../../src/store/memory-disk.js';
import { memoryLogger } from '../kernel/support.js';
import { DIR, block, createMemoryDisk, diskNode, drive, heights, range, settle } from './support.js';

/** A node on `disk` where heights 1..`upTo` were published and made durable; shut down. */
async function published(disk: MemoryDisk, upTo: number): Promise<void> {
  const { node, scheduler } = diskNode(disk);
  await drive(scheduler, node.start());
  for (let h = 1; h <= upTo; h++) node.events.publish(block(h));
  await drive(scheduler, node.events.flush());
  await drive(scheduler, node.shutdown());
}

describe('the replay feed of a module', () => {
  it('hands the module back to live delivery once its replay is given: new events go straight to its mailbox', async () => {
    const disk = createMemoryDisk();
    await published(disk, 150);
    const { node, scheduler } = diskNode(disk);
    const m = heights('m', { replay: { fromSeq: 1 }, mailboxCapacity: 4 });
    await drive(scheduler, node.load(m.module));
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 150));
    // Not left to the log (which would give it only once written): enqueued at once, handled
    // without the clock moving.
    expect(node.events.publish(block(151)).enqueued).toBe(1);
    await scheduler.runUntilIdle();
    expect(m.seen.at(-1)).toBe(151);
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ successful: 151, handled: 151, replayGap: 0, channelFull: 0 });
    await drive(scheduler, node.shutdown());
  });

  it('counts records that today’s catalogue refuses as a gap, and gives the others', async () => {
    type Loose = NodeEventMap & { Reading: { readonly sensor: string; readonly value: unknown } };
    type Strict = NodeEventMap & { Reading: { readonly sensor: string; readonly value: number } };
    const anything: Check<unknown> = (value) => value;
    const loose = defineCatalogue<Loose>({ ...nodePayloadChecks, Reading: object({ sensor: string, value: anything }) });
    const strict = defineCatalogue<Strict>({ ...nodePayloadChecks, Reading: object({ sensor: string, value: nonNegativeInteger }) });
    const reading = (value: unknown): EventOf<Loose> => ({ type: 'Reading', payload: { sensor: 's', value } });
    const disk = createMemoryDisk();

    const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false });
    const before = createNode<Loose>({ scheduler, catalogue: loose, store: { dir: DIR, fs: disk.mount() } });
    await drive(scheduler, before.start());
    for (const value of [1, 'two', 3, { four: 4 }, 5]) before.events.publish(reading(value));
    await drive(scheduler, before.events.flush());
    await drive(scheduler, before.shutdown());

    const later = createSimulatedScheduler({ seed: 2, autoRun: false });
    const node = createNode<Strict>({ scheduler: later, catalogue: strict, store: { dir: DIR, fs: disk.mount() } });
    const seen: unknown[] = [];
    const m = defineModule<Strict>({
      name: 'm',
      version: '1.0.0',
      subscribe: ['Reading'],
      replay: { fromSeq: 1 },
      handle(event) {
        if (event.type === 'Reading') seen.push(event.payload.value);
      },
    });
    await drive(later, node.load(m));
    await settle(later);
    expect(seen).toEqual([1, 3, 5]);
    expect(await drive(later, node.events.getDeliveryStats('m'))).toMatchObject({ handled: 3, replayGap: 2 });
    await drive(later, node.shutdown());
  });

  it('counts the rest of a replay as a gap when the log cannot be read, logs it, and goes on live', async () => {
    const gaps: number[] = [];
    for (const fromSeq of [1, 5]) {
      const disk = createMemoryDisk();
      await published(disk, 20);
      const { logger, lines } = memoryLogger('info');
      const { node, scheduler } = diskNode(disk, { node: { logger } });
      await drive(scheduler, node.start()); // the log is open: only the replay reads now
      disk.injectFault({ op: 'read', code: 'EIO', times: Number.POSITIVE_INFINITY });
      const m = heights('m', { replay: { fromSeq } });
      await drive(scheduler, node.load(m.module));
      await settle(scheduler);
      disk.clearFaults();
      const logged = lines.filter((line) => line.msg === 'replay: the event log could not be read; the rest of this replay is counted as a gap');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 50, module: 'm', err: { code: 'EIO' } });
      const stats = await drive(scheduler, node.events.getDeliveryStats('m'));
      expect(m.seen).toEqual([]);
      expect(node.events.publish(block(21)).enqueued).toBe(1);
      await scheduler.runUntilIdle();
      expect(m.seen).toEqual([21]);
      // Every seq from fromSeq up to where the replay was to end is owed and none was read:
      // heights 1..20 (seqs 2..21) at least, at most every seq before the live one.
      const gap = stats?.replayGap ?? 0;
      expect(gap).toBeGreaterThanOrEqual(21 - fromSeq);
      expect(gap).toBeLessThan(m.seqs[0] as number);
      gaps.push(gap);
      await drive(scheduler, node.shutdown());
    }
    // The same run but for where the replay starts: the gaps differ by as much.
    expect(gaps[0]! - gaps[1]!).toBe(4);
  });

  it('logs a log reader that cannot be closed, and goes on', async () => {
    const disk = createMemoryDisk();
    await published(disk, 5);
    const { logger, lines } = memoryLogger('info');
    const { node, scheduler } = diskNode(disk, { node: { logger } });
    await drive(scheduler, node.start());
    disk.injectFault({ op: 'close', code: 'EIO' });
    const m = heights('m', { replay: { fromSeq: 1 } });
    await drive(scheduler, node.load(m.module));
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 5));
    const logged = lines.filter((line) => line.msg === 'replay: closing a log reader failed');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, module: 'store', err: { code: 'EIO' } });
    await drive(scheduler, node.shutdown());
  });

  it('closes its log reader when the module goes away in the middle of its replay', async () => {
    const disk = createMemoryDisk();
    await published(disk, 300);
    const { node, scheduler } = diskNode(disk, { node: { shutdownTimeoutMs: 100 } });
    await drive(scheduler, node.start());
    const openFiles = () => disk.counts.open - disk.counts.close;
    const before = openFiles();
    const m = heights('m', {
      replay: { fromSeq: 1 },
      mailboxCapacity: 4,
      handle: (event) => (event.type === 'NewBlock' && event.payload.height === 10 ? new Promise<void>(() => undefined) : undefined),
    });
    await drive(scheduler, node.load(m.module));
    await settle(scheduler);
    expect(m.seen).toEqual(range(1, 9)); // stuck on 10, its feed holding what it read ahead
    expect(openFiles()).toBeGreaterThan(before);
    await drive(scheduler, node.unload('m'));
    await settle(scheduler);
    expect(openFiles()).toBe(before);
    await drive(scheduler, node.shutdown());
  });
});
