/**
 * The two publishers on a transport the test controls: the durable one keeps its window of
 * unacknowledged messages, batches what queued up, retries in order, and accounts for every
 * event; the core one never buffers past its bound and counts what it cannot send.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { emptyPathStats, sendingBalanced as law, type BusPathStats } from '../../src/nats/bus-stats.js';
import { CoreSender, DEFAULT_CORE_SENDER, type CoreTransport } from '../../src/nats/core-sender.js';
import { DurableSender, type DurableSenderOptions, type DurableTransport } from '../../src/nats/durable-sender.js';
import type { StampedEvent } from '../../src/nats/port.js';
import { OriginTracker } from '../../src/nats/origin-tracker.js';
import { decodeMessage, type WireMessage } from '../../src/nats/wire.js';

const event = (seq: number, type = 'NewBlock'): StampedEvent => ({ type, payload: { blockHash: 'ab'.repeat(32), height: seq }, meta: { source: 'm', seq, time: seq } });

/** What a stream that is not there (yet) answers: nothing took the request. */
class NoResponders extends Error {}

/**
 * A JetStream stand-in: publishes wait until the test acknowledges or fails them, in the order the
 * server takes them. After a restart the server has no stream for a while (`ready` false): what
 * it takes then is refused with no responders, not stored.
 */
class ControlledStream implements DurableTransport {
  up = true;
  ready = true;
  readonly inFlight: { subject: string; message: WireMessage; msgId: string; ack(): void; fail(error?: Error): void }[] = [];
  /** What the stream stored, in the order it stored it, deduplicated by message id as JetStream does. */
  readonly stored = new Map<string, WireMessage>();
  /** Backoffs the sender waits for; `tick` runs them. */
  private timers: (() => void)[] = [];

  publish(subject: string, body: string, msgId: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const message = decodeMessage(new TextEncoder().encode(body)) as WireMessage;
      this.inFlight.push({
        subject,
        message,
        msgId,
        ack: () => {
          if (!this.stored.has(msgId)) this.stored.set(msgId, message);
          resolve(undefined);
        },
        fail: (error = new Error('timeout')) => reject(error),
      });
    });
  }

  notReady(error: unknown): boolean {
    return error instanceof NoResponders;
  }

  later(_ms: number, fn: () => void): () => void {
    const timer = (): void => fn();
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Runs the backoffs due. */
  tick(): void {
    const due = this.timers;
    this.timers = [];
    for (const fn of due) fn();
  }

  /**
   * Settles the oldest in-flight publish: acknowledged, failed (a timeout), stored with its
   * acknowledgement lost, or refused because no stream took it.
   */
  settle(outcome: boolean | 'ack-lost' | 'no-responders'): void {
    const next = this.inFlight.shift();
    if (next === undefined) throw new Error('nothing in flight');
    if (outcome === 'ack-lost' && !this.stored.has(next.msgId)) this.stored.set(next.msgId, next.message);
    if (outcome === true) next.ack();
    else next.fail(outcome === 'no-responders' ? new NoResponders('no responders') : undefined);
  }

  /** The server takes the oldest publish: stored and acknowledged if the stream is there, else refused. */
  take(): void {
    this.settle(this.ready ? true : 'no-responders');
  }

  /** Publishes the connection took with it when it broke: stored or not, they only time out later. */
  readonly orphans: { fail(): void }[] = [];

  /**
   * The connection breaks: of what is in flight, the server had stored the first `stored` messages
   * (it handles a connection's publishes in order), their acknowledgements lost; all of them time
   * out later. The server restarts: its stream is not there until `ready`.
   */
  drop(stored: number): void {
    this.up = false;
    this.ready = false;
    for (const [i, f] of this.inFlight.splice(0).entries()) {
      if (i < stored && !this.stored.has(f.msgId)) this.stored.set(f.msgId, f.message);
      this.orphans.push(f);
    }
  }

  storedSeqs(): number[] {
    return [...this.stored.values()].flatMap((m) => m.events.map((e) => e.seq));
  }
}

const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function durable(stream: ControlledStream, stats: BusPathStats, limits: Partial<DurableSenderOptions> = {}): DurableSender {
  return new DurableSender('"ep"', 'ep', (e) => `p.dur.n.${e.type}`, 'p.dur.n', stream, stats, { maxQueued: 1000, window: 2, batchMax: 3, maxAttempts: 3, maxMessageBytes: 1 << 20, ...limits });
}

