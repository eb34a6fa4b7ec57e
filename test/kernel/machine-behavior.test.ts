import { describe, expect, it } from 'vitest';
import { assign, createMachine, fromCallback } from 'xstate';
import {
  fromMachine,
  isModactorError,
  type ActorContext,
  type ActorRef,
  type BehaviorFactory,
  type Failure,
  type ModactorError,
} from '../../src/index.js';
import { gate, shutdown, simulated } from './support.js';

type TrafficEvent = { type: 'go' } | { type: 'fault' } | { type: 'noise' } | { type: 'crash' };

const traffic = createMachine({
  // 'crash' is not the machine's business: a wrapper below fails on it outside the machine.
  types: {} as { events: TrafficEvent; context: { cycles: number } },
  initial: 'red',
  context: { cycles: 0 },
  states: {
    red: { on: { go: 'green' } },
    green: { after: { 1000: { target: 'red', actions: assign({ cycles: ({ context }) => context.cycles + 1 }) } } },
  },
  on: {
    fault: {
      actions: () => {
        throw new Error('bulb burnt');
      },
    },
  },
});

describe('fromMachine', () => {
  it('turns each message into a transition', async () => {
    const sim = simulated();
    const states: unknown[] = [];
    const ref = sim.system.spawn(fromMachine(traffic, { onSnapshot: (s) => states.push(s.value) }), { name: 'light' });
    ref.tell({ type: 'go' });
    await sim.scheduler.runUntilIdle();
    expect(states).toEqual(['red', 'green']);
    await shutdown(sim);
  });

  it('fires a delayed transition in virtual time', async () => {
    const sim = simulated();
    const snapshots: { value: unknown; cycles: number }[] = [];
    const ref = sim.system.spawn(
      fromMachine(traffic, { onSnapshot: (s) => snapshots.push({ value: s.value, cycles: s.context.cycles }) }),
      { name: 'light' },
    );
    ref.tell({ type: 'go' });
    await sim.scheduler.advanceBy(999);
    expect(snapshots.at(-1)).toEqual({ value: 'green', cycles: 0 });
    await sim.scheduler.advanceBy(1);
    expect(snapshots.at(-1)).toEqual({ value: 'red', cycles: 1 });
    expect(sim.scheduler.now()).toBe(1000);
    await shutdown(sim);
  });

  it('does not lose a delayed transition that comes due while the mailbox is full', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const values: unknown[] = [];
    const machine = fromMachine(traffic, { onSnapshot: (s) => values.push(s.value) });
    // The light fails on 'crash' outside its machine; its parent resumes it, but only once the
    // parent is free again, so the light sits suspended with a full mailbox meanwhile.
    const light: BehaviorFactory<TrafficEvent> = {
      create(ctx) {
        const inner = machine.create(ctx);
        return {
          ...inner,
          receive(message, c) {
            if (message.type === 'crash') throw new Error('not the machine');
            return inner.receive(message, c);
          },
        };
      },
    };
    const parentBusy = gate();
    const parent = system.spawn<'hold'>(
      { onStart: (ctx) => void ctx.spawn(light, { name: 'light', mailboxCapacity: 2 }), receive: () => parentBusy.promise },
      { name: 'parent', supervision: { decide: () => 'resume' } },
    );
    await scheduler.runUntilIdle();
    const ref = system.lookup<TrafficEvent>('/parent/light') as ActorRef<TrafficEvent>;
    ref.tell({ type: 'go' });
    parent.tell('hold');
    await scheduler.runUntilIdle();
    ref.tell({ type: 'crash' });
    await scheduler.runUntilIdle();
    expect([ref.tell({ type: 'noise' }), ref.tell({ type: 'noise' }), ref.tell({ type: 'noise' })]).toEqual([
      'enqueued',
      'enqueued',
      'full',
    ]);
    await scheduler.advanceBy(1000); // the delayed transition comes due now
    expect(values).toEqual(['red', 'green']);
    parentBusy.open();
    await scheduler.runUntilIdle();
    expect(values.slice(0, 3)).toEqual(['red', 'green', 'red']);
    await shutdown(sim);
  });

  it('makes a machine error a supervised failure and restarts with a fresh machine', async () => {
    const failures: Failure[] = [];
    const sim = simulated({ supervision: { decide: (f) => (failures.push(f), 'restart') } });
    const values: unknown[] = [];
    const ref = sim.system.spawn(fromMachine(traffic, { onSnapshot: (s) => values.push(s.value) }), { name: 'light' });
    ref.tell({ type: 'go' });
    ref.tell({ type: 'fault' });
    await sim.scheduler.runUntilIdle();
    expect(failures).toMatchObject([{ kind: 'thrown', message: 'bulb burnt' }]);
    const fresh = sim.system.lookup<TrafficEvent>('/light');
    expect(fresh).not.toBe(ref);
    // The old machine's timer died with it: nothing fires for the old incarnation.
    await sim.scheduler.advanceBy(2000);
    expect(values).toEqual(['red', 'green', 'red']); // the fresh machine starts red
    fresh?.tell({ type: 'go' });
    await sim.scheduler.runUntilIdle();
    expect(values).toEqual(['red', 'green', 'red', 'green']);
    await shutdown(sim);
  });

  it('refuses a message that is not an event with a typed failure, and resumed keeps the machine as it was', async () => {
    const failures: Failure[] = [];
    const sim = simulated({ supervision: { decide: (f) => (failures.push(f), 'resume') } });
    const values: unknown[] = [];
    const ref = sim.system.spawn(fromMachine(traffic, { onSnapshot: (s) => values.push(s.value) }), { name: 'light' });
    const junk: unknown[] = [null, undefined, 'go', Object.assign(() => undefined, { type: 'go' }), { kind: 'go' }, { type: 7 }];
    for (const message of junk) ref.tell(message as TrafficEvent);
    ref.tell({ type: 'go' });
    await sim.scheduler.runUntilIdle();
    expect(failures.map((f) => f.kind)).toEqual(junk.map(() => 'thrown'));
    const errors = failures.map((f) => (f.kind === 'thrown' ? f.error : undefined));
    for (const error of errors) expect(isModactorError(error, 'invalid-argument')).toBe(true);
    expect(errors.map((e) => (e as ModactorError).issues.map(({ path, got }) => `${path}|${got}`))).toEqual([
      '|null',
      '|undefined',
      '|"go"',
      '|a function',
      '|an object without a string type',
      '|an object without a string type',
    ].map((issue) => [issue]));
    expect(failures[0]?.message).toBe("a machine's message must be an event object with a string type, got null");
    expect(ref.isAlive).toBe(true);
    expect(values).toEqual(['red', 'green']);
    await shutdown(sim);
  });

  it('cancels a delayed transition when the machine leaves its state first, and takes its input', async () => {
    const seen: string[] = [];
    const question = createMachine({
      types: {} as { events: { type: 'answer' }; context: { asker: string }; input: { asker: string } },
      initial: 'waiting',
      context: ({ input }) => ({ asker: input.asker }),
      states: {
        waiting: {
          entry: ({ context }) => seen.push(`asked by ${context.asker}`),
          after: { 100: { target: 'late', actions: () => seen.push('timed out') } },
          on: { answer: { target: 'answered', actions: () => seen.push('answered') } },
        },
        answered: {},
        late: {},
      },
    });
    const sim = simulated();
    // No onSnapshot: the machine runs without one.
    const ref = sim.system.spawn(fromMachine(question, { input: { asker: 'ada' } }), { name: 'question' });
    await sim.scheduler.advanceBy(50);
    ref.tell({ type: 'answer' });
    await sim.scheduler.advanceBy(500);
    expect(seen).toEqual(['asked by ada', 'answered']);
    expect(ref.isAlive).toBe(true);
    await shutdown(sim);
  });
});

