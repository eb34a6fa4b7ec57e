import { describe, expect, it } from 'vitest';
import { createActorSystem, createRealScheduler, type ActorRef, type Failure } from '../../src/index.js';

/** These tests use the production scheduler: they await the promise that proves each state. */
describe('the real scheduler', () => {
  it('runs messages, ask, supervision and shutdown', async () => {
    const failures: Failure[] = [];
    const system = createActorSystem({ supervision: { decide: (f) => (failures.push(f), 'restart') } });
    expect(system.scheduler.kind).toBe('real');
    type Message = { type: 'add'; n: number } | { type: 'sum'; reply: (n: number) => void } | { type: 'boom' };
    const summer = system.spawn<Message>(
      {
        create: () => {
          let total = 0;
          return {
            receive: async (m) => {
              await Promise.resolve();
              if (m.type === 'add') total += m.n;
              else if (m.type === 'sum') m.reply(total);
              else throw new Error('boom');
            },
          };
        },
      },
      { name: 'summer', mailboxCapacity: 200 },
    );
    for (let n = 1; n <= 100; n++) summer.tell({ type: 'add', n });
    expect(await system.ask<number, Message>(summer, (reply) => ({ type: 'sum', reply }))).toBe(5050);

    const died = system.whenTerminated(summer);
    const restarted = new Promise<void>((resolve) => {
      const stop = system.inspect((event) => {
        if (event.type === 'restarted') {
          stop();
          resolve();
        }
      });
    });
    summer.tell({ type: 'boom' });
    expect(await died).toMatchObject({ kind: 'failed', failure: { kind: 'rejected', message: 'boom' } });
    await restarted;
    const fresh = system.lookup<Message>('/summer') as ActorRef<Message>;
    expect(await system.ask<number, Message>(fresh, (reply) => ({ type: 'sum', reply }))).toBe(0);
    expect(failures).toHaveLength(1);

    await system.shutdown();
    expect(fresh.isAlive).toBe(false);
  });

  it('kills an actor that hangs in onStop after its timeout, on the wall clock', async () => {
    const system = createActorSystem();
    const hanging = system.spawn<never>(
      { receive: () => undefined, onStop: () => new Promise<void>(() => undefined) },
      { name: 'hanging', shutdownTimeoutMs: 5 },
    );
    await system.shutdown();
    expect(await system.whenTerminated(hanging)).toMatchObject({ kind: 'killed', failure: { kind: 'stop-timeout' } });
  });

  it('yields to the event loop while it drains a huge backlog', async () => {
    const total = 50_000;
    // 32 messages per turn, a yield at the latest after 256 turns (the default also yields after 4 ms)
    const system = createActorSystem({ scheduler: createRealScheduler({ turnsPerYield: 256 }) });
    const order: string[] = [];
    let handled = 0;
    let handledWhenImmediateRan = -1;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const ref = system.spawn<number>(
      (n) => {
        handled++;
        if (n === 0) {
          setImmediate(() => {
            handledWhenImmediateRan = handled;
            order.push('immediate');
          });
        }
        if (n === total - 1) {
          order.push('backlog done');
          finish();
        }
      },
      { name: 'busy', mailboxCapacity: total },
    );
    for (let n = 0; n < total; n++) ref.tell(n);
    await finished;
    expect(order).toEqual(['immediate', 'backlog done']);
    expect(handledWhenImmediateRan).toBeGreaterThan(0);
    expect(handledWhenImmediateRan).toBeLessThan(total);
    await system.shutdown();
  });

  it('yields to the event loop during a restart storm carried by promise continuations', async () => {
    const restarts = 20_000;
    const system = createActorSystem({
      supervision: { maxRestarts: Number.MAX_SAFE_INTEGER, withinMs: 1000 },
    });
    const order: string[] = [];
    let starts = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    system.spawn<'crash'>(
      {
        create: (ctx) => ({
          onStart: () => {
            starts++;
            if (starts === 1) {
              setImmediate(() => order.push(`immediate after ${starts < restarts ? 'some' : 'all'} restarts`));
            }
            if (starts === restarts) {
              order.push('storm over');
              finish();
              return;
            }
            ctx.self.tell('crash');
          },
          receive: () => {
            throw new Error('again');
          },
        }),
      },
      { name: 'storm' },
    );
    await finished;
    await system.shutdown();
    expect(order).toEqual(['immediate after some restarts', 'storm over']);
  });

  it('lets many actors take turns from one run queue', async () => {
    const system = createActorSystem({ scheduler: createRealScheduler({ throughput: 1 }) });
    const order: string[] = [];
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const refs = ['a', 'b'].map((name) =>
      system.spawn<number>(
        (n) => {
          order.push(`${name}${n}`);
          if (order.length === 6) finish();
        },
        { name },
      ),
    );
    for (let n = 0; n < 3; n++) for (const ref of refs) ref.tell(n);
    await finished;
    await system.shutdown();
    // One message per turn: the two actors alternate.
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });
});
