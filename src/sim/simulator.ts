import type { Logger } from 'pino';
import { ModactorError, type ValidationIssue } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import { createRandom } from '../kernel/random.js';
import { createRealScheduler, type Scheduler } from '../kernel/scheduler.js';
import { createSimulatedScheduler, type SimulatedScheduler } from '../kernel/simulated-scheduler.js';
import { eventFamilies, nodeCatalogue, type NodeEvent } from '../events/node-catalogue.js';
import type { EventTypeOf } from '../events/catalogue.js';
import { pendingCount } from '../node/delivery-stats.js';
import { createNode, type ModactorNode } from '../node/node.js';
import { defineModule, type ModuleDefinition } from '../node/module.js';
import type { LoadableModule as AnyLoadable } from '../node/module-supervisor.js';
import type { NodeEventMap } from '../events/node-catalogue.js';

type LoadableModule = AnyLoadable<NodeEventMap>;
import { renamed, withFaults, type Fault, type FaultController } from './faults.js';
import { checkInvariants, secs } from './invariants.js';
import { loadActor } from './load-actor.js';
import { buildSeries, checkExpectations, moduleRows, reportHeader, type ModuleRow, type SimulationReport, type TimelineEntry } from './report.js';
import { BRIDGE_NAME, RECORDER_NAME, baseName, type Scenario, type ScenarioCommand, type TimedAction } from './scenario.js';
import { TraceRecorder, type Checkpoint, type Trace, type TraceModule } from './trace.js';
import { TrafficSource, nextGap } from './traffic.js';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** Runs on the real scheduler: virtual ms become `timeScale` real ms. Not deterministic. */
  readonly real?: boolean;
  /** Overrides the scenario's time scale (real mode). */
  readonly timeScale?: number;
  /** Directory that relative actor paths resolve against (the scenario file's). Default the cwd. */
  readonly baseDir?: string;
  /** Called now and then with the virtual time and the expected end (for a progress line). */
  readonly onProgress?: (t: number, end: number) => void;
  readonly logger?: Logger;
}

/** The lifecycle events the recorder module witnesses (everything the node announces). */
const LIFECYCLE_TYPES = [
  'ModuleLoaded',
  'ModuleUnloaded',
  'ModuleReloaded',
  'ModuleCrashed',
  'ModuleHealthChanged',
  'ModuleStopped',
  'NodeShutdown',
] as const;

/** Real ms per virtual ms: the real scheduler with its clock and timers scaled, starting at 0. */
function scaledRealScheduler(scale: number): Scheduler {
  const base = createRealScheduler();
  const origin = base.now();
  return {
    kind: 'real',
    throughput: base.throughput,
    now: () => (base.now() - origin) / scale,
    enqueue: (task) => base.enqueue(task),
    setTimer: (ms, fn) => base.setTimer(ms === Number.POSITIVE_INFINITY ? ms : ms * scale, fn),
    random: () => base.random(),
    newId: () => base.newId(),
  };
}

/** The priority lane's capacity when a module does not set one (ModuleDefinition.priorityCapacity). */
const DEFAULT_PRIORITY_CAPACITY = 100;

/** Per-module fault state the simulator arms at virtual times. */
interface FaultState {
  /** Pending crashes, each on the next event (of type `on`, if given). */
  crashes: { readonly message: string; readonly on?: string }[];
  /** While held, every event taken waits for the release. */
  held: { readonly released: Promise<void>; readonly release: () => void } | null;
  /** A pending hang: ms, or null for "until stopped"; undefined when none. */
  hang: number | null | undefined;
  slow: { readonly delayMs: number; readonly until: number } | null;
}

/**
 * Runs a scenario and returns its report. In deterministic mode (the default) the node runs on a
 * seeded simulated scheduler in virtual time: the same scenario and seed give a byte-identical
 * report. Throws `invalid-scenario` when an actor cannot be loaded.
 *
 * @example
 * ```ts
 * const report = await simulate(parseScenario(json), { seed: 7 });
 * console.log(report.passed);
 * ```
 */
export async function simulate(scenario: Scenario, options: SimulateOptions = {}): Promise<SimulationReport> {
  return (await simulateWithTrace(scenario, options)).report;
}

