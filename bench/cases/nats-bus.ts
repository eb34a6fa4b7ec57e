/**
 * modactor's bus layer between two processes on a real nats-server, beside nats-raw.ts's baselines:
 *
 *   node bench/cases/nats-bus.ts --path core      node A (this process) publishes NewBlock events
 *       through its bus (core NATS); node B (a child process) receives them through its bus:
 *       the boundary checks, the catalogue, per-origin order, and a minimal node port that counts.
 *   node bench/cases/nats-bus.ts --path durable   the same with NewBlock durable: JetStream, the
 *       sender's window of acknowledgements and its batches (`--batch`, default 100); also
 *       `ackedPerSec`, the events the stream acknowledged to A per second (A's side alone).
 *
 * Each round ends with a marker event on the same path; B answers it (over the fork channel) with
 * what it received, so events/s is what B received over the round's time. A bursts 1,000 events
 * between yields to the event loop, as a node's publishers would. The node layer is not in this
 * measurement (a minimal port stands in for it): it isolates what the bus itself costs.
 * Options: --events N per round (default 100,000), --rounds N (default 5), --warmup-rounds N (1),
 * --child-prof (node B writes a CPU profile into bench/profiles/).
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRealScheduler, type PublishReceipt } from '../../src/index.js';
import { joinBus, type Bus } from '../../src/nats/bus.js';
import type { BusPort, StampedEvent } from '../../src/nats/port.js';
import { startNatsServer } from '../../src/nats/server.js';
import { parseArgs } from '../lib/args.js';
import { macrotask, newBlock } from '../lib/subject.js';

/** A millisecond's pause (the durable publisher's back-off: waiting, not spinning). */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));
import { CpuPerEvent, median, runCase, type CaseResult } from '../lib/report.js';

const args = parseArgs();
const SELF = fileURLToPath(import.meta.url);
const events = args.number('events', 100_000);
const rounds = args.number('rounds', 5);
const warmup = args.number('warmup-rounds', 1);
const path = args.string('path', 'core');
const durableTypes = path === 'durable' ? ['NewBlock', 'HealthCheck'] : [];

const RECEIPT: PublishReceipt = { enqueued: 1, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 };

/** The least a node port can be: local events from the bench, remote ones counted. */
class BenchPort implements BusPort {
  private listener: (event: StampedEvent) => void = () => undefined;
  private seq = 0;
  received = 0;
  onRoundEnd: () => void = () => undefined;
  constructor(readonly nodeId: string) {}
  onLocalEvent(listener: (event: StampedEvent) => void): () => void {
    this.listener = listener;
    return () => undefined;
  }
  injectRemote(raw: unknown): PublishReceipt {
    if ((raw as { type: string }).type === 'HealthCheck') this.onRoundEnd();
    else this.received++;
    return RECEIPT;
  }
  onMembership(): { loaded: []; stop(): void } {
    return { loaded: [], stop: () => undefined };
  }
  announceRemote(): void {}
  retireRemote(): void {}
  publish(type: string, payload: unknown): void {
    this.listener({ type, payload, meta: { source: 'bench', seq: ++this.seq, time: 0 } });
  }
}

const join = (port: BenchPort, url: string): Promise<Bus> =>
  joinBus(port, { servers: url, prefix: 'bench', scheduler: createRealScheduler(), durableTypes, durable: { batchMax: args.number('batch', 100) } });

/** Node B: counts, answers each round's marker with the count, over the fork channel. */
async function receiver(url: string): Promise<void> {
  const port = new BenchPort('b');
  const bus = await join(port, url);
  port.onRoundEnd = () => {
    const stats = bus.stats()[path === 'durable' ? 'durable' : 'core'];
    const cpu = process.cpuUsage();
    process.send?.({ received: port.received, missed: stats.missed, cpuUs: cpu.user + cpu.system });
    port.received = 0;
  };
  process.send?.('ready');
  process.on('disconnect', () => void bus.close().then(() => process.exit(0)));
}

async function main(): Promise<CaseResult> {
  const server = await startNatsServer();
  try {
    const port = new BenchPort('a');
    const bus = await join(port, server.url);
    const execArgv = SELF.endsWith('.ts') ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
    const profile = args.flag('child-prof') ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : [];
    const child = fork(SELF, ['--child', server.url, '--path', path], { execArgv: [...execArgv, ...profile] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const perRound: number[] = [];
    const ackedPerRound: number[] = [];
    const cpu = new CpuPerEvent(warmup);
    let missed = 0;
    for (let round = 0; round < warmup + rounds; round++) {
      const answer = new Promise<{ received: number; missed: number; cpuUs: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer from node B within 60 s: ${JSON.stringify(bus.stats())}`)), 60_000);
        child.once('message', (m: { received: number; missed: number; cpuUs: number }) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
      const started = performance.now();
      for (let i = 0; i < events; i++) {
        port.publish('NewBlock', newBlock(round * events + i).payload);
        if (i % 1000 === 999) {
          await macrotask();
          // Durable: the bus queues what its window of acknowledgements does not let out yet;
          // like the IPC case's publisher, back off while the queue is half full (nothing dropped).
          while (path === 'durable' && bus.stats().durable.pending > 5000) await pause();
        }
      }
      port.publish('HealthCheck', { checkType: 'round-end', nodeHealthy: true });
      if (path === 'durable') {
        await bus.durableSettled();
        if (round >= warmup) ackedPerRound.push(((events + 1) / (performance.now() - started)) * 1000);
      }
      const { received, missed: total, cpuUs } = await answer;
      const ms = performance.now() - started;
      cpu.round(round, received, cpuUs);
      if (round >= warmup) {
        perRound.push((received / ms) * 1000);
        missed = total;
      }
    }
    child.disconnect();
    const stats = bus.stats();
    await bus.close();
    return {
      metrics: { eventsPerSec: median(perRound), ...(path === 'durable' ? { ackedPerSec: median(ackedPerRound) } : {}), ...cpu.perEvent() },
      info: { events, rounds, path, missedAtReceiver: missed, sender: path === 'durable' ? stats.durable : stats.core },
    };
  } finally {
    await server.dispose();
  }
}

const childOf = args.string('child', '');
if (childOf !== '') void receiver(childOf);
else runCase(main);
