/**
 * The durable consumer comes back after a server restart even when JetStream is not ready at the
 * moment of the reconnection: the re-creation is tried again on the node's scheduler, not only at
 * the next reconnection (which may never come).
 */
import { expect, it } from 'vitest';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { createSimulatedScheduler } from '../../src/index.js';
import { DurableReceiver, RESTART_RETRY_MS } from '../../src/nats/durable-receiver.js';
import { testLogger } from './support.js';

/** A JetStream whose consumer API fails while `ready` is false, and counts the consumers read from. */
function fakeJetStream(): { js: JetStreamClient; jsm: JetStreamManager; state: { ready: boolean; consumed: number } } {
  const state = { ready: true, consumed: 0 };
  const when = <T>(value: T): Promise<T> => (state.ready ? Promise.resolve(value) : Promise.reject(new Error('JetStream not ready')));
  const jsm = {
    consumers: {
      info: () => when({ num_ack_pending: 0, ack_floor: { stream_seq: 0 } }),
      add: () => when({}),
      delete: () => when(true),
    },
  };
  const js = {
    consumers: {
      get: () =>
        when({
          consume: () => {
            state.consumed++;
            return Promise.resolve({ close: () => Promise.resolve() });
          },
        }),
    },
  };
  return { js: js as unknown as JetStreamClient, jsm: jsm as unknown as JetStreamManager, state };
}

it('tries again to re-create the consumer when JetStream is not ready after a reconnection', async () => {
  const scheduler = createSimulatedScheduler({ seed: 1 });
  const { js, jsm, state } = fakeJetStream();
  const receiver = new DurableReceiver(js, jsm, 'stream', 'node-a', 'p.dur.>', 'new', () => undefined, testLogger(), scheduler);
  await receiver.start();
  expect(state.consumed).toBe(1);
  state.ready = false;
  receiver.resync(); // the connection is back, JetStream is not
  await scheduler.runUntilIdle();
  await new Promise((resolve) => setImmediate(resolve)); // the failed attempt settles
  expect(state.consumed).toBe(1);
  await scheduler.advanceBy(RESTART_RETRY_MS);
  await new Promise((resolve) => setImmediate(resolve));
  expect(state.consumed).toBe(1); // still not ready: it tries again later
  state.ready = true;
  await scheduler.advanceBy(RESTART_RETRY_MS);
  await new Promise((resolve) => setImmediate(resolve));
  expect(state.consumed).toBe(2);
  expect(receiver.restarts).toBe(3);
  await receiver.close();
});

it('ignores what a closed consumer session still delivers, so a late pull cannot become the next baseline', async () => {
  const scheduler = createSimulatedScheduler({ seed: 1 });
  const callbacks: ((msg: unknown) => void)[] = [];
  const jsm = {
    consumers: {
      info: () => Promise.resolve({ num_ack_pending: 0, ack_floor: { stream_seq: 0 } }),
      add: () => Promise.resolve({}),
      delete: () => Promise.resolve(true),
    },
  };
  const js = {
    consumers: {
      get: () =>
        Promise.resolve({
          consume: (options: { callback: (msg: unknown) => void }) => {
            callbacks.push(options.callback);
            return Promise.resolve({ close: () => Promise.resolve() });
          },
        }),
    },
  };
  const message = (seq: number) => ({ info: { streamSequence: seq }, subject: 'p.dur.a', data: new Uint8Array([seq]), ack: () => undefined });
  const handled: number[] = [];
  const receiver = new DurableReceiver(
    js as unknown as JetStreamClient,
    jsm as unknown as JetStreamManager,
    'stream',
    'node-c',
    'p.dur.>',
    'new',
    (_subject, data) => void handled.push(data[0] as number),
    testLogger(),
    scheduler,
  );
  await receiver.start();
  const [first] = callbacks;
  first?.(message(1));
  first?.(message(2));
  receiver.resync(); // the connection came back: a new session starts after seq 2
  await new Promise((resolve) => setImmediate(resolve));
  expect(callbacks).toHaveLength(2);
  first?.(message(200)); // the old session's pull, answered late
  callbacks[1]?.(message(3));
  callbacks[1]?.(message(4));
  expect(handled).toEqual([1, 2, 3, 4]);
  await receiver.close();
});
