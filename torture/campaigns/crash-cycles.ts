/**
 * Torture campaign (c): crash cycles with exactly-once membership events and no orphans.
 *
 * 1,000 crash cycles of an in-process module (quick: 50), its handler throwing or rejecting,
 * in turn, every kind of value a careless module throws (Errors, null-prototype objects, objects
 * whose `toString` throws, Errors whose `message` getter throws or is a symbol, revoked proxies,
 * symbols, BigInt, `undefined`, a 100,000-character message); then 100 SIGKILL cycles of a process
 * module (quick: 3), its child killed while events are in flight. Watching: three in-process
 * modules (one with a mailbox of 1, kept busy) and one process module, whose view comes back
 * through the echoes it publishes.
 *
 * The oracle, from docs/event-system.md ("Crash and restart"): every watcher sees, per subject,
 * `ModuleLoaded` once, then exactly `ModuleCrashed`, `ModuleUnloaded`, `ModuleLoaded` per cycle,
 * in that order, nothing twice, nothing missing; `ModuleCrashed.error` is a string of at most
 * 1,024 characters; each subject's statistics count every restart (`incarnations`) and obey the
 * accounting law once it is unloaded (a child that did not start within its startup timeout, on a
 * loaded machine, is restarted unannounced: counted apart as `startupTimeouts`, from the host's
 * counters); no module but the subjects restarted; and once the node
 * shut down, none of the children it spawned is left (`/proc`: each pid recorded, and every
 * process carrying the campaign's marker in its command line).
 */
import { pino } from 'pino';
import { EventType, createNode, defineModule } from '../../src/index.js';
import { echoModule } from '../../actors/process-modules.js';
import { Waiter, capFailures, lawFailures, secondsSince, watchHost, type CampaignOptions, type CampaignResult } from '../lib/campaign.js';
import { exited, processesWith } from '../lib/processes.js';

/** What `ModuleCrashed.error` may hold at most (docs/event-system.md, Containment). */
const MAX_CRASH_ERROR = 1024;

/** What a careless module throws (or rejects with): the i-th crash uses the i-th, in turn. */
const THROWABLES: readonly (() => unknown)[] = [
  () => new Error('boom'),
  () => Object.create(null) as unknown,
  () => ({ toString: () => { throw new Error('no string form'); } }),
  () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('message getter'); } }),
  () => Object.defineProperty(new Error('x'), 'message', { value: Symbol('message') }),
  () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  () => Symbol('thrown'),
  () => 10n,
  () => undefined,
  () => new Error('x'.repeat(100_000)),
];

/** The membership events a watcher sees of one subject, in short. */
type Seen = 'Loaded' | 'Crashed' | 'Unloaded';

/**
 * The oracle for one watcher and one subject: `Loaded`, then `Crashed, Unloaded, Loaded` per
 * cycle, exactly. Returns what is wrong (the first divergence, and the counts), one line.
 */
export function membershipFailures(watcher: string, subject: string, seen: readonly Seen[], cycles: number): string[] {
  const expected: Seen[] = ['Loaded'];
  for (let i = 0; i < cycles; i++) expected.push('Crashed', 'Unloaded', 'Loaded');
  const at = expected.findIndex((event, i) => seen[i] !== event);
  if (at < 0 && seen.length === expected.length) return [];
  const where = at < 0 ? expected.length : at;
  const tally = (list: readonly Seen[]): string => (['Loaded', 'Crashed', 'Unloaded'] as const).map((e) => `${list.filter((s) => s === e).length} ${e}`).join(', ');
  return [
    `${watcher} saw ${subject}: ${tally(seen)} for ${cycles} cycles (expected ${tally(expected)}); first difference at event ${where}: ` +
      `${seen[where] ?? 'nothing'} where ${expected[where] ?? 'nothing'} was expected`,
  ];
}

/** Options of {@link runCrashCycles}: the campaign's, and the number of cycles (tests vary them). */
export interface CrashCyclesOptions extends CampaignOptions {
  readonly inProcessCycles?: number;
  readonly processCycles?: number;
}

export function run(options: CampaignOptions): Promise<CampaignResult> {
  return runCrashCycles(options);
}

