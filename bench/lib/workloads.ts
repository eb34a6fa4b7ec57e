import { median, percentile, type CaseResult } from './report.js';
import { macrotask, newBlock, NEVER, type Subject, type SubjectFactory } from './subject.js';

/** `burst`: 100 publishes between yields; `yield`: a yield after every publish. */
export type PublishMode = 'burst' | 'yield';

export const BURST = 100;

const publishSize = (mode: PublishMode): number => (mode === 'burst' ? BURST : 1);

/**
 * Publishes `count` events back to back, synchronously (no await between them, so nothing else
 * runs inside a burst). Returns the accepted total, or a promise of it only when the subject
 * answered with promises.
 */
export function publishMany(subject: Subject, count: number, nextSeq: () => number): number | Promise<number> {
  let accepted = 0;
  let pending: PromiseLike<number>[] | null = null;
  for (let k = 0; k < count; k++) {
    const r = subject.publish(newBlock(nextSeq()));
    if (typeof r === 'number') accepted += r;
    else (pending ??= []).push(r);
  }
  if (pending === null) return accepted;
  return Promise.all(pending).then((counts) => counts.reduce((a, b) => a + b, accepted));
}

/** Yields until `done()`; fails loudly instead of hanging if nothing moves for a long time. */
export async function until(yieldFn: () => Promise<void>, done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let idle = 0;
  while (!done()) {
    await yieldFn();
    const now = progress();
    if (now === last) {
      if (++idle > 10_000) throw new Error('no progress: a subscriber never handled what it accepted');
    } else {
      idle = 0;
      last = now;
    }
  }
}