/** Like {@link simulate}, also returning the trace the invariants were checked on. */
export async function simulateWithTrace(scenario: Scenario, options: SimulateOptions = {}): Promise<{ report: SimulationReport; trace: Trace }> {
  const seed = options.seed ?? scenario.seed;
  const real = options.real ?? false;
  const timeScale = options.timeScale ?? scenario.timeScale;
  const baseDir = options.baseDir ?? process.cwd();
  const shutdownAt = scenario.shutdown.at;

  // Every actor is resolved before anything runs, so a bad one is a scenario error, not a crash.
  const issues: ValidationIssue[] = [];
  const definitions = new Map<object, LoadableModule>();
  const resolveActor = async (key: object, actor: string, moduleOptions: Readonly<Record<string, unknown>> | undefined, path: string, name: string): Promise<void> => {
    const result = await loadActor(actor, moduleOptions, path, baseDir, name);
    if ('path' in result && 'message' in result) {
      issues.push(result);
      return;
    }
    if (result.name !== name && !isInProcess(result)) {
      issues.push(issue(`${path}.name`, `the name of the process module's manifest, "${result.name}"`, `"${name}"`));
      return;
    }
    definitions.set(key, result.name === name ? result : renamed(result as ModuleDefinition, name));
  };
  const actorOf = new Map<string, string>();
  for (const [i, m] of scenario.modules.entries()) {
    const name = m.name ?? baseName(m.actor);
    actorOf.set(name, m.actor);
    await resolveActor(m, m.actor, m.options, `modules[${i}]`, name);
  }
  const commands: [ScenarioCommand | TimedAction, string][] = [
    ...scenario.actions.map((a, i): [TimedAction, string] => [a, `actions[${i}]`]),
    ...scenario.script.map((s, i): [ScenarioCommand, string] => [s, `script[${i}]`]),
  ];
  for (const [command, path] of commands) {
    if (command.do === 'load' || command.do === 'hotload') {
      actorOf.set(command.module, command.actor);
      await resolveActor(command, command.actor, command.options, path, command.module);
    }
  }
  for (const [command, path] of commands) {
    if (command.do === 'reload' && command.options !== undefined) {
      const actor = actorOf.get(command.module) ?? command.module;
      await resolveActor(command, actor, command.options, path, command.module);
    }
  }
  // Process modules run real child processes: faults cannot be injected into them, and (unless the
  // run is in real time at scale 1) they run in a companion node beside the simulated one.
  const processModules = new Map<string, LoadableModule>();
  for (const m of scenario.modules) {
    const definition = definitions.get(m);
    if (definition !== undefined && !isInProcess(definition)) processModules.set(m.name ?? baseName(m.actor), definition);
  }
  const companionMode = processModules.size > 0 && (!real || timeScale !== 1);
  scenario.faults.forEach((fault, i) => {
    if (fault.kind !== 'flood' && processModules.has(fault.module)) {
      issues.push(issue(`faults[${i}].module`, 'an in-process module (faults are injected into those only)', `process module "${fault.module}"`));
    }
  });
  for (const [command, path] of commands) {
    if ((command.do === 'slow' || command.do === 'crash') && processModules.has(command.module)) {
      issues.push(issue(`${path}.module`, 'an in-process module (faults are injected into those only)', `process module "${command.module}"`));
    }
    if ((command.do === 'load' || command.do === 'hotload') && companionMode) {
      const definition = definitions.get(command);
      if (definition !== undefined && !isInProcess(definition)) {
        issues.push(issue(`${path}.actor`, 'an in-process module: process modules are listed under modules (unless --real --time-scale 1)', `"${command.actor}"`));
      }
    }
  }
  if (issues.length > 0) {
    const lines = issues.slice(0, 5).map((i) => `  ${i.path}: ${i.message}`);
    throw new ModactorError('invalid-scenario', `Invalid scenario ${scenario.name}:\n${lines.join('\n')}`, { issues });
  }

  const sim: SimulatedScheduler | null = real ? null : createSimulatedScheduler({ seed, autoRun: false });
  const scheduler: Scheduler = sim ?? scaledRealScheduler(timeScale);
  const node: ModactorNode = createNode({
    scheduler,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(scenario.node.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: scenario.node.shutdownTimeoutMs }),
    ...(scenario.node.defaultMailboxCapacity === undefined ? {} : { defaultMailboxCapacity: scenario.node.defaultMailboxCapacity }),
  });
  const defaultCapacity = scenario.node.defaultMailboxCapacity ?? 100;
  const now = (): number => scheduler.now();

  const timeline: TimelineEntry[] = [];
  const note = (module: string | null, kind: string, text: string): void => {
    timeline.push({ t: now(), module, kind, text });
  };
  // A give-up is observed (at the module's host) before the lifecycle events that follow from it;
  // the timeline tells it after them, right after the module turns unhealthy.
  const gaveUp = new Map<string, string>();
  const recorder = new TraceRecorder({
    onLifecycle: (t, type, payload) => {
      const entry = lifecycleEntry(t, type, payload);
      if (entry !== null) timeline.push(entry);
      const module = String(payload.moduleName);
      const detail = gaveUp.get(module);
      if (type === 'ModuleHealthChanged' && payload.newHealth === 'unhealthy' && detail !== undefined) {
        gaveUp.delete(module);
        timeline.push({ t, module, kind: 'gave-up', text: `gave up ${module}: ${detail}` });
      }
    },
    onGaveUp: (_t, module, detail) => gaveUp.set(module, detail.replace(/\(last: instance: /, '(last crash: ')),
  });
  const stopInspecting = node.system.inspect(recorder.observe);
  const trace = recorder.trace;

  // ---- Faults ------------------------------------------------------------------------------------
  const faults = new Map<string, FaultState>();
  const faultsOf = (name: string): FaultState => {
    let state = faults.get(name);
    if (state === undefined) {
      state = { crashes: [], held: null, hang: undefined, slow: null };
      faults.set(name, state);
    }
    return state;
  };
  const controllerFor = (name: string): FaultController => ({
    decide(event, ctx): Fault | undefined {
      recorder.take(name, ctx.instanceId, event, now());
      const state = faults.get(name);
      if (state === undefined) return undefined;
      const index = state.crashes.findIndex((c) => c.on === undefined || c.on === event.type);
      const crash = index < 0 ? undefined : state.crashes.splice(index, 1)[0];
      if (crash !== undefined) return { kind: 'crash', message: crash.message };
      if (state.held !== null) return { kind: 'hold', until: state.held.released };
      if (state.hang !== undefined) {
        const forMs = state.hang;
        state.hang = undefined;
        return { kind: 'hang', forMs };
      }
      if (state.slow !== null) {
        if (now() < state.slow.until) return { kind: 'slow', delayMs: state.slow.delayMs };
        state.slow = null;
      }
      return undefined;
    },
  });

  // ---- Loading -----------------------------------------------------------------------------------
  const describe = (name: string, definition: LoadableModule, actor: string): TraceModule => {
    const m = recorder.module(name);
    m.kind = isInProcess(definition) ? 'in-process' : 'process';
    m.actor = actor;
    m.capacity = definition.mailboxCapacity ?? defaultCapacity;
    // The node's default for the priority lane (ModuleDefinition.priorityCapacity) is 100.
    m.priorityCapacity = definition.priorityCapacity ?? DEFAULT_PRIORITY_CAPACITY;
    m.subscribesLoaded = definition.subscribe.includes('ModuleLoaded');
    m.subscribesUnloaded = definition.subscribe.includes('ModuleUnloaded');
    m.subscribesShutdown = definition.subscribe.includes('NodeShutdown');
    const policy = definition.restart ?? {};
    m.restart = { type: policy.type ?? 'permanent', maxRestarts: policy.maxRestarts ?? 3, withinMs: policy.withinMs ?? 10_000 };
    return m;
  };
  const prepared = (name: string, definition: LoadableModule): LoadableModule =>
    isInProcess(definition) ? withFaults(definition, controllerFor(name)) : definition;
  const settle = (what: string, module: string, promise: Promise<unknown>): Promise<void> =>
    promise.then(
      () => undefined,
      (error: unknown) => note(module, 'error', `${what} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  const load = (name: string, definition: LoadableModule, actor: string, how: 'load' | 'hotload'): Promise<void> => {
    const m = describe(name, definition, actor);
    m.loads.push({ t: now(), how });
    if (how === 'hotload') note(name, 'hotload', `hotload ${name} ${definition.version}`);
    return settle(how, name, node.load(prepared(name, definition)));
  };

  // ---- Traffic -----------------------------------------------------------------------------------
  const source = new TrafficSource(createRandom((seed ^ 0x9e3779b9) >>> 0));
  const published: Record<string, number> = {};
  let shuttingDown = false;
  const publish = (event: NodeEvent): void => {
    published[event.type] = (published[event.type] ?? 0) + 1;
    node.events.publish(event);
  };
  const at = (t: number, fn: () => void): void => {
    scheduler.setTimer(Math.max(0, t - now()), fn);
  };

  // ---- Commands (timed actions and the script share them) ----------------------------------------
  const perform = (command: ScenarioCommand | TimedAction): Promise<void> => {
    if (companion !== null && 'module' in command && processModules.has(command.module)) {
      note(command.module, 'skipped', `skipped: ${command.do} ${command.module} (a process module; only with --real --time-scale 1)`);
      return Promise.resolve();
    }
    switch (command.do) {
      case 'load':
      case 'hotload': {
        const definition = definitions.get(command) as LoadableModule;
        const loading = load(command.module, definition, command.actor, command.do);
        // A load is waited for; a hotload happens while everything else goes on.
        return command.do === 'load' ? loading : Promise.resolve();
      }
      case 'subscribe': {
        const m = recorder.module(command.module);
        if (command.types.includes('ModuleLoaded')) m.subscribesLoaded = true;
        if (command.types.includes('ModuleUnloaded')) m.subscribesUnloaded = true;
        if (command.types.includes('NodeShutdown')) m.subscribesShutdown = true;
        note(command.module, 'subscribe', `subscribe ${command.module} to ${command.types.join(', ')}`);
        return settle('subscribe', command.module, node.events.subscribe(command.module, command.types));
      }
      case 'publish':
        for (let i = 0; i < command.count; i++) {
          try {
            if ('traffic' in command) for (const event of source.next(command.traffic)) publish(event);
            else publish({ ...command.event, payload: { ...command.event.payload } } as NodeEvent);
          } catch (error) {
            note(null, 'error', `publish failed: ${error instanceof Error ? error.message : String(error)}`);
            break;
          }
        }
        return Promise.resolve();
      case 'slow': {
        const state = faultsOf(command.module);
        if (command.delayMs === undefined) {
          if (state.held === null) {
            let release!: () => void;
            const released = new Promise<void>((resolve) => {
              release = resolve;
            });
            state.held = { released, release };
          }
          note(command.module, 'fault', `hold ${command.module}: every event it takes waits for a release`);
          return Promise.resolve();
        }
        state.slow = { delayMs: command.delayMs, until: command.forMs === undefined ? Number.POSITIVE_INFINITY : now() + command.forMs };
        note(command.module, 'fault', `slow ${command.module}: +${command.delayMs} ms per event${command.forMs === undefined ? '' : ` for ${command.forMs} ms`}`);
        return Promise.resolve();
      }
      case 'release': {
        const state = faultsOf(command.module);
        state.held?.release();
        state.held = null;
        state.slow = null;
        note(command.module, 'fault', `release ${command.module}`);
        return Promise.resolve();
      }
      case 'crash':
        faultsOf(command.module).crashes.push({ message: `injected crash at ${secs(now())}`, ...(command.on === undefined ? {} : { on: command.on }) });
        note(command.module, 'fault', `crash ${command.module} on its next ${command.on ?? 'event'}`);
        return Promise.resolve();
      case 'restart': {
        const m = recorder.module(command.module);
        m.loads.push({ t: now(), how: 'restart' });
        note(command.module, 'restart', `restart ${command.module}`);
        return settle('restart', command.module, node.reload(command.module));
      }
      case 'reload': {
        const m = recorder.module(command.module);
        const definition = definitions.get(command);
        m.loads.push({ t: now(), how: 'reload' });
        note(command.module, 'reload', `reload ${command.module}${definition === undefined ? '' : ` as ${definition.version}`}`);
        if (definition !== undefined) describe(command.module, definition, m.actor);
        return settle('reload', command.module, node.reload(command.module, definition === undefined ? undefined : prepared(command.module, definition)));
      }
      case 'unload':
        note(command.module, 'unload', `unload ${command.module}`);
        return settle('unload', command.module, node.unload(command.module));
      case 'advance':
        return new Promise((resolve) => {
          scheduler.setTimer(command.ms, resolve);
        });
    }
  };

  // ---- Checkpoints and shutdown ------------------------------------------------------------------
  const checkpoint = async (label: Checkpoint['label']): Promise<void> => {
    const t = now();
    const stats = Object.fromEntries(await node.events.getAllDeliveryStats());
    const announced = await node.events.getLoadedModules();
    const subscribers: Record<string, string[]> = {};
    if (label === 'before-shutdown') {
      for (const type of nodeCatalogue.types) {
        const names = await node.events.getSubscribers(type);
        if (names.length > 0) subscribers[type] = names;
      }
    }
    // In virtual time nothing runs between these queries; in real time modules run on, except once
    // they have all stopped.
    recorder.checkpoint(label, t, { stats, announced, subscribers, settled: sim !== null || label === 'after-modules-stopped' });
  };

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const shutdown = async (): Promise<void> => {
    shuttingDown = true;
    trace.shutdown.requestedAt = now();
    try {
      await checkpoint('before-shutdown');
      note(null, 'shutdown', `shutdown requested: ${scenario.shutdown.reason}`);
      await node.shutdown(scenario.shutdown.reason);
      trace.shutdown.completedAt = now();
      note(null, 'shutdown', 'shutdown completed: every module stopped, the actor system stopped');
    } catch (error) {
      trace.shutdown.error = error instanceof Error ? error.message : String(error);
    }
    trace.shutdown.systemStopped = !node.system.isRunning;
    trace.shutdown.rootFailures = node.system.rootFailures().map((f) => f.message);
    finish();
  };

  // The recorder: witnesses every lifecycle event in publish order, and, stopping last (it is
  // loaded first), takes the final checkpoint once every other module has stopped.
  const recorderModule: ModuleDefinition = defineModule({
    name: RECORDER_NAME,
    version: '1.0.0',
    subscribe: [...LIFECYCLE_TYPES],
    mailboxCapacity: 1_000_000,
    handle() {},
    stop: () => (shuttingDown ? checkpoint('after-modules-stopped') : undefined),
  });
  describe(RECORDER_NAME, recorderModule, 'recorder').loads.push({ t: 0, how: 'load' });
  const recorderLoaded = node.load(prepared(RECORDER_NAME, recorderModule));
  if (sim !== null) await drive(sim, recorderLoaded, 'the recorder module did not start');
  else await recorderLoaded;

  // Process modules, when they cannot join the node itself: a companion node on the real
  // scheduler runs them, and a bridge module of the simulated node forwards them the events they
  // subscribe to (lifecycle events excepted: those are the companion's own).
  const companion: ModactorNode | null = companionMode
    ? createNode({
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(scenario.node.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: scenario.node.shutdownTimeoutMs }),
      })
    : null;
  const companionFailures = new Map<string, string>();
  if (companion !== null) {
    for (const [name, definition] of processModules) {
      const m = describe(name, definition, actorOf.get(name) ?? name);
      m.kind = 'process';
      try {
        await companion.load(definition);
      } catch (error) {
        companionFailures.set(name, error instanceof Error ? error.message : String(error));
      }
    }
    const forwarded = [...new Set([...processModules.values()].flatMap((d) => d.subscribe))].filter(
      (type): type is EventTypeOf<NodeEventMap> => nodeCatalogue.has(type) && !LIFECYCLE_FAMILY.has(type),
    );
    if (forwarded.length > 0) {
      const bridge = defineModule({
        name: BRIDGE_NAME,
        version: '1.0.0',
        subscribe: forwarded,
        mailboxCapacity: 1_000_000,
        handle(event) {
          try {
            companion.events.publish(event);
          } catch {
            // The companion refuses only after its shutdown, which comes after this node's.
          }
        },
      });
      describe(BRIDGE_NAME, bridge, 'bridge').loads.push({ t: 0, how: 'load' });
      const bridgeLoaded = node.load(prepared(BRIDGE_NAME, bridge));
      if (sim !== null) await drive(sim, bridgeLoaded, 'the bridge module did not start');
      else await bridgeLoaded;
    }
  }

  // ---- The schedule ------------------------------------------------------------------------------
  for (const m of scenario.modules) {
    const name = m.name ?? baseName(m.actor);
    const definition = definitions.get(m) as LoadableModule;
    if (companion !== null && processModules.has(name)) continue;
    at(m.at, () => void load(name, definition, m.actor, m.at > 0 ? 'hotload' : 'load'));
  }
  scenario.traffic.forEach((spec, i) => {
    const gaps = createRandom((seed * 1_000_003 + (i + 1) * 7919) >>> 0);
    const stopAt = Math.min(spec.until ?? Number.POSITIVE_INFINITY, shutdownAt);
    const tick = (): void => {
      if (shuttingDown || now() >= stopAt) return;
      for (const event of source.next(spec.kind, spec.reorgEvery === undefined ? {} : { reorgEvery: spec.reorgEvery })) publish(event);
      scheduler.setTimer(nextGap(gaps, spec), tick);
    };
    at(spec.from, tick);
  });
  scenario.faults.forEach((fault) => {
    at(fault.at, () => {
      if (shuttingDown) return;
      switch (fault.kind) {
        case 'crash':
          for (let i = 0; i < fault.count; i++) faultsOf(fault.module).crashes.push({ message: `injected crash at ${secs(fault.at)}` });
          note(fault.module, 'fault', `crash ${fault.module} on its next ${fault.count === 1 ? 'event' : `${fault.count} events`}`);
          return;
        case 'hang':
          faultsOf(fault.module).hang = fault.for ?? null;
          note(fault.module, 'fault', `hang ${fault.module} on its next event ${fault.for === undefined ? 'until it is stopped' : `for ${fault.for} ms`}`);
          return;
        case 'slow':
          faultsOf(fault.module).slow = { delayMs: fault.delayMs, until: fault.for === undefined ? Number.POSITIVE_INFINITY : fault.at + fault.for };
          note(fault.module, 'fault', `slow ${fault.module}: +${fault.delayMs} ms per event${fault.for === undefined ? '' : ` for ${fault.for} ms`}`);
          return;
        case 'flood': {
          note(null, 'flood', `flood of ${fault.count} events (${fault.traffic}) ${fault.over > 0 ? `over ${fault.over} ms` : 'at once'}`);
          const burst = (n: number): void => {
            for (let i = 0; i < n; i++) for (const event of source.next(fault.traffic)) publish(event);
          };
          if (fault.over === 0) {
            burst(fault.count);
            return;
          }
          const gap = fault.over / fault.count;
          for (let i = 0; i < fault.count; i++) at(fault.at + Math.round(i * gap), () => (shuttingDown ? undefined : burst(1)));
          return;
        }
      }
    });
  });
  for (const action of scenario.actions) at(action.at, () => void (shuttingDown ? undefined : perform(action)));
  if (scenario.script.length > 0) {
    at(0, () => {
      void (async () => {
        for (const step of scenario.script) {
          if (shuttingDown) return;
          await perform(step);
        }
      })();
    });
  }
  const progressEvery = Math.max(1, Math.ceil(shutdownAt / 50));
  for (let t = progressEvery; t < shutdownAt; t += progressEvery) at(t, () => options.onProgress?.(t, shutdownAt));
  at(shutdownAt, () => void shutdown());

  // ---- Run ---------------------------------------------------------------------------------------
  if (sim !== null) {
    await drive(sim, finished, 'the simulation went quiet before its shutdown completed');
  } else {
    await finished;
  }
  stopInspecting();
  const processRows = companion === null ? [] : await retireCompanion(companion, processModules, companionFailures, trace);
  const endMs = trace.shutdown.completedAt ?? now();
  options.onProgress?.(endMs, endMs);

  // ---- Report ------------------------------------------------------------------------------------
  const rows = [...moduleRows(trace, (m) => !real && m.kind === 'in-process'), ...processRows];
  const invariants = [...checkInvariants(trace, scenario.invariants), ...checkExpectations(scenario.expect, rows)];
  const notes: string[] = [];
  if (real) notes.push(`real time: 1 virtual ms = ${timeScale} real ms; timings and counts vary from run to run`);
  else notes.push(`deterministic: virtual time, seed ${seed}; the same scenario and seed give this same report`);
  if (companion !== null) {
    notes.push(
      `process modules (${[...processModules.keys()].join(', ')}) ran as real child processes in a companion node on the real scheduler, ` +
        `fed the simulated node's events by a bridge (lifecycle events excepted, their publications stay there); ` +
        `their rows are outside the same-seed guarantee`,
    );
  }
  for (const [name, failure] of companionFailures) notes.push(`process module ${name} did not start: ${failure}`);
  const report: SimulationReport = {
    version: 1,
    scenario: reportHeader(scenario, seed, real, endMs, timeScale),
    traffic: Object.fromEntries(Object.entries(published).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    timeline,
    modules: rows,
    invariants,
    series: buildSeries(trace, endMs),
    notes,
    passed: invariants.every((i) => i.status !== 'fail'),
  };
  return { report, trace };
}

function isInProcess(definition: LoadableModule): definition is ModuleDefinition {
  return (definition as { kind?: unknown }).kind === 'in-process';
}

/** Drives a simulated scheduler (actors and virtual timers) until `promise` settles. */
async function drive(sim: SimulatedScheduler, promise: Promise<unknown>, quiet: string): Promise<void> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  for (let rounds = 0; !settled; rounds++) {
    if (rounds > 3) throw new Error(`modactor simulate: ${quiet}`);
    await sim.runAll();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await tracked;
}

/** The timeline line of a lifecycle event, or null for the ones left out (and the recorder's own). */
function lifecycleEntry(t: number, type: string, payload: Readonly<Record<string, unknown>>): TimelineEntry | null {
  const module = typeof payload.moduleName === 'string' ? payload.moduleName : null;
  if (module === RECORDER_NAME || module === BRIDGE_NAME) return null;
  const s = (key: string): string => String(payload[key]);
  switch (type) {
    case 'ModuleLoaded':
      return { t, module, kind: 'loaded', text: `loaded ${s('moduleName')} ${s('version')}` };
    case 'ModuleUnloaded':
      return { t, module, kind: 'unloaded', text: `unloaded ${s('moduleName')}` };
    case 'ModuleReloaded':
      return { t, module, kind: 'reloaded', text: `reloaded ${s('moduleName')} ${s('oldVersion')} -> ${s('newVersion')}` };
    case 'ModuleCrashed':
      return { t, module, kind: 'crashed', text: `crashed ${s('moduleName')}: ${s('error')}` };
    case 'ModuleHealthChanged':
      return { t, module, kind: 'health', text: `health ${s('moduleName')}: ${s('oldHealth')} -> ${s('newHealth')}` };
    case 'NodeShutdown':
      return { t, module: null, kind: 'shutdown', text: `NodeShutdown (${s('reason')}, ${s('timeoutSeconds')} s to stop)` };
    default:
      return null;
  }
}

/** The lifecycle and node families: never forwarded to the companion node, which has its own. */
const LIFECYCLE_FAMILY: ReadonlySet<string> = new Set([...eventFamilies.lifecycle, ...eventFamilies.node]);

/** Real ms the companion gets to take the last forwarded events before it is shut down. */
const DRAIN_MS = 15_000;

/**
 * Lets the companion node's process modules take what was forwarded to them, shuts it down, adds
 * their final statistics to the trace's last checkpoint (so the accounting law is checked for them
 * too) and returns their rows.
 */
async function retireCompanion(
  companion: ModactorNode,
  modules: ReadonlyMap<string, LoadableModule>,
  failures: ReadonlyMap<string, string>,
  trace: Trace,
): Promise<ModuleRow[]> {
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      companion.scheduler.setTimer(ms, resolve);
    });
  for (let waited = 0; waited < DRAIN_MS; waited += 10) {
    const stats = await companion.events.getAllDeliveryStats();
    if ([...stats.values()].every((s) => pendingCount(s) === 0)) break;
    await pause(10);
  }
  const infos = new Map((await companion.modules()).map((info) => [info.name, info]));
  await companion.shutdown('simulation over');
  const stats = await companion.events.getAllDeliveryStats();
  const index = trace.checkpoints.findIndex((c) => c.label === 'after-modules-stopped');
  const last = trace.checkpoints[index];
  if (last !== undefined) {
    const added = Object.fromEntries([...modules.keys()].flatMap((name) => {
      const s = stats.get(name);
      return s === undefined ? [] : [[name, s] as const];
    }));
    trace.checkpoints[index] = { ...last, stats: { ...last.stats, ...added } };
  }
  return [...modules.keys()].map((name): ModuleRow => {
    const s = stats.get(name);
    const info = infos.get(name);
    const failure = failures.get(name);
    return {
      name,
      actor: trace.modules.get(name)?.actor ?? name,
      kind: 'process',
      deterministic: false,
      delivered: s?.successful ?? 0,
      handled: s?.handled ?? 0,
      dropped: s?.channelFull ?? 0,
      failed: (s?.handlerFailed ?? 0) + (s?.failed ?? 0) + (s?.serializationFailed ?? 0),
      lost: s?.lostOnCrash ?? 0,
      filtered: s?.filtered ?? 0,
      restarts: info?.restarts ?? 0,
      health: failure !== undefined ? 'unhealthy' : info?.health ?? 'unhealthy',
      end: failure !== undefined ? 'did not start' : info === undefined ? 'gave up' : 'stopped at shutdown',
      gaveUp: failure === undefined && info === undefined,
    };
  });
}