export async function runCrashCycles(options: CrashCyclesOptions): Promise<CampaignResult> {
  const { quick, log } = options;
  const inProcessCycles = options.inProcessCycles ?? (quick ? 50 : 1000);
  const processCycles = options.processCycles ?? (quick ? 3 : 100);
  const marker = `torture-crash-cycles-${process.pid}-${Date.now()}`;
  const started = performance.now();
  const host = watchHost();
  const failures: string[] = [];
  const waiter = new Waiter();
  // The node's warnings and errors, to explain a failure.
  const logged: string[] = [];
  const node = createNode({ logger: pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) }) });
  const subjects = ['victim', 'pvictim'];
  const membership = [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded];

  /** Per watcher, per subject: what it saw. */
  const views = new Map<string, Map<string, Seen[]>>();
  const crashErrors: string[] = [];
  const note = (watcher: string, type: string, subject: string): void => {
    if (!subjects.includes(subject)) return;
    let view = views.get(watcher);
    if (view === undefined) views.set(watcher, (view = new Map<string, Seen[]>()));
    let list = view.get(subject);
    if (list === undefined) view.set(subject, (list = []));
    list.push(type.slice('Module'.length) as Seen);
    waiter.notify();
  };
  const loadedSeen = (watcher: string, subject: string): number => (views.get(watcher)?.get(subject) ?? []).filter((s) => s === 'Loaded').length;

  // ---- The watchers -----------------------------------------------------------------------------
  const watchers = ['watch-a', 'watch-b', 'watch-slow'];
  for (const name of watchers) {
    await node.load(
      defineModule({
        name,
        version: '1.0.0',
        subscribe: name === 'watch-slow' ? [...membership, EventType.NewBlock] : membership,
        ...(name === 'watch-slow' ? { mailboxCapacity: 1 } : {}),
        handle(event) {
          if (event.type === 'ModuleCrashed' && name === 'watch-a' && subjects.includes(event.payload.moduleName)) crashErrors.push(event.payload.error);
          if (event.type === 'ModuleLoaded' || event.type === 'ModuleCrashed' || event.type === 'ModuleUnloaded') note(name, event.type, event.payload.moduleName);
        },
      }),
    );
  }
  // The process watcher echoes what it sees as HealthChecks (`ModuleCrashed(victim)`).
  const echoWatcher = echoModule({ name: 'watch-proc', subscribe: membership, args: [marker] });
  await node.load(
    defineModule({
      name: 'echo-reader',
      version: '1.0.0',
      subscribe: [EventType.HealthCheck],
      mailboxCapacity: 10_000,
      handle(event) {
        if (event.type !== 'HealthCheck' || !event.payload.checkType.startsWith('echo:')) return;
        const match = /^(ModuleLoaded|ModuleCrashed|ModuleUnloaded)\((.+)\)$/.exec(event.payload.healthReport ?? '');
        if (match !== null) note('watch-proc', match[1] as string, match[2] as string);
      },
    }),
  );
  await node.load(echoWatcher);
  const pids = new Set<number>();
  const recordPid = (pid: number | undefined): void => void (pid === undefined || pids.add(pid));
  recordPid(echoWatcher.status().pid);
  const allWatchers = [...watchers, 'watch-proc'];
  const restartSeconds: number[] = [];
  let startupFailures = 0;
  const allSeen = (subject: string, count: number): boolean => allWatchers.every((w) => loadedSeen(w, subject) >= count);

  try {
    // ---- In-process crash cycles ----------------------------------------------------------------
    let crashes = 0;
    await node.load(
      defineModule({
        name: 'victim',
        version: '1.0.0',
        subscribe: [EventType.MaintenanceStarted],
        restart: { maxRestarts: inProcessCycles + 10, withinMs: 3_600_000 },
        handle(event) {
          if (event.type !== 'MaintenanceStarted' || event.payload.maintenanceType !== 'crash') return;
          const value = (THROWABLES[crashes % THROWABLES.length] as () => unknown)();
          // Every other kind of crash is a rejection rather than a throw.
          if (Math.floor(crashes++ / THROWABLES.length) % 2 === 1) return Promise.reject(value); // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- a careless module rejects with anything
          throw value;
        },
      }),
    );
    await waiter.until(() => allSeen('victim', 1), 'every watcher to see victim loaded');
    for (let cycle = 1; cycle <= inProcessCycles; cycle++) {
      // Traffic the slow watcher cannot keep up with: membership events must still reach it.
      for (let h = 0; h < 5; h++) node.publisher.newBlock('ab'.repeat(32), cycle * 10 + h);
      node.publisher.maintenanceStarted('crash');
      await waiter.until(() => allSeen('victim', cycle + 1), `every watcher to see victim loaded again after crash ${cycle}`);
      if (cycle % 200 === 0) log(`crash-cycles: ${cycle}/${inProcessCycles} in-process cycles`);
    }

    // ---- Process SIGKILL cycles -----------------------------------------------------------------
    const pvictim = echoModule({
      name: 'pvictim',
      subscribe: [EventType.NewBlock],
      restart: { maxRestarts: processCycles + 10, withinMs: 3_600_000 },
      args: [marker],
    });
    await node.load(pvictim);
    await waiter.until(() => allSeen('pvictim', 1), 'every watcher to see pvictim loaded');
    for (let cycle = 1; cycle <= processCycles; cycle++) {
      const pid = pvictim.status().pid;
      if (pid === undefined) throw new Error(`pvictim has no child before kill ${cycle}`);
      recordPid(pid);
      // Events in flight when it dies: they must end counted (lost), never uncounted.
      for (let h = 0; h < 20; h++) node.publisher.newBlock('cd'.repeat(32), cycle * 100 + h);
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      await waiter.until(() => allSeen('pvictim', cycle + 1), `every watcher to see pvictim loaded again after kill ${cycle}`, 120_000);
      restartSeconds.push((performance.now() - killedAt) / 1000);
      recordPid(pvictim.status().pid);
      if (cycle % 10 === 0) log(`crash-cycles: ${cycle}/${processCycles} SIGKILL cycles`);
    }
    recordPid(echoWatcher.status().pid);

    // ---- The oracle -------------------------------------------------------------------------------
    // Unloading settles each subject: what it held is counted, nothing is pending.
    await node.unload('victim');
    await node.unload('pvictim');
    await waiter.until(() => allWatchers.every((w) => subjects.every((s) => (views.get(w)?.get(s) ?? []).at(-1) === 'Unloaded')), 'every watcher to see both subjects unloaded');
    for (const watcher of allWatchers) {
      for (const [subject, cycles] of [['victim', inProcessCycles], ['pvictim', processCycles]] as const) {
        const seen = views.get(watcher)?.get(subject) ?? [];
        // The unload adds one ModuleUnloaded after the last cycle.
        failures.push(...membershipFailures(watcher, subject, seen.slice(0, -1), cycles));
      }
    }
    // A child that does not start within its startup timeout (on a loaded machine, tsx alone can
    // take that long) is killed and restarted by policy without ever being announced: watchers see
    // nothing of it, as documented. Such incarnations are counted apart, from the host's counters.
    const pstatus = pvictim.status();
    startupFailures = pstatus.crashes - processCycles;
    if (startupFailures < 0) failures.push(`pvictim: ${pstatus.crashes} crashes counted for ${processCycles} kills`);
    if (pstatus.spawned !== processCycles + 1 + startupFailures) failures.push(`pvictim: ${pstatus.spawned} children spawned, expected ${processCycles + 1 + startupFailures}`);
    const stats = await node.events.getAllDeliveryStats();
    for (const [subject, incarnations] of [['victim', inProcessCycles + 1], ['pvictim', pstatus.spawned]] as const) {
      const st = stats.get(subject);
      if (st === undefined) {
        failures.push(`${subject}: no statistics`);
        continue;
      }
      failures.push(...lawFailures(subject, st, true));
      if (st.incarnations !== incarnations) {
        failures.push(`${subject}: ${st.incarnations} incarnations, expected ${incarnations}`);
        for (const line of logged.filter((l) => l.includes(`"${subject}"`) && !l.includes('SIGKILL')).slice(0, 5)) failures.push(`  logged: ${line.slice(0, 600)}`);
      }
    }
    if (stats.get('victim')?.handlerFailed !== inProcessCycles) failures.push(`victim: ${stats.get('victim')?.handlerFailed} handler failures for ${inProcessCycles} crashes`);
    const bad = crashErrors.filter((error) => typeof error !== 'string' || error.length > MAX_CRASH_ERROR);
    if (bad.length > 0) failures.push(`${bad.length} ModuleCrashed.error values not a string of at most ${MAX_CRASH_ERROR} characters`);
    if (crashErrors.length !== inProcessCycles + processCycles) failures.push(`watch-a saw ${crashErrors.length} crashes of the subjects, expected ${inProcessCycles + processCycles}`);
    for (const info of await node.modules()) {
      if (info.restarts !== 0 || info.state !== 'running') failures.push(`${info.name} is ${info.state} after ${info.restarts} restarts`);
    }
    const echoStatus = echoWatcher.status();
    if (echoStatus.crashes !== 0) failures.push(`the process watcher crashed ${echoStatus.crashes} times (${echoStatus.lastFailure ?? ''})`);
  } catch (error) {
    failures.push(`the campaign stopped: ${error instanceof Error ? error.message : String(error)}`);
  }
  await node.shutdown();
  host.stop();

  // ---- No orphans -------------------------------------------------------------------------------
  const orphans = [...pids].filter((pid) => !exited(pid));
  const marked = processesWith(marker);
  if (orphans.length > 0) failures.push(`${orphans.length} children still running after shutdown: ${orphans.slice(0, 5).join(', ')}`);
  if (marked.length > 0) failures.push(`${marked.length} processes with the campaign's marker still running: ${marked.slice(0, 5).join(', ')}`);
  for (const error of host.errors.slice(0, 5)) failures.push(`host error: ${error}`);

  const figures: Record<string, number | string> = {
    inProcessCycles,
    processCycles,
    watchers: allWatchers.length,
    membershipEventsSeen: [...views.values()].reduce((sum, view) => sum + [...view.values()].reduce((n, list) => n + list.length, 0), 0),
    crashesSeen: crashErrors.length,
    longestCrashError: crashErrors.reduce((max, error) => Math.max(max, typeof error === 'string' ? error.length : Number.POSITIVE_INFINITY), 0),
    restartSecondsMedian: quantile(restartSeconds, 0.5),
    restartSecondsMax: quantile(restartSeconds, 1),
    startupTimeouts: startupFailures,
    children: pids.size,
    orphans: orphans.length + marked.filter((pid) => !pids.has(pid)).length,
    hostCrashes: host.errors.length,
    seconds: secondsSince(started),
  };
  log(`crash-cycles: ${JSON.stringify(figures)}`);
  return { name: 'crash-cycles', figures, failures: capFailures(failures) };
}

/** The q-quantile of `values` (nearest rank), two decimals; 0 for none. */
function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0) * 100) / 100;
}
