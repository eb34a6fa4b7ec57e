/**
 * modactor across nodes on a real nats-server, beside nats-raw.ts's baselines:
 *
 *   node bench/cases/nats-bus.ts --impl node --path core     node A (this process: createNode +
 *       connectBus) publishes NewBlock events with node.events.publish; node B (a child process:
 *       createNode + connectBus) delivers each to `--modules` modules (default 10) that count it.
 *       Everything a node does is in it: validation and stamping on A, the bus both ways, the
 *       boundary and the validated, stamped, counted offers on B, each module's turn.
 *   node bench/cases/nats-bus.ts --impl port                 the bus layer alone: a minimal node
 *       port on each side (local events handed to the bus, remote ones counted): what the bus costs.
 *   --path durable                                            NewBlock is durable: JetStream, the
 *       sender's window of acknowledgements and its batches (`--batch`, default 100); also
 *       `ackedPerSec`, the events the stream acknowledged to A per second (A's side alone).
 *
 * Each round ends with a marker (a HealthCheck on the same path); B answers it over the fork
 * channel once every module took it (each module's events arrive in order, so by then it took the
 * round's events), with the events received and its CPU time; events/s is what B received over the
 * round's time. A bursts 1,000 events between yields to the event loop, as a node's publishers
 * would. Options: --events N per round (default 100,000), --rounds N (default 5), --warmup-rounds N
 * (1), --capacity N (B's module mailboxes; default a round's events and its marker: the modules
 * may fall behind within a round, nothing is dropped, and the round ends when they caught up), --child-prof
 * (node B writes a CPU profile into bench/profiles/).
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createNode, createRealScheduler, defineModule, EventType, type PublishReceipt } from '../../src/index.js';
import { joinBus, type Bus } from '../../src/nats/bus.js';
import { connectBus } from '../../src/nats/connect-bus.js';
import type { BusPort, StampedEvent } from '../../src/nats/port.js';
import { startNatsServer } from '../../src/nats/server.js';
import { parseArgs } from '../lib/args.js';
import { macrotask, newBlock } from '../lib/subject.js';
import { CpuPerEvent, median, runCase, type CaseResult } from '../lib/report.js';

/** A millisecond's pause (the durable publisher's back-off: waiting, not spinning). */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

const args = parseArgs();
const SELF = fileURLToPath(import.meta.url);
const events = args.number('events', 100_000);
const rounds = args.number('rounds', 5);
const warmup = args.number('warmup-rounds', 1);
const path = args.string('path', 'core');
const impl = args.string('impl', 'node');
const modules = args.number('modules', 10);
const capacity = args.number('capacity', events + 1);
const settings = {
  prefix: 'bench',
  durableTypes: path === 'durable' ? ['NewBlock', 'HealthCheck'] : [],
  durable: { batchMax: args.number('batch', 100) },
} as const;
const MARKER = { type: 'HealthCheck', payload: { checkType: 'round-end', nodeHealthy: true } } as const;

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
  publish(event: { type: string; payload: unknown }): void {
    this.listener({ ...event, meta: { source: 'bench', seq: ++this.seq, time: 0 } });
  }
}

/** One side of the measurement: a publish function and the bus. */
interface Side {
  readonly bus: Bus;
  publish(event: { type: string; payload: unknown }): void;
}

async function side(nodeId: string, url: string, onRoundEnd: (received: number) => void): Promise<Side> {
  if (impl === 'port') {
    const port = new BenchPort(nodeId);
    port.onRoundEnd = () => {
      onRoundEnd(port.received);
      port.received = 0;
    };
    const bus = await joinBus(port, { servers: url, scheduler: createRealScheduler(), ...settings });
    return { bus, publish: (event) => port.publish(event) };
  }
  const node = createNode();
  // B's modules: each counts the round's events and says when it took the marker.
  let received = 0;
  let marked = 0;
  for (let i = 0; i < (nodeId === 'b' ? modules : 0); i++) {
    await node.load(
      defineModule({
        name: `m${i}`,
        version: '1.0.0',
        subscribe: [EventType.NewBlock, EventType.HealthCheck],
        mailboxCapacity: capacity,
        handle(event) {
          if (event.type === 'NewBlock') {
            if (i === 0) received++;
          } else if (++marked === modules) {
            marked = 0;
            onRoundEnd(received);
            received = 0;
          }
        },
      }),
    );
  }
  const bus = await connectBus(node, { servers: url, nodeId, ...settings });
  return { bus, publish: (event) => node.events.publish(event as never) };
}

/** Node B: answers each round's marker with what it received and its CPU time, over the fork channel. */
async function receiver(url: string): Promise<void> {
  // The callback runs on a round's marker, long after `b` is set.
  const b: Side = await side('b', url, (received) => {
    const stats = b.bus.stats()[path === 'durable' ? 'durable' : 'core'];
    const cpu = process.cpuUsage();
    process.send?.({ received, missed: stats.missed, cpuUs: cpu.user + cpu.system });
  });
  process.send?.('ready');
  process.on('disconnect', () => void b.bus.close().then(() => process.exit(0)));
}

async function main(): Promise<CaseResult> {
  const server = await startNatsServer();
  try {
    const a = await side('a', server.url, () => undefined);
    const execArgv = SELF.endsWith('.ts') ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
    const profile = args.flag('child-prof') ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] : [];
    const child = fork(SELF, ['--child', server.url, '--path', path, '--impl', impl, '--modules', String(modules), '--capacity', String(capacity)], {
      execArgv: [...execArgv, ...profile],
    });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    // B's modules are announced on A once the bus is up on both: then the rounds start.
    if (impl === 'node') while (a.bus.stats().membership.remoteModules < modules) await pause();
    const perRound: number[] = [];
    const ackedPerRound: number[] = [];
    const cpu = new CpuPerEvent(warmup);
    let missed = 0;
    let height = 0;
    for (let round = 0; round < warmup + rounds; round++) {
      const answer = new Promise<{ received: number; missed: number; cpuUs: number }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer from node B within 60 s: ${JSON.stringify(a.bus.stats())}`)), 60_000);
        child.once('message', (m: { received: number; missed: number; cpuUs: number }) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
      const started = performance.now();
      for (let i = 0; i < events; i++) {
        a.publish(newBlock(++height));
        if (i % 1000 === 999) {
          await macrotask();
          // Durable: the bus queues what its window of acknowledgements does not let out yet;
          // like the IPC case's publisher, back off while the queue is half full (nothing dropped).
          while (path === 'durable' && a.bus.stats().durable.pending > 5000) await pause();
        }
      }
      a.publish(MARKER);
      if (path === 'durable') {
        await a.bus.durableSettled();
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
    const stats = a.bus.stats();
    await a.bus.close();
    return {
      metrics: { eventsPerSec: median(perRound), ...(path === 'durable' ? { ackedPerSec: median(ackedPerRound) } : {}), ...cpu.perEvent() },
      info: { events, rounds, path, impl, modules: impl === 'node' ? modules : 0, missedAtReceiver: missed, sender: path === 'durable' ? stats.durable : stats.core },
    };
  } finally {
    await server.dispose();
  }
}

const childOf = args.string('child', '');
if (childOf !== '') void receiver(childOf);
else runCase(main);
