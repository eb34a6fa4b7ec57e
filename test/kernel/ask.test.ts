import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { outcome, shutdown, simulated } from './support.js';

type Query =
  | { readonly type: 'get'; readonly reply: (value: number) => void }
  | { readonly type: 'ignore'; readonly reply: (value: number) => void }
  | { readonly type: 'quit'; readonly reply: (value: number) => void };

function server() {
  let value = 41;
  return {
    create: () => ({
      receive(message: Query, ctx: { stopSelf(): void }) {
        if (message.type === 'get') message.reply(++value);
        else if (message.type === 'quit') ctx.stopSelf();
      },
    }),
  };
}

describe('ask', () => {
  it('resolves with the reply', async () => {
    const sim = simulated();
    const ref = sim.system.spawn(server(), { name: 'server' });
    const answer = sim.system.ask<number, Query>(ref, (reply) => ({ type: 'get', reply }));
    await sim.scheduler.runUntilIdle();
    expect(await answer).toBe(42);
    await shutdown(sim);
  });

  it('rejects with ask-timeout when no reply comes within timeoutMs of virtual time', async () => {
    const sim = simulated();
    const ref = sim.system.spawn(server(), { name: 'server' });
    const answer = outcome(sim.system.ask<number, Query>(ref, (reply) => ({ type: 'ignore', reply }), { timeoutMs: 500 }));
    await sim.scheduler.advanceBy(499);
    let settled = false;
    void answer.then(() => (settled = true));
    await sim.scheduler.runUntilIdle();
    expect(settled).toBe(false);
    await sim.scheduler.advanceBy(1);
    const result = await answer;
    expect(result.ok).toBe(false);
    expect(!result.ok && isModactorError(result.error, 'ask-timeout')).toBe(true);
    await shutdown(sim);
  });

  it('rejects with actor-terminated when the target dies before replying', async () => {
    const sim = simulated();
    const ref = sim.system.spawn(server(), { name: 'server', restart: 'transient' });
    const answer = outcome(sim.system.ask<number, Query>(ref, (reply) => ({ type: 'quit', reply })));
    await sim.scheduler.runUntilIdle();
    const result = await answer;
    expect(!result.ok && isModactorError(result.error, 'actor-terminated')).toBe(true);
    expect(sim.scheduler.pendingTimers).toBe(0); // the timeout was cancelled
    await shutdown(sim);
  });

  it('rejects at once with actor-terminated for a dead target and mailbox-full for a full one', async () => {
    const sim = simulated();
    const full = sim.system.spawn(server(), { name: 'full', mailboxCapacity: 1 });
    full.tell({ type: 'ignore', reply: () => undefined });
    await expect(sim.system.ask<number, Query>(full, (reply) => ({ type: 'get', reply }))).rejects.toMatchObject({
      code: 'mailbox-full',
    });
    const stopped = sim.system.stop(full);
    await sim.scheduler.runUntilIdle();
    await stopped;
    await expect(sim.system.ask<number, Query>(full, (reply) => ({ type: 'get', reply }))).rejects.toMatchObject({
      code: 'actor-terminated',
    });
    await shutdown(sim);
  });
});

describe('ask misuse', () => {
  it('rejects (never throws) for a ref of another system or a build that throws', async () => {
    const one = simulated();
    const two = simulated();
    const foreign = two.system.spawn(server(), { name: 'foreign' });
    await expect(one.system.ask<number, Query>(foreign, (reply) => ({ type: 'get', reply }))).rejects.toMatchObject({
      code: 'unknown-actor',
    });
    const local = one.system.spawn(server(), { name: 'local' });
    await expect(
      one.system.ask<number, Query>(local, () => {
        throw new Error('cannot build');
      }),
    ).rejects.toThrow('cannot build');
    expect(one.scheduler.pendingTimers).toBe(0);
    await shutdown(one);
    await shutdown(two);
  });
});
