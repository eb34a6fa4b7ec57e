/**
 * The raw NATS client on a real nats-server, the baselines for modactor's cross-node numbers:
 *
 *   node bench/cases/nats-raw.ts --impl core        a publisher (this process) sends one JSON
 *       NewBlock event per message on core NATS; a subscriber in a child process parses each
 *       message (JSON.parse) and counts it. Each round ends with a marker the subscriber answers
 *       with its count; events/s is what the subscriber received over the round's time.
 *   node bench/cases/nats-raw.ts --impl jetstream   the publisher sends batches of `--batch`
 *       events (default 100) per JetStream message to a file-backed stream, with at most
 *       `--window` (default 32) messages awaiting their acknowledgement; a durable pull consumer in
 *       a child process parses every batch. `ackedPerSec`: events the stream acknowledged per
 *       second; `eventsPerSec`: events the consumer received per second (end to end).
 *
 * The server is started by the case (the project's own nats-server, see src/nats/server.ts) and
 * stopped at the end. Options: --events N per round (default 100,000), --rounds N (default 5),
 * --warmup-rounds N (default 1). The metric is the median round.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from '../../src/nats/server.js';
import { parseArgs } from '../lib/args.js';
import { CpuPerEvent, median, runCase, type CaseResult } from '../lib/report.js';
import { newBlock } from '../lib/subject.js';

const args = parseArgs();
const SELF = fileURLToPath(import.meta.url);
const events = args.number('events', 100_000);
const rounds = args.number('rounds', 5);
const warmup = args.number('warmup-rounds', 1);

/** The subscriber child: counts and parses core events, answers each round's marker. */
async function subscriber(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  let count = 0;
  let heights = 0;
  nc.subscribe('bench.ev.>', {
    callback: (_error, msg) => {
      const event = JSON.parse(msg.string()) as { payload: { height: number } };
      heights += event.payload.height > -1 ? 1 : 0;
      count++;
    },
  });
  nc.subscribe('bench.end', {
    callback: (_error, msg) => {
      const cpu = process.cpuUsage();
      msg.respond(JSON.stringify({ count, parsed: heights, cpuUs: cpu.user + cpu.system }));
      count = 0;
      heights = 0;
    },
  });
  await nc.flush();
  process.send?.('ready');
  process.on('disconnect', () => void nc.close().then(() => process.exit(0)));
}

async function core(nc: NatsConnection, url: string): Promise<CaseResult> {
  const child = fork(SELF, ['--child', url], { execArgv: tsxArgv() });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const perRound: number[] = [];
  const cpu = new CpuPerEvent(warmup);
  let lost = 0;
  for (let round = 0; round < warmup + rounds; round++) {
    const started = performance.now();
    for (let i = 0; i < events; i++) {
      nc.publish('bench.ev.a.NewBlock', JSON.stringify(newBlock(round * events + i)));
      if (i % 10_000 === 9_999) await nc.flush(); // keep the client's buffer bounded, as a real publisher must
    }
    const reply = await nc.request('bench.end', '', { timeout: 60_000 });
    const { count, cpuUs } = JSON.parse(reply.string()) as { count: number; cpuUs: number };
    const ms = performance.now() - started;
    cpu.round(round, count, cpuUs);
    if (round >= warmup) {
      perRound.push((count / ms) * 1000);
      lost += events - count;
    }
  }
  child.disconnect();
  return { metrics: { eventsPerSec: median(perRound), ...cpu.perEvent() }, info: { events, rounds, lost, transport: 'core NATS, one JSON event per message, subscriber parses' } };
}

/** The JetStream consumer child: a durable pull consumer parsing each batch, answering each round's end marker. */
async function consumer(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  let count = 0;
  const messages = await (await js.consumers.get('bench-durable', 'reader')).consume({
    max_messages: 256,
    callback: (msg) => {
      const body = JSON.parse(msg.string()) as { events?: { payload: { height: number } }[] };
      if (body.events === undefined) {
        const cpu = process.cpuUsage();
        process.send?.({ count, cpuUs: cpu.user + cpu.system });
        count = 0;
      } else {
        for (const event of body.events) if (event.payload.height > -1) count++;
      }
      msg.ack();
    },
  });
  process.send?.('ready');
  process.on('disconnect', () => void messages.close().then(() => nc.close()).then(() => process.exit(0)));
}

async function durable(nc: NatsConnection, url: string): Promise<CaseResult> {
  const batch = args.number('batch', 100);
  const window = args.number('window', 32);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'bench-durable', subjects: ['bench.dur.>'] });
  await jsm.consumers.add('bench-durable', { durable_name: 'reader', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
  const child = fork(SELF, ['--child-js', url], { execArgv: tsxArgv() });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const js = jetstream(nc);
  const acked: number[] = [];
  const received: number[] = [];
  const cpu = new CpuPerEvent(warmup);
  const messages = Math.ceil(events / batch);
  for (let round = 0; round < warmup + rounds; round++) {
    const answer = new Promise<{ count: number; cpuUs: number }>((resolve) => child.once('message', resolve));
    const started = performance.now();
    let inFlight = 0;
    let freed: () => void = () => undefined;
    for (let m = 0; m < messages; m++) {
      while (inFlight >= window) await new Promise<void>((resolve) => (freed = resolve));
      const body = JSON.stringify({ events: Array.from({ length: batch }, (_, i) => newBlock(round * events + m * batch + i)) });
      inFlight++;
      void js.publish('bench.dur.a', body).then(() => {
        inFlight--;
        freed();
      });
    }
    await js.publish('bench.dur.a', JSON.stringify({ end: round }));
    while (inFlight > 0) await new Promise<void>((resolve) => (freed = resolve));
    const ackedMs = performance.now() - started;
    const { count, cpuUs } = await answer;
    const ms = performance.now() - started;
    cpu.round(round, count, cpuUs);
    if (round >= warmup) {
      acked.push(((messages * batch) / ackedMs) * 1000);
      received.push((count / ms) * 1000);
    }
  }
  child.disconnect();
  return {
    metrics: { ackedPerSec: median(acked), eventsPerSec: median(received), ...cpu.perEvent() },
    info: { events, rounds, batch, window, transport: 'JetStream, file store, batches per message, window of acks, a durable pull consumer in another process' },
  };
}

/** The child's --import tsx when this case runs as TypeScript. */
function tsxArgv(): string[] {
  return SELF.endsWith('.ts') ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
}

async function main(): Promise<CaseResult> {
  const server = await startNatsServer();
  try {
    const nc = await connect({ servers: server.url });
    try {
      return args.string('impl', 'core') === 'jetstream' ? await durable(nc, server.url) : await core(nc, server.url);
    } finally {
      await nc.close();
    }
  } finally {
    await server.dispose();
  }
}

const childOf = args.string('child', '');
const consumerOf = args.string('child-js', '');
if (childOf !== '') void subscriber(childOf);
else if (consumerOf !== '') void consumer(consumerOf);
else runCase(main);
