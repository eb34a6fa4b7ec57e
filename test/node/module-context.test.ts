/**
 * The context an in-process module's handler gets: who it is, the scheduler's clock, and
 * subscriptions it changes at run time, with bad arguments refused as invalid-argument.
 */
import { describe, expect, it } from 'vitest';
import { EventType, defineModule, isModactorError, type ModuleContext, type ModuleHealth, type NodeEvent } from '../../src/index.js';
import { hash, simNode } from '../scenarios/helpers.js';

/** `code: message` of what `fn` throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isModactorError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'nothing thrown';
}

describe('the module context', () => {
  it('names the module, tells virtual time, waits on it, and changes subscriptions at run time', async () => {
    const { node, scheduler } = simNode(9);
    const seen: string[] = [];
    const log: string[] = [];
    let context: ModuleContext | undefined;
    await node.load(
      defineModule({
        name: 'ctx',
        version: '2.1.0',
        subscribe: [EventType.NewBlock],
        async handle(event: NodeEvent, ctx) {
          context = ctx;
          seen.push(event.type);
          if (event.type !== EventType.NewBlock) return;
          log.push(`${ctx.name}@${ctx.version} at ${ctx.now()}`);
          await ctx.delay(250);
          log.push(`woke at ${ctx.now()}`);
          if (event.payload.height === 1) ctx.subscribe([EventType.NewTransaction]);
          else ctx.unsubscribe([EventType.NewTransaction]);
        },
      }),
    );
    node.publisher.newTransaction(hash(9)); // not subscribed yet
    node.publisher.newBlock(hash(1), 1);
    await scheduler.runAll();
    node.publisher.newTransaction(hash(10)); // subscribed now
    node.publisher.newBlock(hash(2), 2);
    await scheduler.runAll();
    node.publisher.newTransaction(hash(11)); // unsubscribed again
    await scheduler.runAll();
    expect(seen).toEqual(['NewBlock', 'NewTransaction', 'NewBlock']);
    expect(log).toEqual(['ctx@2.1.0 at 0', 'woke at 250', 'ctx@2.1.0 at 250', 'woke at 500']);
    expect(await node.events.getSubscribers(EventType.NewTransaction)).toEqual([]);

    const ctx = context as ModuleContext;
    expect(thrown(() => ctx.subscribe('NewBlock' as never))).toBe(
      'invalid-argument: Expected subscribe types to be an array of event types, got "NewBlock"',
    );
    expect(thrown(() => ctx.unsubscribe(['NewBlock', 7] as never))).toBe(
      'invalid-argument: Expected unsubscribe types[1] to be an event type, got number 7',
    );
    expect(thrown(() => ctx.reportHealth('fine' as ModuleHealth))).toBe(
      'invalid-argument: Expected health to be healthy, degraded or unhealthy, got "fine"',
    );
    await node.shutdown();
  });
});
