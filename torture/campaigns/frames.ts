/**
 * Torture campaign (b): malformed frames from real child processes.
 *
 * Modules whose children speak the protocol by hand (frames-child.ts) are loaded in waves. Each
 * incarnation, once announced, writes a script in one go: frames the node must refuse with a code
 * (the first incarnation of a module within its refusal budget, the next ones a flood past it)
 * (unpermitted and reserved publishes, unknown types, invalid payloads, non-events, publishes over
 * the rate limit, subscriptions outside the manifest), then one protocol violation (not JSON,
 * garbage bytes, wrong shapes and types, out-of-protocol messages, frames too deep, too large, log
 * records too large or of no level), then trailing frames. The node must refuse each refusable
 * frame with a code until the module's refusal budget runs out (a flood: a violation), disconnect
 * the child at the violation, restart it, and never crash. The oracle, from
 * docs/process-modules.md, checks per module that every frame the node read ended in exactly one
 * counted outcome (accepted, refused with a code, or the violation), that every incarnation ended
 * in a protocol violation (of a frame, or of the refusal budget), and that the frames a child wrote
 * that the node never read all belong to incarnations a violation closed; and, at the end, that no
 * child process is left.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import {
  EventType,
  createNode,
  defineModule,
  defineProcessModule,
  type NodeEvent,
  type ProcessModule,
  type ProcessModuleStatus,
} from '../../src/index.js';
import { Waiter, watchHost, type CampaignOptions, type CampaignResult } from '../lib/campaign.js';
import { exited } from '../lib/processes.js';

/** Kinds of protocol violation a child ends its script with (see frames-child.ts). */
export const VIOLATION_KINDS = [
  'not-json',
  'garbage',
  'array',
  'unknown-type',
  'wrong-type',
  'extra-field',
  'second-hello',
  'ack-overflow',
  'deep',
  'oversized',
  'log-too-long',
  'bad-log-level',
  'huge-ack',
] as const;

/** Counters of one module, as the oracle reads them. */
export type FrameCounters = Pick<
  ProcessModuleStatus,
  | 'spawned'
  | 'crashes'
  | 'protocolViolations'
  | 'heartbeatTimeouts'
  | 'notReading'
  | 'framesReceived'
  | 'framesAccepted'
  | 'framesRefused'
  | 'framesViolating'
  | 'refusedNotPermitted'
  | 'refusedRateLimited'
  | 'refusedInvalid'
  | 'refusedSubscriptions'
>;

/**
 * The oracle for one module after `incarnations` misbehaving incarnations (and one well-behaved
 * one that was unloaded), of which the children said they wrote `written` malformed frames;
 * `announced` children were announced (`ModuleLoaded`). A child killed before it was announced (no
 * handshake within the startup timeout, on a loaded machine) is restarted unannounced, as
 * documented, and takes no turn: each is one crash more, never a violation. Returns what is wrong,
 * one line each.
 */
export function checkModule(name: string, status: FrameCounters, incarnations: number, written: number, announced: number = incarnations + 1): string[] {
  const failures: string[] = [];
  const fail = (text: string): void => void failures.push(`${name}: ${text}`);
  if (status.framesReceived !== status.framesAccepted + status.framesRefused + status.framesViolating) {
    fail(`frames read ${status.framesReceived} != accepted ${status.framesAccepted} + refused ${status.framesRefused} + violating ${status.framesViolating}`);
  }
  const byKind = status.refusedNotPermitted + status.refusedRateLimited + status.refusedInvalid + status.refusedSubscriptions;
  if (status.framesRefused !== byKind) fail(`frames refused ${status.framesRefused} != refused by code ${byKind}`);
  if (status.protocolViolations !== incarnations) fail(`${status.protocolViolations} violations for ${incarnations} misbehaving incarnations`);
  const unannounced = status.spawned - announced;
  if (announced !== incarnations + 1) fail(`${announced} incarnations announced, expected ${incarnations + 1}`);
  if (status.crashes !== incarnations + unannounced) {
    fail(`${status.crashes} crashes for ${incarnations} misbehaving incarnations and ${unannounced} killed before they were announced (another kind of end)`);
  }
  if (status.heartbeatTimeouts !== 0 || status.notReading !== 0) fail('an incarnation ended otherwise than by a violation');
  if (status.framesViolating > status.protocolViolations) fail(`${status.framesViolating} violating frames for ${status.protocolViolations} violations`);
  const counted = status.framesRefused + status.framesViolating;
  if (counted > written) fail(`${counted} malformed frames counted, more than the ${written} written`);
  return failures;
}

