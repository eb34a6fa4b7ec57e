import { describe, expect, it } from 'vitest';
import { EventType, defineModule, isModactorError } from '../../src/index.js';
import { drive, gate, hash, recorder, simNode } from './helpers.js';

describe('guide scenario 1: module startup', () => {
  it('subscribes, replays every other loaded module once, then announces the newcomer to all, itself included', async () => {
    const { node, scheduler } = simNode(1);
    const a = recorder('a', [EventType.ModuleLoaded]);
    const b = recorder('b', [EventType.ModuleLoaded]);
    await node.load(a.module);
    expect(a.seen).toEqual(['ModuleLoaded(a)']);
    await node.load(b.module);
    await scheduler.runUntilIdle();
    expect(b.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(b)']);
    expect(a.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(b)']);
    expect(await node.events.getLoadedModules()).toEqual(['a', 'b']);
    await node.shutdown();
  });

  it('walks the lifecycle loading -> subscribing -> running, with ModuleLoaded before ModuleStarted', async () => {
    const { node, scheduler } = simNode(2);
    const watcher = recorder('watcher', [EventType.ModuleStateChanged, EventType.ModuleLoaded, EventType.ModuleStarted]);
    await node.load(watcher.module);
    await scheduler.runUntilIdle();
    watcher.seen.length = 0;
    await node.load(defineModule({ name: 'quiet', version: '2.0.0', subscribe: [], handle() {} }));
    await scheduler.runUntilIdle();
    expect(watcher.seen).toEqual([
      'ModuleStateChanged(quiet: loading->subscribing)',
      'ModuleLoaded(quiet)',
      'ModuleStateChanged(quiet: subscribing->running)',
      'ModuleStarted(quiet)',
    ]);
    await node.shutdown();
  });
});

describe('guide scenario 2: hotloaded module', () => {
  it('gives a module loaded into a running node every loaded module, and announces it to them', async () => {
    const { node, scheduler } = simNode(3);
    const a = recorder('a', [EventType.ModuleLoaded, EventType.NewBlock]);
    await node.load(a.module);
    node.publisher.newBlock(hash(1), 1);
    const b = recorder('b', [EventType.ModuleLoaded, EventType.NewBlock]);
    await node.load(b.module);
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runUntilIdle();
    expect(b.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(b)', 'NewBlock(2)']);
    expect(a.seen).toEqual(['ModuleLoaded(a)', 'NewBlock(1)', 'ModuleLoaded(b)', 'NewBlock(2)']);
    await node.shutdown();
  });

  it('announces a module that subscribes to nothing to every ModuleLoaded subscriber', async () => {
    const { node, scheduler } = simNode(4);
    const a = recorder('a', [EventType.ModuleLoaded]);
    await node.load(a.module);
    await node.load(defineModule({ name: 'silent', version: '1.0.0', subscribe: [], handle() {} }));
    await node.load(defineModule({ name: 'blocks-only', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} }));
    await scheduler.runUntilIdle();
    expect(a.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(silent)', 'ModuleLoaded(blocks-only)']);
    const late = recorder('late', [EventType.ModuleLoaded]);
    await node.load(late.module);
    await scheduler.runUntilIdle();
    expect(late.seen).toEqual(['ModuleLoaded(a)', 'ModuleLoaded(silent)', 'ModuleLoaded(blocks-only)', 'ModuleLoaded(late)']);
    await node.shutdown();
  });
});

describe('guide scenario 3: slow module', () => {
  it('drops the events past a full mailbox, counts exactly 49 channelFull of 150, and keeps the module subscribed', async () => {
    const { node, scheduler } = simNode(5);
    const stuck = gate();
    const slow = recorder('slow', [EventType.NewBlock], { handle: () => stuck.promise });
    await node.load(slow.module);
    const first = node.publisher.newBlock(hash(0), 0);
    await scheduler.runUntilIdle(); // the slow module takes event 0 and hangs on it
    const receipts = [first];
    for (let height = 1; height < 150; height++) receipts.push(node.publisher.newBlock(hash(height), height));
    expect(receipts.filter((r) => r.enqueued === 1)).toHaveLength(101);
    expect(receipts.filter((r) => r.dropped === 1)).toHaveLength(49);
    const stats = await node.events.getDeliveryStats('slow');
    expect(stats).toMatchObject({ successful: 101, channelFull: 49, failed: 0, handled: 0 });
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['slow']);
    stuck.open();
    await scheduler.runUntilIdle();
    expect(slow.seen).toHaveLength(101);
    expect(slow.seen.slice(0, 3)).toEqual(['NewBlock(0)', 'NewBlock(1)', 'NewBlock(2)']);
    expect(await node.events.getDeliveryStats('slow')).toMatchObject({ successful: 101, handled: 101, channelFull: 49 });
    await node.shutdown();
  });
});

describe('guide scenario 4: dead module', () => {
  it('counts a delivery to a dead module as failed and removes it from every subscription', async () => {
    const { node, scheduler } = simNode(6, { autoRun: false });
    const loading = node.load(
      defineModule({
        name: 'fragile',
        version: '1.0.0',
        subscribe: [EventType.NewBlock, EventType.NewTransaction],
        restart: { type: 'temporary' },
        handle(event) {
          if (event.type === 'NewTransaction') throw new Error('cannot parse transaction');
        },
      }),
    );
    await drive(scheduler, loading);
    const instance = node.system.lookup('/modules/fragile');
    expect(instance?.isAlive).toBe(true);
    node.publisher.newTransaction(hash(9));
    for (let i = 0; instance?.isAlive === true; i++) {
      await scheduler.runUntilIdle({ maxTurns: 1 });
      if (i > 1000) throw new Error('still alive');
    }
    const receipt = node.publisher.newBlock(hash(1), 1);
    expect(receipt).toMatchObject({ enqueued: 0, failed: 1 });
    const subscribers = node.events.getSubscribers(EventType.NewBlock);
    const stats = node.events.getDeliveryStats('fragile');
    await scheduler.runUntilIdle();
    expect(await subscribers).toEqual([]);
    expect(await stats).toMatchObject({ failed: 1, handlerFailed: 1 });
    expect(await drive(scheduler, node.events.getSubscribers(EventType.NewTransaction))).toEqual([]);
    await drive(scheduler, node.shutdown());
  });
});

describe('guide scenario 5: governance event flow', () => {
  it('delivers a proposal to the governance module, which publishes its follow-up through the same channels', async () => {
    const { node, scheduler } = simNode(7);
    const governance = recorder('governance', [EventType.GovernanceProposalCreated], {
      publishes: [EventType.WebhookSent],
      handle(event, ctx) {
        if (event.type !== 'GovernanceProposalCreated') return;
        ctx.publish({
          type: 'WebhookSent',
          payload: { webhookUrl: 'https://hooks.example/gov', eventType: event.type, success: true },
        });
      },
    });
    const audit = recorder('audit', [EventType.WebhookSent, EventType.GovernanceProposalCreated]);
    await node.load(governance.module);
    await node.load(audit.module);
    node.publisher.governanceProposalCreated('prop-1', 'org/repo', 42, 2);
    await scheduler.runUntilIdle();
    expect(governance.seen).toEqual(['GovernanceProposalCreated']);
    expect(audit.seen).toEqual(['GovernanceProposalCreated', 'WebhookSent']);
    expect(await node.events.getDeliveryStats('audit')).toMatchObject({ successful: 2, handled: 2 });
    await node.shutdown();
  });

  it('refuses a publish of a type the module is not permitted, with a typed error', async () => {
    const { node, scheduler } = simNode(8);
    const errors: unknown[] = [];
    const sneaky = recorder('sneaky', [EventType.NewBlock], {
      publishes: [EventType.WebhookSent],
      handle(_event, ctx) {
        try {
          ctx.publish({ type: 'NodeShutdown', payload: { reason: 'mine', timeoutSeconds: 1 } });
        } catch (error) {
          errors.push(error);
        }
      },
    });
    await node.load(sneaky.module);
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runUntilIdle();
    expect(errors).toHaveLength(1);
    expect(isModactorError(errors[0], 'not-permitted')).toBe(true);
    await node.shutdown();
  });
});