describe('DurableSender', () => {
  it('sends a lone event at once on its type subject and batches what queues up behind the window', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats);
    sender.offer(event(1));
    await microtasks();
    expect(stream.inFlight.map((f) => [f.subject, f.message.first, f.message.events.length, f.msgId])).toEqual([['p.dur.n.NewBlock', 1, 1, 'ep:1']]);
    for (let seq = 2; seq <= 9; seq++) sender.offer(event(seq));
    await microtasks();
    // Window of 2: one more message, a batch of 3 on the batch subject; 5 wait.
    expect(stream.inFlight.map((f) => [f.subject, f.message.first, f.message.events.length])).toEqual([
      ['p.dur.n.NewBlock', 1, 1],
      ['p.dur.n', 2, 3],
    ]);
    expect(stats).toMatchObject({ offered: 9, pending: 9, sent: 0 });
    stream.settle(true);
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([2, 5]);
    while (stream.inFlight.length > 0) {
      stream.settle(true);
      await microtasks();
    }
    await sender.whenIdle();
    expect(stream.storedSeqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stats).toMatchObject({ offered: 9, sent: 9, pending: 0, messages: 4 });
    expect(sender.maxInFlightSeen).toBe(2);
  });

  it('after a failure sends nothing new until what is in flight settled, then the lowest failed message alone, and the stream keeps it once', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats, { batchMax: 1 });
    for (let seq = 1; seq <= 4; seq++) sender.offer(event(seq));
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([1, 2]);
    // 1 is stored but its acknowledgement is lost; 2 fails outright.
    stream.settle('ack-lost');
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([2]); // nothing new while 2 is out
    stream.settle(false);
    await microtasks();
    expect(stream.inFlight).toEqual([]); // the backoff first
    stream.tick();
    await microtasks();
    // 1 again, alone, with its id (so the stream keeps it once); the window opens once it is taken.
    expect(stream.inFlight.map((f) => [f.message.first, f.msgId])).toEqual([[1, 'ep:1']]);
    stream.settle(true);
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([2, 3]);
    while (stream.inFlight.length > 0) {
      stream.settle(true);
      await microtasks();
    }
    await sender.whenIdle();
    expect(stream.storedSeqs()).toEqual([1, 2, 3, 4]);
    expect(stats).toMatchObject({ sent: 4, retries: 2, unconfirmed: 0, pending: 0 });
  });

  it('costs no attempt when no stream took the message (a server just restarted), and keeps probing with one message', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats, { batchMax: 1, maxAttempts: 2 });
    stream.ready = false;
    for (let seq = 1; seq <= 3; seq++) sender.offer(event(seq));
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([1, 2]);
    stream.take(); // 1 and 2: no responders
    stream.take();
    await microtasks();
    for (let round = 0; round < 5; round++) {
      stream.tick();
      await microtasks();
      expect(stream.inFlight.map((f) => f.message.first)).toEqual([1]);
      stream.take();
      await microtasks();
    }
    stream.ready = true;
    stream.tick();
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([1]);
    stream.take();
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([2, 3]); // taken: the window opens
    while (stream.inFlight.length > 0) {
      stream.take();
      await microtasks();
    }
    await sender.whenIdle();
    expect(stream.storedSeqs()).toEqual([1, 2, 3]);
    expect(stats).toMatchObject({ sent: 3, unconfirmed: 0, pending: 0 });
  });

  it('counts a message unconfirmed after its last attempt, and queue overflow as overflow or busUnavailable', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats, { window: 1, batchMax: 2, maxAttempts: 2, maxQueued: 3 });
    for (let seq = 1; seq <= 5; seq++) sender.offer(event(seq));
    expect(stats).toMatchObject({ offered: 5, pending: 3, overflow: 2 });
    await microtasks();
    stream.settle(false);
    await microtasks();
    stream.tick();
    await microtasks();
    stream.settle(false);
    await microtasks();
    expect(stats).toMatchObject({ unconfirmed: 2, pending: 1 });
    stream.tick(); // after the backoff, 3 goes out
    await microtasks();
    expect(stream.inFlight.map((f) => f.message.first)).toEqual([3]);
    stream.up = false;
    for (let seq = 6; seq <= 9; seq++) sender.offer(event(seq)); // 3 fit in the queue, 9 does not
    expect(stats).toMatchObject({ busUnavailable: 1, pending: 4 });
    stream.up = true;
    sender.pump();
    while (stream.inFlight.length > 0) {
      stream.settle(true);
      await microtasks();
    }
    await sender.whenIdle();
    expect(stats).toMatchObject({ offered: 9, sent: 4, unconfirmed: 2, overflow: 2, busUnavailable: 1, pending: 0 });
    expect(stream.storedSeqs()).toEqual([3, 6, 7, 8]);
  });

  it('on abandon, counts what is queued as busUnavailable and what fails afterwards as unconfirmed', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats, { window: 1, batchMax: 1 });
    for (let seq = 1; seq <= 3; seq++) sender.offer(event(seq));
    await microtasks();
    sender.abandon();
    stream.settle(false);
    await sender.whenIdle();
    expect(stats).toMatchObject({ offered: 3, busUnavailable: 2, unconfirmed: 1, pending: 0 });
  });

  it('stops a batch at a quarter of the message limit, and drops an event too large on its own', async () => {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = durable(stream, stats, { window: 10, batchMax: 100, maxMessageBytes: 2000 });
    const big = (seq: number): StampedEvent => ({ type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true, healthReport: 'é'.repeat(1000) }, meta: { source: 'm', seq, time: 0 } });
    for (let seq = 1; seq <= 10; seq++) sender.offer(event(seq));
    sender.offer(big(11));
    sender.offer(event(12));
    await microtasks();
    const sizes = stream.inFlight.map((f) => f.message.events.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(11);
    expect(Math.max(...sizes)).toBeLessThan(10);
    expect(stats).toMatchObject({ offered: 12, tooLarge: 1, pending: 11 });
    expect(law(stats)).toBe(true);
  });

  test.prop([fc.array(fc.constantFrom('offer', 'offer', 'offer', 'ack', 'ack', 'fail', 'lost', 'refused', 'down', 'up', 'tick'), { maxLength: 80 })])(
    'keeps the window and accounts for every event; what receivers deliver is in order, once, every gap counted (whatever fails or loses its acknowledgement)',
    async (steps) => {
      const stream = new ControlledStream();
      const stats = emptyPathStats();
      const sender = durable(stream, stats, { maxQueued: 10, window: 3, batchMax: 4, maxAttempts: 3 });
      let seq = 0;
      for (const step of steps) {
        if (step === 'offer') sender.offer(event(++seq));
        else if (step === 'down') stream.up = false;
        else if (step === 'up') {
          stream.up = true;
          sender.pump();
        } else if (step === 'tick') stream.tick();
        else if (stream.inFlight.length > 0) stream.settle(step === 'lost' ? 'ack-lost' : step === 'refused' ? 'no-responders' : step === 'ack');
        await microtasks();
        expect(stream.inFlight.length).toBeLessThanOrEqual(3);
        expect(law(stats)).toBe(true);
      }
      // Sent = acknowledged; a few more may be stored whose acknowledgement was lost (unconfirmed).
      const stored = stream.storedSeqs();
      expect(new Set(stored).size).toBe(stored.length);
      expect(stats.sent).toBeLessThanOrEqual(stored.length);
      expect(stored.length).toBeLessThanOrEqual(stats.sent + stats.unconfirmed + stats.pending);
      // A retried message may be stored after a newer one whose acknowledgement was lost: receivers
      // read the stream through their per-origin tracker, which keeps the order and counts the gap.
      const tracker = new OriginTracker();
      const delivered: number[] = [];
      let missed = 0;
      for (const message of stream.stored.values()) {
        const admitted = tracker.admit('n', message.epoch, message.first, message.events.length);
        missed += admitted.missed;
        for (let i = admitted.stale; i < message.events.length; i++) delivered.push(message.first + i);
      }
      for (let i = 1; i < delivered.length; i++) expect(delivered[i]).toBeGreaterThan(delivered[i - 1] as number);
      // From the first message a receiver reads on, every number is delivered or counted missed.
      if (delivered.length > 0) expect(delivered.length + missed).toBe((delivered.at(-1) as number) - (delivered[0] as number) + 1);
    },
  );
  /** The old sender: it left what was in flight to time out on its own when the connection broke. */
  class WaitsForTimeouts extends DurableSender {
    override connectionLost(): void {}
  }

  /** A sender that opens its whole window again at once after a reconnection, without a probe. */
  class PipelinesAfterReconnect extends DurableSender {
    override connectionLost(): void {
      super.connectionLost();
      this.proven = true;
    }
  }

  /**
   * Runs offers, the server taking publishes, connection losses with a server restart (what was in
   * flight stored or not, timing out later, maybe after the connection is back; the stream not
   * there for a while after, refusing what it is sent) and backoffs, with no other failure; at the
   * end nothing may be lost: every event queued is stored once, in the stream's order, and none is
   * unconfirmed.
   */
  async function losesNothingAcrossDisconnections(steps: readonly string[], make: typeof DurableSender = DurableSender): Promise<void> {
    const stream = new ControlledStream();
    const stats = emptyPathStats();
    const sender = new make('"ep"', 'ep', (e) => `p.dur.n.${e.type}`, 'p.dur.n', stream, stats, { maxQueued: 1000, window: 3, batchMax: 2, maxAttempts: 1000, maxMessageBytes: 1 << 20 });
    let seq = 0;
    for (const step of steps) {
      if (step === 'offer') sender.offer(event(++seq));
      else if (step === 'take' && stream.inFlight.length > 0) stream.take();
      else if (step === 'timeout') stream.orphans.shift()?.fail();
      else if (step === 'ready') stream.ready = true;
      else if (step === 'tick') stream.tick();
      else if (step.startsWith('down-') && stream.up) {
        stream.drop(step === 'down-stored' ? Infinity : step === 'down-half' ? Math.ceil(stream.inFlight.length / 2) : 0);
        sender.connectionLost();
      } else if (step === 'up' && !stream.up) {
        stream.up = true;
        sender.pump();
      }
      await microtasks();
    }
    stream.up = true;
    stream.ready = true;
    sender.pump();
    await microtasks();
    for (let rounds = 0; stream.inFlight.length > 0 || stream.orphans.length > 0 || stats.pending > 0; rounds++) {
      if (rounds > 10_000) throw new Error('the sender does not drain');
      if (stream.inFlight.length > 0) stream.take();
      else if (stream.orphans.length > 0) stream.orphans.shift()?.fail();
      else stream.tick();
      await microtasks();
    }
    await sender.whenIdle();
    expect(stats).toMatchObject({ offered: seq, sent: seq, unconfirmed: 0, pending: 0 });
    expect(stream.storedSeqs()).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
  }

  const disconnections = fc.array(fc.constantFrom('offer', 'offer', 'offer', 'take', 'take', 'take', 'down-stored', 'down-half', 'down-lost', 'up', 'ready', 'tick', 'timeout', 'timeout'), { maxLength: 60 });

  test.prop([disconnections])('loses nothing when the connection breaks with messages in flight or the stream is away after a restart: the stream holds every event once, in order', (steps) =>
    losesNothingAcrossDisconnections(steps),
  );

  /** A broken variant fails the property somewhere, and on its shortest case, which the sender passes. */
  async function caught(variant: typeof DurableSender, shortest: readonly string[]): Promise<void> {
    const result = await fc.check(fc.asyncProperty(disconnections, (steps) => losesNothingAcrossDisconnections(steps, variant)), { numRuns: 2000, seed: 12 });
    expect(result.failed).toBe(true);
    await expect(losesNothingAcrossDisconnections(shortest, variant)).rejects.toThrow();
    await losesNothingAcrossDisconnections(shortest);
  }

  it('catches the sender that waits for in-flight messages to time out (newer ones stored first leave a gap)', () =>
    // The shortest case: an event in flight when the connection broke, a newer one stored once it is back.
    caught(WaitsForTimeouts, ['offer', 'down-lost', 'up', 'ready', 'offer', 'take', 'timeout']));

  it('catches the sender that pipelines its retries into a stream not yet there (one refused, the next stored ahead of it)', () =>
    caught(PipelinesAfterReconnect, ['offer', 'offer', 'down-lost', 'up', 'take', 'ready', 'take']));
});

