import { afterEach, describe, expect, it, vi } from 'vitest';
import { Inspector } from '../../src/kernel/inspection.js';
import type { InspectionEvent } from '../../src/index.js';
import { shutdown, simulated, traceOf } from './support.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('inspection', () => {
  it('pins the trace of a failure and restart', async () => {
    const sim = simulated({ seed: 42 });
    const { scheduler, system } = sim;
    const trace = traceOf(system, true);
    const worker = system.spawn<string>((m) => {
      if (m === 'boom') throw new Error('boom');
    }, { name: 'worker', mailboxCapacity: 2 });
    worker.tell('a');
    worker.tell('boom');
    worker.tell('lost');
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(10);
    system.lookup<string>('/worker')?.tell('b');
    await scheduler.runUntilIdle();
    await shutdown(sim);
    expect(trace).toMatchInlineSnapshot(`
      [
        "0 spawned /worker",
        "0 offered /worker user a",
        "0 offered /worker user boom",
        "0 dropped /worker full lost",
        "0 dead-letter /worker mailbox-full lost",
        "0 delivered /worker a",
        "0 handled /worker a",
        "0 delivered /worker boom",
        "0 failed /worker thrown: boom",
        "0 directive / -> /worker: restart",
        "0 terminated /worker failed",
        "0 spawned /worker",
        "0 restarted /worker after 0 ms",
        "10 offered /worker user b",
        "10 delivered /worker b",
        "10 handled /worker b",
        "10 terminated /worker stopped",
        "10 terminated / stopped",
      ]
    `);
  });

  it('builds no event while nobody observes, and stops when the last observer leaves', async () => {
    const emit = vi.spyOn(Inspector.prototype, 'emit');
    const sim = simulated();
    const { scheduler, system } = sim;
    const ref = system.spawn<number>(() => undefined, { name: 'quiet' });
    for (let i = 0; i < 10; i++) ref.tell(i);
    await scheduler.runUntilIdle();
    expect(emit).not.toHaveBeenCalled();

    const seen: InspectionEvent['type'][] = [];
    const unsubscribe = system.inspect((event) => seen.push(event.type));
    ref.tell(1);
    await scheduler.runUntilIdle();
    expect(seen).toEqual(['offered', 'delivered', 'handled']);

    unsubscribe();
    emit.mockClear();
    ref.tell(2);
    await scheduler.runUntilIdle();
    expect(emit).not.toHaveBeenCalled();
    await shutdown(sim);
  });

  it('keeps telling the other observers when one leaves', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const ref = system.spawn<number>(() => undefined, { name: 'watched' });
    const first: InspectionEvent['type'][] = [];
    const second: InspectionEvent['type'][] = [];
    const leaveFirst = system.inspect((event) => first.push(event.type));
    system.inspect((event) => second.push(event.type));
    ref.tell(1);
    await scheduler.runUntilIdle();
    leaveFirst();
    ref.tell(2);
    await scheduler.runUntilIdle();
    expect(first).toEqual(['offered', 'delivered', 'handled']);
    expect(second).toEqual(['offered', 'delivered', 'handled', 'offered', 'delivered', 'handled']);
    await shutdown(sim);
  });

  it('reports an observer that throws on a separate macrotask and keeps running', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const sim = simulated();
    const { scheduler, system } = sim;
    system.inspect(() => {
      throw new Error('observer broke');
    });
    const handled: number[] = [];
    const ref = system.spawn<number>((n) => void handled.push(n), { name: 'robust' });
    ref.tell(1);
    await scheduler.runUntilIdle();
    expect(handled).toEqual([1]);
    // The errors wait on their own macrotasks, where they are thrown again.
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    expect(() => vi.runOnlyPendingTimers()).toThrow('observer broke');
    vi.clearAllTimers();
    await shutdown(sim);
    vi.clearAllTimers();
  });
});
