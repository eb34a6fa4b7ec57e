/**
 * Events per second from a host to one out-of-process module, side by side:
 *
 *   node --import tsx bench/cases/ipc.ts --impl batched   a node publishing NewBlock events to a
 *       process module (defineProcessModule + runModule): validation, routing, the host-side
 *       mailbox, batches under the credit window, acknowledgements, with the module's bound of 100
 *       holding across the boundary. The publisher backs off (a microtask, then a macrotask) when
 *       the module is full, so nothing is dropped and every event counts.
 *   node --import tsx bench/cases/ipc.ts --impl raw       the baseline: child_process.fork with
 *       JSON serialization and one `child.send(event)` per event, no flow control at all.
 *
 * Both measure the time from the first event sent to the child reporting it handled the last one,
 * over `--rounds` rounds of `--events` events after `--warmup-rounds` (the JIT warms up both
 * processes); the metric is the median round.
 * Options: --events N (default 20000), --rounds N (default 8), --warmup-rounds N (default 2),
 * --credits N and --capacity N (batched; default the manifest's defaults: a capacity of 100, the
 * module's bound across the boundary, and a credit window equal to it),
 * --child-prof (batched: the module child writes a CPU profile into bench/profiles/).
 *
 * The same file is the child of both: `--child raw` (counts messages) or, started by the node,
 * the process module (counts events, publishes a HealthCheck at the end of each round).
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from '../lib/args.js';
import { median, runCase, type CaseResult } from '../lib/report.js';
import { macrotask, newBlock } from '../lib/subject.js';

const args = parseArgs();
const SELF = fileURLToPath(import.meta.url);
const events = args.number('events', 20_000);
const rounds = args.number('rounds', 8);
const warmup = Math.max(1, args.number('warmup-rounds', 2));

/**
 * CPU time per event in each process, over the measured rounds: a figure that holds on a busy
 * machine, where the events/s of two processes competing for cores with others do not.
 */
class CpuMeter {
  private host = 0;
  private child = 0;
  private hostNow = 0;
  private childNow = 0;

  round(round: number, childCpuUs: number): void {
    const hostCpu = process.cpuUsage();
    const hostUs = hostCpu.user + hostCpu.system;
    if (round === warmup - 1) {
      this.host = hostUs;
      this.child = childCpuUs;
    } else if (round >= warmup) {
      this.hostNow = hostUs;
      this.childNow = childCpuUs;
    }
  }

  perEvent(): { hostCpuUsPerEvent: number; childCpuUsPerEvent: number } {
    const n = events * rounds;
    return { hostCpuUsPerEvent: (this.hostNow - this.host) / n, childCpuUsPerEvent: (this.childNow - this.child) / n };
  }
}

function result(times: number[], info: Record<string, unknown>): CaseResult {
  const perRound = times.map((ms) => (events / ms) * 1000);
  return { metrics: { eventsPerSec: median(perRound) }, info: { events, rounds, roundsMs: times.map((t) => Math.round(t)), ...info } };
}

async function raw(): Promise<CaseResult> {
  // Run as TypeScript through tsx, or transpiled by the bench driver: the child is this very file.
  const execArgv = SELF.endsWith('.ts') ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  const child = fork(SELF, ['--child', 'raw', '--events', String(events)], { execArgv, serialization: 'json' });
  let done: (childCpu: number) => void = () => undefined;
  child.on('message', (cpu: NodeJS.CpuUsage) => done(cpu.user + cpu.system));
  const times: number[] = [];
  const cpu = new CpuMeter();
  for (let round = 0; round < warmup + rounds; round++) {
    const finished = new Promise<number>((resolve) => (done = resolve));
    const started = performance.now();
    for (let i = 0; i < events; i++) child.send(newBlock(round * events + i));
    cpu.round(round, await finished);
    if (round >= warmup) times.push(performance.now() - started);
  }
  child.kill();
  return result(times, { transport: 'fork IPC, json, one message per event', ...cpu.perEvent() });
}

async function batched(): Promise<CaseResult> {
  const { createNode, defineModule, defineProcessModule, EventType } = await import('../../src/index.js');
  const node = createNode();
  let done: (childCpu: number) => void = () => undefined;
  await node.load(
    defineModule({
      name: 'round-watcher',
      version: '1.0.0',
      subscribe: [EventType.HealthCheck],
      handle: (event) => done(event.type === 'HealthCheck' ? Number(event.payload.healthReport) : 0),
    }),
  );
  const credits = args.number('credits', 0);
  const capacity = args.number('capacity', 0);
  const sink = defineProcessModule({
      name: 'bench-sink',
      version: '1.0.0',
      entry: SELF,
      args: ['--events', String(events)],
      subscribe: [EventType.NewBlock],
      publishes: [EventType.HealthCheck],
      ...(credits > 0 ? { credits } : {}),
      ...(capacity > 0 ? { mailboxCapacity: capacity } : {}),
      ...(args.flag('child-prof') ? { execArgv: ['--cpu-prof', '--cpu-prof-dir=bench/profiles'] } : {}),
    });
  await node.load(sink);
  const times: number[] = [];
  const cpu = new CpuMeter();
  let backoffs = 0;
  for (let round = 0; round < warmup + rounds; round++) {
    const finished = new Promise<number>((resolve) => (done = resolve));
    const started = performance.now();
    let yielded = false;
    for (let i = 0; i < events; ) {
      if (node.events.publish(newBlock(round * events + i)).dropped === 0) {
        i++;
        yielded = false;
      } else {
        // Full: first a microtask (the host actor forwards what its credits allow), then, if
        // still full, a macrotask (the child's acknowledgements come in).
        backoffs++;
        if (yielded) await macrotask();
        else await Promise.resolve();
        yielded = !yielded;
      }
    }
    cpu.round(round, await finished);
    if (round >= warmup) times.push(performance.now() - started);
  }
  const stats = await node.events.getDeliveryStats('bench-sink');
  await node.shutdown();
  const { credits: window, mailboxCapacity } = sink.manifest;
  return result(times, { transport: 'process module, batched under credits', credits: window, capacity: mailboxCapacity, backoffs, ...cpu.perEvent(), stats });
}

if (args.string('child', '') === 'raw') {
  // The raw baseline's child: one message per event, a reply after each round.
  let count = 0;
  process.on('message', () => {
    if (++count % events === 0) process.send?.(process.cpuUsage());
  });
  process.on('disconnect', () => process.exit(0));
} else if (process.env['MODACTOR_CHANNEL_FD'] !== undefined) {
  // The process module: counts events, says so at the end of each round.
  const { runModule } = await import('../../src/ipc/sdk.js');
  let count = 0;
  await runModule({
    name: 'bench-sink',
    version: '1.0.0',
    handle(_event, ctx) {
      if (++count % events === 0) {
        const cpu = process.cpuUsage();
        void ctx.publish({ type: 'HealthCheck', payload: { checkType: 'round', nodeHealthy: true, healthReport: `${cpu.user + cpu.system}` } });
      }
    },
  });
} else {
  runCase(() => (args.string('impl', 'batched') === 'raw' ? raw() : batched()));
}