/** A core connection stand-in: publishes land in `written`; flushes wait for the test. */
class ControlledConnection implements CoreTransport {
  up = true;
  readonly written: string[] = [];
  readonly subjects: string[] = [];
  readonly flushes: { resolve(): void; reject(e: Error): void }[] = [];
  publish(subject: string, body: string): void {
    this.subjects.push(subject);
    this.written.push(body);
  }
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.flushes.push({ resolve, reject }));
  }
}

describe('CoreSender', () => {
  it('sends a lone event at once (the turn ending) on its type subject, and a burst as batches on the batch subject', async () => {
    const connection = new ControlledConnection();
    const stats = emptyPathStats();
    const sender = new CoreSender('"ep"', (e) => `ev.n.${e.type}`, 'ev.n', connection, stats, { ...DEFAULT_CORE_SENDER, batchMax: 4 });
    sender.send(event(1));
    expect(connection.written).toEqual([]); // gathered until the turn ends
    expect(stats).toMatchObject({ offered: 1, pending: 1, sent: 0 });
    expect(law(stats)).toBe(true);
    await microtasks();
    expect(connection.subjects).toEqual(['ev.n.NewBlock']);
    // A burst of 10 in one turn: 4 leave as soon as they gathered, twice; the last 2 at the end of the turn.
    for (let seq = 2; seq <= 11; seq++) sender.send(event(seq));
    expect(connection.subjects).toEqual(['ev.n.NewBlock', 'ev.n', 'ev.n']);
    await microtasks();
    const messages = connection.written.map((w) => decodeMessage(new TextEncoder().encode(w)) as WireMessage);
    expect(messages.map((m) => [m.first, m.events.length])).toEqual([
      [1, 1],
      [2, 4],
      [6, 4],
      [10, 2],
    ]);
    expect(messages.flatMap((m) => m.events.map((e) => e.seq))).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(stats).toMatchObject({ offered: 11, sent: 11, pending: 0, messages: 4 });
  });

  it('counts what it gathered as busUnavailable when the connection went down before the turn ended', async () => {
    const connection = new ControlledConnection();
    const stats = emptyPathStats();
    const sender = new CoreSender('"ep"', () => 's', 'b', connection, stats, { ...DEFAULT_CORE_SENDER, batchMax: 10 });
    for (let seq = 1; seq <= 3; seq++) sender.send(event(seq));
    connection.up = false;
    await microtasks();
    expect(connection.written).toEqual([]);
    expect(stats).toMatchObject({ offered: 3, sent: 0, busUnavailable: 3, pending: 0 });
  });

  it('numbers what it writes, stops at its bound of unconfirmed bytes, and goes on once the server confirms', async () => {
    const connection = new ControlledConnection();
    const stats = emptyPathStats();
    const sender = new CoreSender('"ep"', () => 's', 'b', connection, stats, { maxPendingBytes: 1000, flushBytes: 400, maxMessageBytes: 1 << 20, batchMax: 1 });
    for (let seq = 1; seq <= 20; seq++) sender.send(event(seq));
    const size = connection.written[0]?.length ?? 0;
    const fits = Math.ceil(1000 / size);
    expect(stats).toMatchObject({ offered: 20, sent: fits, overflow: 20 - fits });
    expect(connection.written.map((w) => (decodeMessage(new TextEncoder().encode(w)) as WireMessage).first)).toEqual(Array.from({ length: fits }, (_, i) => i + 1));
    for (const f of connection.flushes.splice(0)) f.resolve();
    await microtasks();
    expect(sender.pendingBytes).toBeLessThan(1000);
    sender.send(event(21));
    expect(stats.sent).toBe(fits + 1);
  });

  it('counts an event too large for one message as tooLarge', () => {
    const connection = new ControlledConnection();
    const stats = emptyPathStats();
    const sender = new CoreSender('"ep"', () => 's', 'b', connection, stats, { maxPendingBytes: 1 << 20, flushBytes: 1 << 20, maxMessageBytes: 300, batchMax: 1 });
    sender.send(event(1));
    sender.send({ type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true, healthReport: 'é'.repeat(100) }, meta: { source: 'm', seq: 2, time: 0 } });
    sender.send(event(3));
    expect(stats).toMatchObject({ offered: 3, sent: 2, tooLarge: 1 });
    expect(connection.written.map((w) => (decodeMessage(new TextEncoder().encode(w)) as WireMessage).first)).toEqual([1, 2]);
  });

  it('counts busUnavailable while down, and forgets unconfirmed bytes when the connection breaks', () => {
    const connection = new ControlledConnection();
    const stats = emptyPathStats();
    const sender = new CoreSender('"ep"', () => 's', 'b', connection, stats, { maxPendingBytes: 1000, flushBytes: 400, maxMessageBytes: 1 << 20, batchMax: 1 });
    for (let seq = 1; seq <= 30; seq++) sender.send(event(seq));
    connection.up = false;
    sender.reset();
    for (const f of connection.flushes.splice(0)) f.reject(new Error('disconnected'));
    sender.send(event(31));
    expect(stats.busUnavailable).toBe(1);
    connection.up = true;
    sender.send(event(32));
    expect(sender.pendingBytes).toBe(connection.written.at(-1)?.length);
    expect(law(stats)).toBe(true);
  });
});
