/**
 * What a module's replay feed gives it (a node with a store): the module's own checks apply to
 * replayed events as to live ones (its filter, its current subscriptions), a module keeps one
 * position however its subscriptions change, and a module without `replay` keeps none.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, type HandlerModuleDefinition, type NodeEvent } from '../../src/index.js';
import { block, createMemoryDisk, diskNode, drive, heights, range, settle } from './support.js';

/** A node where module m (with replay) was unloaded and heights 1..`upTo` published since: it has them to catch up on. */
async function behind(upTo: number) {
  const disk = createMemoryDisk();
  const run = diskNode(disk);
  await drive(run.scheduler, run.node.load(heights('m', { replay: true }).module));
  await drive(run.scheduler, run.node.unload('m'));
  for (let h = 1; h <= upTo; h++) run.node.events.publish(block(h));
  await drive(run.scheduler, run.node.events.flush());
  return run;
}

/** Loads module m, with replay, subscribed to NewBlock; `spec` adds or overrides fields. */
function loadM(run: ReturnType<typeof diskNode>, spec: Partial<HandlerModuleDefinition>): Promise<unknown> {
  return drive(run.scheduler, run.node.load(defineModule({ name: 'm', version: '1.0.0', subscribe: ['NewBlock'], replay: true, handle() {}, ...spec })));
}

/** A promise and the function that resolves it. */
function gate(): { held: Promise<void>; open: () => void } {
  let open!: () => void;
  const held = new Promise<void>((resolve) => (open = resolve));
  return { held, open };
}

describe('the replay feed', () => {
  it('applies the module\'s filter to replayed events, counting the declined ones filtered', async () => {
    const run = await behind(6);
    const { node, scheduler } = run;
    const seen: number[] = [];
    await loadM(run, {
      mailboxCapacity: 2,
      filter: (event: NodeEvent) => event.type === 'NewBlock' && event.payload.height % 2 === 0,
      handle: (event) => void (event.type === 'NewBlock' && seen.push(event.payload.height)),
    });
    await settle(scheduler);
    expect(seen).toEqual([2, 4, 6]);
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ successful: 3, handled: 3, filtered: 3 });
    await drive(scheduler, node.shutdown());
  });

  it('passes over replayed events of a type the module no longer takes', async () => {
    const run = await behind(6);
    const { node, scheduler } = run;
    const seen: string[] = [];
    const { held, open } = gate();
    await loadM(run, {
      mailboxCapacity: 1,
      async handle(event: NodeEvent, ctx) {
        if (event.type !== 'NewBlock') return;
        seen.push(`b${event.payload.height}`);
        if (event.payload.height === 1) {
          ctx.unsubscribe(['NewBlock']);
          await held;
        }
      },
    });
    await settle(scheduler);
    open();
    await settle(scheduler);
    // b1 in hand when it left NewBlock; b2 was already in its mailbox; the rest is passed over.
    expect(seen).toEqual(['b1', 'b2']);
    await drive(scheduler, node.shutdown());
  });

  it('keeps one position when the module subscribes to more at run time: nothing is given twice', async () => {
    const run = diskNode(createMemoryDisk());
    const { node, scheduler } = run;
    const seen: number[] = [];
    const { held, open } = gate();
    await loadM(run, {
      async handle(event: NodeEvent, ctx) {
        if (event.type !== 'NewBlock') return;
        if (event.payload.height === 1) {
          await held;
          ctx.subscribe(['NewTransaction']);
        }
        seen.push(event.payload.height);
      },
    });
    for (let h = 1; h <= 4; h++) node.events.publish(block(h));
    await settle(scheduler);
    open();
    await settle(scheduler);
    node.events.publish(block(5));
    await settle(scheduler);
    expect(seen).toEqual(range(1, 5));
    await drive(scheduler, node.shutdown());
  });

  it('keeps no position for a module without replay: what it lost in a crash is not given again', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    let crashed = false;
    const m = heights('m', {
      handle: (event) => {
        if (!crashed && event.type === 'NewBlock' && event.payload.height === 1) {
          crashed = true;
          throw new Error('crash on 1, with 2 and 3 queued');
        }
      },
    });
    await drive(scheduler, node.load(m.module));
    for (let h = 1; h <= 3; h++) node.events.publish(block(h));
    await settle(scheduler);
    node.events.publish(block(4));
    await settle(scheduler);
    expect(m.seen).toEqual([4]);
    expect(await drive(scheduler, node.events.getDeliveryStats('m'))).toMatchObject({ handlerFailed: 1, lostOnCrash: 2, handled: 1 });
    await drive(scheduler, node.shutdown());
  });
});
