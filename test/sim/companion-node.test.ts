import { describe, expect, it } from 'vitest';
import { defineModule, type ModactorNode, type SimulatedScheduler } from '../../src/index.js';
import { parseScenario, simulateWithTrace } from '../../src/sim.js';
import { drained } from '../../src/sim/companion-node.js';
import { gate, simNode } from '../scenarios/helpers.js';

describe('the companion node of process modules', () => {
  it('lets a backlogged process module take everything forwarded to it before it is shut down', async () => {
    // A flood just before the shutdown: the echo module's mailbox (200) is full, its child acknowledges
    // one event at a time, so the simulated node is done long before the companion's module is.
    const { report, trace } = await simulateWithTrace(
      parseScenario({
        name: 'backlog',
        seed: 5,
        duration: 2000,
        modules: [{ actor: 'process-modules#echoModule', name: 'echo', options: { mailboxCapacity: 200, credits: 1 } }],
        faults: [{ kind: 'flood', traffic: 'blocks', at: 1900, count: 300 }],
      }),
    );
    const echo = report.modules.find((m) => m.name === 'echo');
    expect(echo?.dropped).toBeGreaterThan(0);
    // Everything that got into its mailbox was handled: nothing was still queued, or in the child's
    // hands, when the companion shut down (that would be counted lost).
    expect(echo).toMatchObject({ lost: 0, failed: 0, end: 'stopped at shutdown' });
    expect(echo?.handled).toBe(echo?.delivered);
    expect(echo?.delivered).toBeGreaterThan(1);
    const final = trace.checkpoints.find((c) => c.label === 'after-modules-stopped');
    expect(final?.stats.echo?.handled).toBe(echo?.handled);
    expect(report.invariants.find((i) => i.id === 'accounting')?.status).toBe('pass');
  });
});

describe('drained', () => {
  const hash = 'ab'.repeat(32);

  /** A node with module `m` (mailbox 2) whose handler waits for the test, holding event 1. */
  async function heldModule(onRelease: (height: number) => void): Promise<{ node: ModactorNode; scheduler: SimulatedScheduler; release: () => void }> {
    const { node, scheduler } = simNode(3);
    const hold = gate();
    await node.load(
      defineModule({
        name: 'm',
        version: '1.0.0',
        subscribe: ['NewBlock'],
        mailboxCapacity: 2,
        async handle(event) {
          await hold.promise;
          if (event.type === 'NewBlock') onRelease(event.payload.height);
        },
      }),
    );
    node.publisher.newBlock(hash, 1);
    await scheduler.runUntilIdle();
    for (let height = 2; height <= 4; height++) node.publisher.newBlock(hash, height); // 2 and 3 queued: full; 4 dropped
    return { node, scheduler, release: hold.open };
  }

  it('waits behind a full mailbox until the module has handled everything enqueued for it', async () => {
    const handled: number[] = [];
    const { node, scheduler, release } = await heldModule((height) => handled.push(height));
    let seen: number[] | null = null;
    const done = drained(node, 'm', 60_000).then(() => {
      seen = [...handled];
    });
    await scheduler.runUntilIdle();
    expect(seen).toBeNull();
    release();
    await done;
    expect(seen).toEqual([1, 2, 3]);
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 3, handled: 3, channelFull: 1 });
  });

  it('resolves when the module dies with events still queued: they are never handled, so not waited for', async () => {
    const { node, scheduler, release } = await heldModule(() => {
      throw new Error('crash on release');
    });
    let resolved = false;
    const done = drained(node, 'm', 60_000).then(() => {
      resolved = true;
    });
    await scheduler.runUntilIdle();
    expect(resolved).toBe(false);
    release();
    await done;
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 3, handled: 0, handlerFailed: 1 });
  });
});