describe('fromMachine, delayed transitions and stopping', () => {
  type QuizEvent = { type: 'answer' } | { type: 'ask' };
  /** Waiting times out after 100 ms; answering and asking again re-enters waiting with a fresh timeout. */
  const quiz = createMachine({
    types: {} as { events: QuizEvent },
    initial: 'waiting',
    states: {
      waiting: { after: { 100: 'late' }, on: { answer: 'answered' } },
      answered: { on: { ask: 'waiting' } },
      late: {},
    },
  });

  it('cancels the timeout of a state left and entered again: only the fresh one fires', async () => {
    const sim = simulated();
    const seen: string[] = [];
    const ref = sim.system.spawn(fromMachine(quiz, { onSnapshot: (s) => seen.push(`${JSON.stringify(s.value)}@${sim.scheduler.now()}`) }), {
      name: 'quiz',
    });
    await sim.scheduler.advanceBy(50);
    ref.tell({ type: 'answer' });
    await sim.scheduler.advanceBy(10);
    ref.tell({ type: 'ask' });
    await sim.scheduler.advanceBy(500);
    expect(seen).toEqual(['"waiting"@0', '"answered"@50', '"waiting"@60', '"late"@160']);
    await shutdown(sim);
  });

  it('run by a context of its caller’s own, gets its delayed transitions as messages to pass back in', async () => {
    const sim = simulated();
    const seen: string[] = [];
    const machine = fromMachine(quiz, { onSnapshot: (s) => seen.push(`${JSON.stringify(s.value)}@${sim.scheduler.now()}`) });
    const passed: unknown[] = [];
    // A wrapper behaviour that gives the machine a context of its own (it only schedules).
    const wrapper: BehaviorFactory<unknown> = {
      create(ctx) {
        const own = { scheduleOnce: (ms: number, message: unknown) => ctx.scheduleOnce(ms, message) } as unknown as ActorContext<QuizEvent>;
        const inner = machine.create(own);
        return {
          onStart: () => inner.onStart?.(own),
          receive: (message) => {
            passed.push(message === null ? 'null' : typeof message === 'object' && 'type' in message ? message.type : 'a tick');
            return inner.receive(message as QuizEvent, own);
          },
        };
      },
    };
    const ref = sim.system.spawn(wrapper, { name: 'wrapped' });
    await sim.scheduler.advanceBy(50);
    ref.tell({ type: 'answer' });
    ref.tell({ type: 'ask' });
    await sim.scheduler.advanceBy(500);
    expect(seen).toEqual(['"waiting"@0', '"answered"@50', '"waiting"@50', '"late"@150']);
    expect(passed).toEqual(['answer', 'ask', 'a tick']); // the first timeout was cancelled: one tick
    expect(ref.isAlive).toBe(true);
    await shutdown(sim);
  });

  it('stops the machine with its actor: what the machine invoked is cleaned up', async () => {
    const sim = simulated();
    const cleaned: string[] = [];
    const watcher = createMachine({
      initial: 'watching',
      states: {
        watching: { invoke: { src: fromCallback(() => () => cleaned.push('watch cleaned up')) } },
      },
    });
    const ref = sim.system.spawn(fromMachine(watcher), { name: 'watcher' });
    await sim.scheduler.runUntilIdle();
    expect(cleaned).toEqual([]);
    const stopped = sim.system.stop(ref);
    await sim.scheduler.runAll();
    await stopped;
    expect(cleaned).toEqual(['watch cleaned up']);
    await shutdown(sim);
  });
});
