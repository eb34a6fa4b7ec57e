/**
 * A module's replay position when critical events reach it before its replay gave it anything
 * (src/node/replay-position.ts): the replayed events are older than the critical ones, so the
 * position keeps them in seq order behind the critical events already enqueued, and what it saves
 * stays below the oldest event not yet handled. Each case is checked by what the module is given
 * after a crash; on a simulated disk and clock.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type ModactorNode, type NodeEvent } from '../../src/index.js';
import { gate } from '../kernel/support.js';
import { block, createMemoryDisk, diskNode, drive, settle } from './support.js';

/**
 * A module with replay from seq 1 that records blocks as `b<height>` and critical maintenance
 * events as `maintenance`; `hold` says which events it keeps in hand (until `held` opens).
 */
function recorder(hold: (event: NodeEvent) => boolean, held: Promise<void>) {
  const seen: string[] = [];
  const record = (event: NodeEvent): void => void seen.push(event.type === 'NewBlock' ? `b${event.payload.height}` : 'maintenance');
  const module = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: ['NewBlock', 'DataMaintenance'],
    replay: { fromSeq: 1 },
    handle(event: NodeEvent) {
      if (hold(event)) return held.then(() => record(event));
      record(event);
      return undefined;
    },
  });
  return { module, seen };
}

/**
 * Publishes `count` critical maintenance events in the event manager's turn that subscribes m,
 * right after its replay was set up and before the replay read anything.
 */
function publishCriticalOnSubscription(node: ModactorNode, count: number): () => boolean {
  let published = false;
  const stop = node.system.inspect((event) => {
    if (published || event.type !== 'handled' || event.actor !== '/events') return;
    const message = event.message as { readonly kind?: string; readonly incarnation?: { readonly name: string } };
    if (message.kind !== 'subscribe' || message.incarnation?.name !== 'm') return;
    published = true;
    stop();
    for (let i = 0; i < count; i++) node.publisher.dataMaintenance('flush', 'high', 'manual');
  });
  return () => published;
}

/** A node on `disk` whose log holds blocks 1 to 3, durable. */
async function logWithThreeBlocks(disk: ReturnType<typeof createMemoryDisk>): Promise<void> {
  const { node, scheduler } = diskNode(disk);
  await drive(scheduler, node.start());
  for (let h = 1; h <= 3; h++) node.events.publish(block(h));
  await drive(scheduler, node.events.flush());
  await drive(scheduler, node.shutdown());
}

/** What m is given when it is loaded again after the crash, on a new node on `disk`. */
async function givenAfterCrash(disk: ReturnType<typeof createMemoryDisk>): Promise<string[]> {
  const { node, scheduler } = diskNode(disk);
  const again = recorder(() => false, Promise.resolve());
  await drive(scheduler, node.load(again.module));
  await settle(scheduler);
  await drive(scheduler, node.shutdown());
  return again.seen;
}

describe('the replay position of a module given critical events before its replay', () => {
  it('stays below the replayed blocks queued behind a critical event in its hands: after a crash, all of them and the critical event come again', async () => {
    const disk = createMemoryDisk();
    await logWithThreeBlocks(disk);
    const { node, scheduler } = diskNode(disk);
    const held = gate();
    const m = recorder((event) => event.type === 'DataMaintenance', held.promise);
    const published = publishCriticalOnSubscription(node, 1);
    await drive(scheduler, node.load(m.module));
    await settle(scheduler);
    expect(published()).toBe(true);
    // The critical event is in its hands; the three replayed blocks wait in its mailbox.
    expect(m.seen).toEqual([]);
    expect((await drive(scheduler, node.events.getDeliveryStats('m')))?.successful).toBe(4);
    await drive(scheduler, node.events.flush());
    disk.crash();

    expect(await givenAfterCrash(disk)).toEqual(['b1', 'b2', 'b3', 'maintenance']);
  });

  it('stays below a replayed block in its hands after it handled critical events that came first: after a crash, the blocks come again, the critical events do not', async () => {
    const disk = createMemoryDisk();
    await logWithThreeBlocks(disk);
    const { node, scheduler } = diskNode(disk);
    const held = gate();
    const m = recorder((event) => event.type === 'NewBlock' && event.payload.height === 1, held.promise);
    const published = publishCriticalOnSubscription(node, 2);
    await drive(scheduler, node.load(m.module));
    await settle(scheduler);
    expect(published()).toBe(true);
    // Both critical events handled, before the replay gave anything; b1 in its hands.
    expect(m.seen).toEqual(['maintenance', 'maintenance']);
    await drive(scheduler, node.events.flush());
    disk.crash();

    expect(await givenAfterCrash(disk)).toEqual(['b1', 'b2', 'b3']);
  });
});