/** Runs the campaign: ≥ 100,000 malformed frames, or a few thousand with `quick`. */
export async function run(options: CampaignOptions): Promise<CampaignResult> {
  const { quick, log } = options;
  const modules = quick ? 4 : 60;
  const incarnations = 2;
  const refused = quick ? 300 : 450;
  const trailers = 50;
  const wave = quick ? 4 : 10;
  const maxMessageBytes = 64 * 1024;
  const dir = mkdtempSync(join(tmpdir(), 'modactor-frames-'));
  const failures: string[] = [];
  const host = watchHost();
  const hostErrors = host.errors;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  const node = createNode({ logger: pino({ level: 'silent' }) });
  const crashes: NodeEvent[] = [];
  const loaded = new Map<string, number>();
  const waiter = new Waiter();
  await node.load(
    defineModule({
      name: 'frames-observer',
      version: '1.0.0',
      subscribe: [EventType.ModuleCrashed, EventType.ModuleLoaded],
      mailboxCapacity: 100_000,
      handle(event) {
        if (event.type === 'ModuleCrashed') crashes.push(event);
        if (event.type === 'ModuleLoaded') loaded.set(event.payload.moduleName, (loaded.get(event.payload.moduleName) ?? 0) + 1);
        waiter.notify();
      },
    }),
  );
  const defined: ProcessModule[] = [];
  try {
    for (let first = 0; first < modules; first += wave) {
      const names = Array.from({ length: Math.min(wave, modules - first) }, (_, i) => `frames-${first + i}`);
      const batch = names.map((name, i) => {
        const offset = (first + i) % VIOLATION_KINDS.length;
        const kinds = [...VIOLATION_KINDS.slice(offset), ...VIOLATION_KINDS.slice(0, offset)];
        return defineProcessModule({
          name,
          version: '1.0.0',
          entry: new URL('./frames-child.ts', import.meta.url),
          subscribe: [EventType.ModuleLoaded],
          publishes: [EventType.HealthCheck],
          publishRateLimit: { perSecond: 1, burst: 50 },
          maxMessageBytes,
          restart: { maxRestarts: incarnations + 1, withinMs: 3_600_000 },
          args: [
            '--name', name, '--dir', dir, '--kinds', kinds.join(','),
            '--refused', String(refused), '--trailers', String(trailers),
            '--incarnations', String(incarnations), '--max-message-bytes', String(maxMessageBytes),
          ],
        });
      });
      defined.push(...batch);
      await Promise.all(batch.map((module) => node.load(module)));
      // Every misbehaving incarnation crashed and the well-behaved one after them was announced.
      try {
        await waiter.until(() => names.every((name) => (loaded.get(name) ?? 0) >= incarnations + 1), `modules ${names[0]}.. announced ${incarnations + 1} times`, 180_000);
      } catch (error) {
        // No progress: say where each module of the wave is, and stop (the node still shuts down).
        const where = batch.map((m) => {
          const st = m.status();
          return `${m.name}: announced ${loaded.get(m.name) ?? 0}, spawned ${st.spawned}, crashes ${st.crashes}, pid ${st.pid ?? 'none'}, last failure ${st.lastFailure ?? 'none'}`;
        });
        const states = (await node.modules()).filter((info) => names.includes(info.name)).map((info) => `${info.name} ${info.state} after ${info.restarts} restarts`);
        failures.push(`${error instanceof Error ? error.message : String(error)}`, ...where, `node.modules(): ${states.join('; ')}`);
        break;
      }
      await Promise.all(names.map((name) => node.unload(name)));
      log(`frames: ${first + names.length}/${modules} modules done`);
    }
  } finally {
    await node.shutdown();
    delay.disable();
    host.stop();
  }

  // What the children said they wrote, and who they were.
  // Each child records itself when it starts, and again with what it planned once announced.
  const written = new Map<string, number>();
  const children = new Set<number>();
  for (const line of readFileSync(join(dir, 'pids'), 'utf8').split('\n')) {
    if (line === '') continue;
    const [pid, name, , planned] = line.split(' ');
    children.add(Number(pid));
    written.set(name as string, (written.get(name as string) ?? 0) + Number(planned));
  }
  const pids = [...children];
  rmSync(dir, { recursive: true, force: true });

  const totals = { spawned: 0, unannounced: 0, written: 0, read: 0, accepted: 0, refused: 0, violating: 0, budgetViolations: 0, notPermitted: 0, rateLimited: 0, invalid: 0, subscriptions: 0 };
  for (const module of defined) {
    const status = module.status();
    const wrote = written.get(module.name) ?? 0;
    failures.push(...checkModule(module.name, status, incarnations, wrote, loaded.get(module.name) ?? 0));
    totals.unannounced += status.spawned - (loaded.get(module.name) ?? 0);
    totals.spawned += status.spawned;
    totals.written += wrote;
    totals.read += status.framesReceived;
    totals.accepted += status.framesAccepted;
    totals.refused += status.framesRefused;
    totals.violating += status.framesViolating;
    totals.budgetViolations += status.protocolViolations - status.framesViolating;
    totals.notPermitted += status.refusedNotPermitted;
    totals.rateLimited += status.refusedRateLimited;
    totals.invalid += status.refusedInvalid;
    totals.subscriptions += status.refusedSubscriptions;
  }
  if (pids.length !== totals.spawned) failures.push(`${pids.length} children recorded, the node spawned ${totals.spawned}`);
  const badCrashes = crashes.filter((e) => e.type === 'ModuleCrashed' && !/^protocol violation: .+: disconnected$/.test(e.payload.error));
  for (const crash of badCrashes.slice(0, 5)) failures.push(`a crash that is not a protocol violation: ${JSON.stringify(crash.payload)}`);
  if (crashes.length !== modules * incarnations) failures.push(`${crashes.length} ModuleCrashed events, expected ${modules * incarnations}`);
  const orphans = pids.filter((pid) => !exited(pid));
  if (orphans.length > 0) failures.push(`${orphans.length} child processes still running: ${orphans.slice(0, 5).join(', ')}`);
  for (const error of hostErrors.slice(0, 5)) failures.push(`host error: ${error}`);
  const counted = totals.refused + totals.violating;
  const figures: Record<string, number | string> = {
    modules,
    children: pids.length,
    startupTimeouts: totals.unannounced,
    malformedWritten: totals.written,
    framesRead: totals.read,
    framesAccepted: totals.accepted,
    refusedNotPermitted: totals.notPermitted,
    refusedRateLimited: totals.rateLimited,
    refusedInvalid: totals.invalid,
    refusedSubscriptions: totals.subscriptions,
    violatingFrames: totals.violating,
    budgetViolations: totals.budgetViolations,
    malformedCounted: counted,
    closedUnread: totals.written - counted,
    hostCrashes: hostErrors.length,
    orphans: orphans.length,
    eventLoopDelayP99Ms: Math.round(delay.percentile(99) / 1e5) / 10,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  log(`frames: ${JSON.stringify(figures)}`);
  return { name: 'frames', figures, failures };
}
