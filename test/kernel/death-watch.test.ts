import { describe, expect, it } from 'vitest';
import type { ActorRef, BehaviorObject, ExitReason } from '../../src/index.js';
import { gate, shutdown, simulated } from './support.js';

type WatcherMessage =
  | { readonly watch: ActorRef<unknown> }
  | { readonly unwatch: ActorRef<unknown> }
  | { readonly hold: Promise<void>; readonly thenUnwatch?: ActorRef<unknown> };

/** A watcher that watches/unwatches on request and logs each Terminated it gets. */
function watcher(log: string[]): BehaviorObject<WatcherMessage> {
  return {
    async receive(message, ctx) {
      if ('watch' in message) ctx.watch(message.watch);
      else if ('unwatch' in message) ctx.unwatch(message.unwatch);
      else {
        await message.hold;
        if (message.thenUnwatch !== undefined) ctx.unwatch(message.thenUnwatch);
      }
    },
    onTerminated: (target, reason) => void log.push(`terminated ${target.path} ${reason.kind}`),
  };
}

describe('death watch', () => {
  it('delivers exactly one Terminated with the reason, however often the target is watched', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn(() => undefined, { name: 'target' });
    const w = system.spawn(watcher(log), { name: 'w' });
    w.tell({ watch: target });
    w.tell({ watch: target });
    await scheduler.runUntilIdle();
    const stopped = system.stop(target);
    await scheduler.runAll();
    await stopped;
    expect(log).toEqual(['terminated /target stopped']);
    await shutdown(sim);
  });

  it('delivers Terminated after every message the target processed', async () => {
    const sim = simulated({ seed: 5 });
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn<number>(
      (n, ctx) => {
        log.push(`target handled ${n}`);
        if (n === 3) ctx.stopSelf();
      },
      { name: 'target', restart: 'transient' },
    );
    const w = system.spawn(watcher(log), { name: 'w' });
    w.tell({ watch: target });
    await scheduler.runUntilIdle();
    for (const n of [1, 2, 3]) target.tell(n);
    await scheduler.runUntilIdle();
    expect(log).toEqual(['target handled 1', 'target handled 2', 'target handled 3', 'terminated /target normal']);
    await shutdown(sim);
  });

  it('delivers one Terminated for a target that was already dead at watch time', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn(() => undefined, { name: 'target' });
    const stopped = system.stop(target);
    await scheduler.runUntilIdle();
    await stopped;
    const w = system.spawn(watcher(log), { name: 'w' });
    w.tell({ watch: target });
    await scheduler.runUntilIdle();
    expect(log).toEqual(['terminated /target stopped']);
    // A second watch after the first was delivered is a new watch: one more Terminated.
    w.tell({ watch: target });
    await scheduler.runUntilIdle();
    expect(log).toHaveLength(2);
    await shutdown(sim);
  });

  it('suppresses a Terminated not yet processed when the watcher unwatches', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn(() => undefined, { name: 'target' });
    const w = system.spawn(watcher(log), { name: 'w' });
    const hold = gate();
    w.tell({ watch: target });
    w.tell({ hold: hold.promise, thenUnwatch: target });
    await scheduler.runUntilIdle(); // w is inside the hold message
    const stopped = system.stop(target);
    await scheduler.runUntilIdle();
    await stopped; // the Terminated now waits in w's system lane
    hold.open();
    await scheduler.runUntilIdle();
    expect(log).toEqual([]);
    await shutdown(sim);
  });

  it('does not deliver after unwatch, and delivers again after a new watch', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const a = system.spawn(() => undefined, { name: 'a' });
    const b = system.spawn(() => undefined, { name: 'b' });
    const w = system.spawn(watcher(log), { name: 'w' });
    w.tell({ watch: a });
    w.tell({ watch: b });
    w.tell({ unwatch: a });
    await scheduler.runUntilIdle();
    const stops = [system.stop(a), system.stop(b)];
    await scheduler.runUntilIdle();
    await Promise.all(stops);
    expect(log).toEqual(['terminated /b stopped']);
    await shutdown(sim);
  });

  it('reports a crash as the failure that caused it', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const reasons: ExitReason[] = [];
    const target = system.spawn<string>(() => {
      throw new Error('kaput');
    }, { name: 'target' });
    system.spawn<never>(
      { onStart: (ctx) => ctx.watch(target), receive: () => undefined, onTerminated: (_t, reason) => void reasons.push(reason) },
      { name: 'w' },
    );
    await scheduler.runUntilIdle();
    target.tell('go');
    await scheduler.runUntilIdle();
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ kind: 'failed', failure: { kind: 'thrown', message: 'kaput' } });
    // The restarted incarnation is a new actor: the old watch does not follow it.
    expect(system.lookup('/target')?.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('holds a Terminated while the watcher is suspended and delivers it after resume', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn(() => undefined, { name: 'target' });
    const parentBusy = gate();
    const parent = system.spawn<'hold'>(
      {
        onStart: (ctx) =>
          void ctx.spawn<'boom'>(
            {
              onStart: (c) => c.watch(target),
              receive: () => {
                throw new Error('boom');
              },
              onTerminated: (t) => void log.push(`terminated ${t.path}`),
            },
            { name: 'w' },
          ),
        receive: () => parentBusy.promise,
      },
      { name: 'parent', supervision: { decide: () => 'resume' } },
    );
    await scheduler.runUntilIdle();
    parent.tell('hold'); // the parent cannot decide while it is busy
    await scheduler.runUntilIdle();
    const w = system.lookup<'boom'>('/parent/w') as ActorRef<'boom'>;
    w.tell('boom');
    await scheduler.runUntilIdle(); // w is suspended, its failure waits for the parent
    const stopped = system.stop(target);
    await scheduler.runUntilIdle();
    await stopped;
    expect(log).toEqual([]); // not delivered to a failed behaviour
    parentBusy.open();
    await scheduler.runUntilIdle();
    expect(log).toEqual(['terminated /target']);
    expect(system.lookup('/parent/w')).toBe(w); // resumed, same incarnation
    await shutdown(sim);
  });

  it('forgets the watches of a watcher that terminated', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const log: string[] = [];
    const target = system.spawn(() => undefined, { name: 'target' });
    const w = system.spawn(watcher(log), { name: 'w' });
    w.tell({ watch: target });
    await scheduler.runUntilIdle();
    const stops = [system.stop(w)];
    await scheduler.runUntilIdle();
    stops.push(system.stop(target));
    await scheduler.runUntilIdle();
    await Promise.all(stops);
    expect(log).toEqual([]);
    expect(system.deadLetterCounts()).toEqual({ 'mailbox-full': 0, closed: 0, 'lost-on-termination': 0 });
    await shutdown(sim);
  });
});