export interface ThroughputOptions {
  readonly n: number;
  readonly mode: PublishMode;
  readonly capacity?: number;
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

/**
 * Fan-out throughput: publish to N subscribers for `roundMs` (in bursts of 100 between yields, or
 * with a yield after every publish), then wait until every accepted offer was handled. The metric
 * is deliveries to handlers per second of wall time, the tail included. Offers a bounded mailbox
 * refused are counted as drops and do not count as deliveries.
 */
export async function runThroughput(factory: SubjectFactory, options: ThroughputOptions): Promise<CaseResult> {
  let handled = 0;
  const subject = await factory({
    n: options.n,
    capacity: options.capacity ?? 100,
    handler: () => {
      handled++;
    },
  });
  const yieldFn = subject.yield ?? macrotask;
  let seq = 0;
  const nextSeq = (): number => seq++;
  const size = publishSize(options.mode);

  const round = async (ms: number): Promise<{ rate: number; offered: number; dropped: number; cpuUsPerPublish: number }> => {
    const start = handled;
    let accepted = 0;
    let offered = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    do {
      const result = publishMany(subject, size, nextSeq);
      accepted += typeof result === 'number' ? result : await result;
      offered += size * options.n;
      await yieldFn();
    } while (performance.now() - t0 < ms);
    await until(yieldFn, () => handled - start >= accepted, () => handled);
    const elapsed = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // Process CPU time (every thread: the store's writes and syncs too) per event published.
    const published = offered / options.n;
    return { rate: ((handled - start) / elapsed) * 1000, offered, dropped: offered - accepted, cpuUsPerPublish: (cpu.user + cpu.system) / published };
  };

  await round(options.warmupMs);
  const rates: number[] = [];
  const cpus: number[] = [];
  let offered = 0;
  let dropped = 0;
  for (let r = 0; r < options.rounds; r++) {
    const result = await round(options.roundMs);
    rates.push(result.rate);
    cpus.push(result.cpuUsPerPublish);
    offered += result.offered;
    dropped += result.dropped;
  }
  return {
    metrics: { eventsPerSec: median(rates), dropRate: offered === 0 ? 0 : dropped / offered, cpuUsPerPublish: median(cpus) },
    info: { rounds: rates, cpuUsPerPublish: cpus, offered, dropped },
  };
}

export interface LatencyOptions {
  readonly n: number;
  readonly mode: PublishMode;
  readonly warmupEvents: number;
  readonly events: number;
}

/**
 * Publish -> handler latency: each publish stamps `performance.now()` under the event's sequence
 * number; each handler call records now minus that stamp. p50 and p99 over every delivery of the
 * measured events (warm-up excluded), in microseconds.
 */
export async function runLatency(factory: SubjectFactory, options: LatencyOptions): Promise<CaseResult> {
  const total = options.warmupEvents + options.events;
  const sent = new Float64Array(total);
  const samples = new Float64Array(options.events * options.n);
  let count = 0;
  let handled = 0;
  const subject = await factory({
    n: options.n,
    capacity: 100,
    handler: (event) => {
      handled++;
      const seq = event.payload.height;
      if (seq >= options.warmupEvents) samples[count++] = performance.now() - (sent[seq] as number);
    },
  });
  const yieldFn = subject.yield ?? macrotask;
  const size = publishSize(options.mode);
  let accepted = 0;
  let offered = 0;
  for (let seq = 0; seq < total; ) {
    for (let k = 0; k < size && seq < total; k++, seq++) {
      sent[seq] = performance.now();
      const r = subject.publish(newBlock(seq));
      accepted += typeof r === 'number' ? r : await r;
      offered += options.n;
    }
    await yieldFn();
  }
  await until(yieldFn, () => handled >= accepted, () => handled);
  const measured = samples.subarray(0, count).sort();
  return {
    metrics: {
      p50Us: percentile(measured, 50) * 1000,
      p99Us: percentile(measured, 99) * 1000,
      dropRate: offered === 0 ? 0 : (offered - accepted) / offered,
    },
    info: { samples: count, p90Us: percentile(measured, 90) * 1000, maxUs: percentile(measured, 100) * 1000 },
  };
}

export interface DropOptions {
  readonly n: number;
  /** Subscribers whose handler never settles: after 1 in hand + capacity queued, all offers drop. */
  readonly stuck: number;
  readonly warmupMs: number;
  readonly roundMs: number;
  readonly rounds: number;
}

/**
 * The drop path: `stuck` of `n` subscribers are stuck (an async handler awaiting a promise that
 * never resolves), so with 9 of 10 stuck 90% of offers are dropped. Publishes in bursts of 100
 * with a yield between (the healthy subscriber drains), and times only the synchronous publish
 * loops. Metric: publish time divided by drops, in ns: the amortized cost of one drop in a
 * workload where 90% of offers drop (the 10% enqueued are inside the same time on both sides).
 */
export async function runDrop(factory: SubjectFactory, options: DropOptions): Promise<CaseResult> {
  // Three subjects in one process, measured in alternating rounds: with the stuck subscribers, the
  // same without them, and none at all. The marginal cost of a drop is what the stuck ones add,
  // per drop; the work done once per publish whatever the subscribers (validation, the frozen
  // copy, stamping, in the node) is its own figure, not hidden in it.
  const live = options.n - options.stuck;
  const withStuck = await factory({ n: options.n, capacity: 100, handler: (_event, i) => (i < options.stuck ? NEVER : undefined) });
  const withoutStuck = await factory({ n: live, capacity: 100, handler: () => undefined });
  const empty = await factory({ n: 0, capacity: 100, handler: () => undefined });
  let seq = 0;
  // Fill the stuck mailboxes: 1 in hand + 100 queued.
  for (let k = 0; k < 3; k++) {
    await publishMany(withStuck, BURST, () => seq++);
    await (withStuck.yield ?? macrotask)();
  }

  /** Publish time per publish over `ms`, and how many offers were accepted per publish. */
  const round = async (subject: Subject, ms: number): Promise<{ msPerPublish: number; acceptedPerPublish: number }> => {
    const yieldFn = subject.yield ?? macrotask;
    let publishMs = 0;
    let publishes = 0;
    let accepted = 0;
    const t0 = performance.now();
    do {
      const b0 = performance.now();
      for (let j = 0; j < BURST; j++) {
        const r = subject.publish(newBlock(seq++));
        accepted += typeof r === 'number' ? r : await r;
      }
      publishMs += performance.now() - b0;
      publishes += BURST;
      await yieldFn();
    } while (performance.now() - t0 < ms);
    return { msPerPublish: publishMs / publishes, acceptedPerPublish: accepted / publishes };
  };

  const measure = async (ms: number): Promise<{ nsPerDrop: number; nsPerPublish: number; dropRate: number }> => {
    const a = await round(withStuck, ms);
    const b = await round(withoutStuck, ms);
    const c = await round(empty, ms);
    const dropsPerPublish = options.n - a.acceptedPerPublish;
    return {
      nsPerDrop: ((a.msPerPublish - b.msPerPublish) * 1e6) / Math.max(1, dropsPerPublish),
      nsPerPublish: c.msPerPublish * 1e6,
      dropRate: dropsPerPublish / options.n,
    };
  };

  await measure(options.warmupMs);
  const drops: number[] = [];
  const publishes: number[] = [];
  let dropRate = 0;
  for (let r = 0; r < options.rounds; r++) {
    const result = await measure(options.roundMs);
    drops.push(result.nsPerDrop);
    publishes.push(result.nsPerPublish);
    dropRate = result.dropRate;
  }
  return { metrics: { nsPerDrop: median(drops), nsPerPublish: median(publishes), dropRate }, info: { drops, publishes } };
}
