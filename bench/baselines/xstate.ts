import { assign, createActor, setup } from 'xstate';
import type { BenchEvent, Subject, SubjectFactory } from '../lib/subject.js';

/** The trivial machine: counts the events it receives and hands each to the delivery handler. */
const counter = setup({
  types: {
    context: {} as { count: number },
    events: {} as BenchEvent,
  },
  actions: {
    deliver: () => undefined,
  },
}).createMachine({
  context: { count: 0 },
  on: {
    NewBlock: { actions: [assign({ count: ({ context }) => context.count + 1 }), 'deliver'] },
  },
});

/**
 * Baseline (c): one started xstate v5 actor per subscriber (`createActor` of the counting
 * machine). `send` is processed synchronously by xstate, so this is unbounded and never drops.
 */
export const xstateSubject: SubjectFactory = ({ n, handler }) => {
  const actors = Array.from({ length: n }, (_, i) => {
    const machine = counter.provide({
      actions: {
        deliver: ({ event }) => {
          void handler(event, i);
        },
      },
    });
    return createActor(machine).start();
  });
  const subject: Subject = {
    publish(event) {
      for (let i = 0; i < actors.length; i++) (actors[i] as (typeof actors)[number]).send(event);
      return n;
    },
  };
  return Promise.resolve(subject);
};
