import { DEFAULT_MAILBOX_CAPACITY, DEFAULT_RESERVE_CAPACITY } from '../kernel/mailbox.js';
import { isModactorError } from '../kernel/errors.js';
import { createRandom } from '../kernel/random.js';
import type { Scheduler, TimerHandle } from '../kernel/scheduler.js';
import { createSimulatedScheduler, type SimulatedScheduler } from '../kernel/simulated-scheduler.js';
import { nodeCatalogue, type NodeEvent } from '../events/node-catalogue.js';
import { createNode, type ModactorNode } from '../node/node.js';
import { DEFAULT_PRIORITY_CAPACITY, DEFAULT_RESTART_POLICY } from '../node/module-supervisor.js';
import { withFaults, type FaultController } from './faults.js';
import { FaultState } from './fault-state.js';
import { isInProcess, type LoadableModule } from './load-actor.js';
import { recorderModule } from './recorder-module.js';
import { scaledRealScheduler, type ScaledScheduler } from './scaled-scheduler.js';
import { RECORDER_NAME } from './scenario.js';
import type { SimulationPlan } from './simulation-plan.js';
import { Timeline } from './timeline.js';
import { didNotStart, TraceRecorder, type Checkpoint, type Trace, type TraceModule } from './trace.js';
import { TrafficSource } from './traffic-source.js';
import { errorMessage } from './error-message.js';
import { createMemoryDisk, type MemoryDisk } from '../store/memory-disk.js';
import { DurabilityLedger, STORE_DIR } from './node-restart.js';

/**
 * The state of one simulation run, passed explicitly to the pieces that drive it (the schedule,
 * the command interpreter, the companion node): the node on its scheduler, the trace recorder and
 * the timeline, the armed faults, the traffic source and what it published, and the shutdown.
 */
export class SimulationRun {
  /** The seeded simulated scheduler, or null in real time. */
  readonly sim: SimulatedScheduler | null;
  readonly scheduler: Scheduler;
  /** The node; a new one after each `restart-node`. */
  node: ModactorNode;
  /** With `node.store`: the simulated disk the node's store lives on, and what the durability invariant needs. */
  readonly disk: MemoryDisk | null;
  readonly durability: DurabilityLedger | null;
  /** Set while the node restarts: publishes are skipped (the node is down). */
  restarting = false;
  /** The modules loaded now (not unloaded), in load order, as they were given: a restarted node loads them again. */
  readonly loaded = new Map<string, { readonly definition: LoadableModule; readonly actor: string }>();
  readonly timeline = new Timeline();
  readonly recorder: TraceRecorder;
  readonly faults = new FaultState();
  /** Every generated event (traffic, floods, publish commands) comes from this one seeded source. */
  readonly traffic: TrafficSource;
  /** Events the simulator published, by type. */
  readonly published: Record<string, number> = {};
  /** Set once the shutdown began: nothing more is injected or published. */
  shuttingDown = false;
  /** Why the run was interrupted, if it was. */
  interrupted: string | null = null;
  private scenarioStarted = false;
  /** The scenario's timers still pending. */
  private readonly timers = new Set<TimerHandle>();
  /** The scaled real scheduler of a `--real` run (null in virtual time). */
  private readonly clock: ScaledScheduler | null;
  /** Resolves once the shutdown completed (or failed). */
  readonly finished: Promise<void>;
  private finish!: () => void;
  private stopInspecting: () => void = () => undefined;
  private readonly defaultCapacity: number;
  /** Which life of the node this is: a module of an earlier one (a dead process) does nothing more. */
  private nodeLife = 1;

  constructor(readonly plan: SimulationPlan) {
    const { scenario } = plan;
    this.sim = plan.real ? null : createSimulatedScheduler({ seed: plan.seed, autoRun: false });
    this.clock = plan.real ? scaledRealScheduler(plan.timeScale) : null;
    this.scheduler = this.sim ?? (this.clock as ScaledScheduler);
    this.disk = scenario.node.store === true ? createMemoryDisk() : null;
    this.durability = this.disk === null ? null : new DurabilityLedger();
    this.defaultCapacity = scenario.node.defaultMailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
    this.recorder = new TraceRecorder(this.timeline.hooks);
    if (this.durability !== null) this.recorder.trace.durability = this.durability.trace;
    this.node = this.createNode();
    this.durability?.begin(this.node, 0, 'start', {});
    this.traffic = new TrafficSource(createRandom((plan.seed ^ 0x9e3779b9) >>> 0));
    this.finished = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
  }

  /** Creates the node (on the store's disk, a new process's view of it) and observes it. */
  createNode(): ModactorNode {
    const { scenario, options } = this.plan;
    this.node = createNode({
      scheduler: this.scheduler,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(scenario.node.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: scenario.node.shutdownTimeoutMs }),
      ...(scenario.node.defaultMailboxCapacity === undefined ? {} : { defaultMailboxCapacity: scenario.node.defaultMailboxCapacity }),
      ...(this.disk === null ? {} : { store: { dir: STORE_DIR, fs: this.disk.mount() } }),
    });
    this.stopInspecting = this.node.system.inspect(this.recorder.observe);
    return this.node;
  }

  /** The node's life ended: nothing of it is observed any more, and its modules do nothing more. */
  retireNode(): void {
    this.stopInspecting();
    this.nodeLife++;
  }

  get scenario(): SimulationPlan['scenario'] {
    return this.plan.scenario;
  }

  get trace(): Trace {
    return this.recorder.trace;
  }

  now(): number {
    return this.scheduler.now();
  }

  /** Adds what the simulator did to the timeline, at the current time. */
  note(module: string | null, kind: string, text: string): void {
    this.timeline.note(this.now(), module, kind, text);
  }

  /** Runs `fn` at virtual time `t` (at once if `t` has passed). */
  at(t: number, fn: () => void): void {
    this.after(Math.max(0, t - this.now()), fn);
  }

  /**
   * Runs `fn` after `ms` of virtual time. The scenario's timers go through here, so that the
   * shutdown can cancel the ones still pending (an interrupted real run must not wait for them).
   */
  after(ms: number, fn: () => void): void {
    const timer = this.scheduler.setTimer(ms, () => {
      this.timers.delete(timer);
      fn();
    });
    this.timers.add(timer);
  }

  /**
   * Ends the run early (SIGINT in a `--real` run): the graceful shutdown begins at once, or as
   * soon as the initial modules have loaded, and the report covers what ran.
   */
  interrupt(reason: string): void {
    if (this.interrupted !== null || this.shuttingDown) return;
    this.interrupted = reason;
    this.note(null, 'interrupted', `interrupted: ${reason}`);
    if (this.scenarioStarted) void this.shutdown();
  }

  /**
   * Marks the start of scenario time: in a `--real` run the clock starts from 0 here, once every
   * initial module has loaded (start-up is not scenario time); in virtual time the scenario starts
   * at 0 with the initial modules' loads.
   */
  startScenario(): void {
    this.clock?.startClock();
    this.scenarioStarted = true;
    if (this.interrupted !== null) void this.shutdown();
  }

  /**
   * Marks the node's start-up complete once the modules loaded at 0 have loaded (or failed to), in
   * either mode: `node.start()` publishes NodeStartupCompleted and makes the node ready (`/readyz`).
   * Not once the shutdown began; a refusal goes on the timeline.
   */
  async startNode(): Promise<void> {
    if (this.shuttingDown) return;
    await this.settle('start', null, this.node.start());
  }

  /** Publishes a generated event on the node and counts it for the report. */
  publish(event: NodeEvent): void {
    if (this.restarting) return;
    this.published[event.type] = (this.published[event.type] ?? 0) + 1;
    this.node.events.publish(event);
  }

  /** Waits for `promise`, driving the simulated scheduler (actors and virtual timers) meanwhile. */
  async until(promise: Promise<unknown>, quiet: string): Promise<void> {
    if (this.sim === null) {
      await promise;
      return;
    }
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    for (let rounds = 0; !settled; rounds++) {
      if (rounds > 3) throw new Error(`modactor simulate: ${quiet}`);
      await this.sim.runAll();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await tracked;
  }

  /** The trace's record of a module, filled in from its definition. */
  describe(name: string, definition: LoadableModule, actor: string): TraceModule {
    const m = this.recorder.module(name);
    m.kind = isInProcess(definition) ? 'in-process' : 'process';
    m.actor = actor;
    m.capacity = definition.mailboxCapacity ?? this.defaultCapacity;
    m.priorityCapacity = definition.priorityCapacity ?? DEFAULT_PRIORITY_CAPACITY;
    m.reserveCapacity = definition.membershipCapacity ?? DEFAULT_RESERVE_CAPACITY;
    m.subscribesLoaded = definition.subscribe.includes('ModuleLoaded');
    m.subscribesUnloaded = definition.subscribe.includes('ModuleUnloaded');
    m.subscribesShutdown = definition.subscribe.includes('NodeShutdown');
    const policy = definition.restart ?? {};
    m.restart = {
      type: policy.type ?? DEFAULT_RESTART_POLICY.type,
      maxRestarts: policy.maxRestarts ?? DEFAULT_RESTART_POLICY.maxRestarts,
      withinMs: policy.withinMs ?? DEFAULT_RESTART_POLICY.withinMs,
    };
    return m;
  }

  /** The definition as the node gets it: an in-process module wrapped so that faults can strike it. */
  prepared(name: string, definition: LoadableModule): LoadableModule {
    return isInProcess(definition) ? withFaults(definition, this.controllerFor(name)) : definition;
  }

  /** Loads a scenario module (now, or as a hotload into the running node); a failure goes on the timeline. */
  load(name: string, definition: LoadableModule, actor: string, how: 'load' | 'hotload'): Promise<void> {
    this.loaded.delete(name);
    this.loaded.set(name, { definition, actor });
    if (definition.replay !== undefined && definition.replay !== false) this.durability?.owe(this.node, name, definition.subscribe);
    const m = this.describe(name, definition, actor);
    m.loads.push({ t: this.now(), how });
    if (how === 'hotload') this.note(name, 'hotload', `hotload ${name} ${definition.version}`);
    return this.node.load(this.prepared(name, definition)).then(
      () => undefined,
      (error: unknown) => {
        // A module that never started is told once: by the timeline when the node stopped it as
        // its first start failed, else here (a load refused before its actor ran).
        if (didNotStart(m)) return;
        const load = this.recorder.currentLoad(name);
        if (isModactorError(error, 'module-startup-failed') && !m.announcedLoads.includes(load)) {
          m.supervision.push({ t: this.now(), what: 'gave-up', load, detail: errorMessage(error) });
          this.note(name, 'did-not-start', `did not start ${name}: ${errorMessage(error)}`);
        } else {
          this.note(name, 'error', `${how} failed: ${errorMessage(error)}`);
        }
      },
    );
  }

  /** Loads one of the simulator's own modules (the recorder, the bridge) before the scenario starts. */
  loadOwn(name: string, definition: LoadableModule, label: string): Promise<void> {
    const m = this.describe(name, definition, label);
    m.internal = true;
    m.loads.push({ t: 0, how: 'load' });
    return this.until(this.node.load(this.prepared(name, definition)), `the ${label} module did not start`);
  }

  /** Loads the recorder: it witnesses every lifecycle event and takes the final checkpoint. */
  start(): Promise<void> {
    return this.loadOwn(RECORDER_NAME, this.recorderDefinition(), 'recorder');
  }

  /** Loads the recorder into a restarted node (the scheduler is being driven already). */
  loadRecorder(): Promise<void> {
    const definition = this.recorderDefinition();
    this.describe(RECORDER_NAME, definition, 'recorder').loads.push({ t: this.now(), how: 'load' });
    return this.settle('load', RECORDER_NAME, this.node.load(this.prepared(RECORDER_NAME, definition)));
  }

  private recorderDefinition(): LoadableModule {
    return recorderModule(() => (this.shuttingDown ? this.checkpoint('after-modules-stopped') : undefined));
  }

  /** What a node operation came to: nothing when it succeeded, a timeline error when it failed. */
  settle(what: string, module: string | null, promise: Promise<unknown>): Promise<void> {
    return promise.then(
      () => undefined,
      (error: unknown) => this.note(module, 'error', `${what} failed: ${errorMessage(error)}`),
    );
  }

  /** Records the node's view (statistics, announced modules, subscribers) beside the trace's own. */
  async checkpoint(label: Checkpoint['label']): Promise<void> {
    const t = this.now();
    const stats = Object.fromEntries(await this.node.events.getAllDeliveryStats());
    const announced = await this.node.events.getLoadedModules();
    const subscribers: Record<string, string[]> = {};
    if (label === 'before-shutdown') {
      for (const type of nodeCatalogue.types) {
        const names = await this.node.events.getSubscribers(type);
        if (names.length > 0) subscribers[type] = names;
      }
    }
    // In virtual time nothing runs between these queries; in real time modules run on, except once
    // they have all stopped.
    this.recorder.checkpoint(label, t, { stats, announced, subscribers, settled: this.sim !== null || label === 'after-modules-stopped' });
  }

  /** The scenario's graceful shutdown; resolves {@link finished} whatever happens. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    const trace = this.trace;
    trace.shutdown.requestedAt = this.now();
    const reason = this.interrupted === null ? this.scenario.shutdown.reason : `interrupted: ${this.interrupted}`;
    try {
      await this.checkpoint('before-shutdown');
      this.note(null, 'shutdown', `shutdown requested: ${reason}`);
      await this.node.shutdown(reason);
      trace.shutdown.completedAt = this.now();
      if (this.disk !== null) await this.durability?.finish(this.disk);
      this.note(null, 'shutdown', 'shutdown completed: every module stopped, the actor system stopped');
    } catch (error) {
      trace.shutdown.error = errorMessage(error);
    }
    trace.shutdown.systemStopped = !this.node.system.isRunning;
    trace.shutdown.rootFailures = this.node.system.rootFailures().map((f) => f.message);
    this.finish();
  }

  /** Waits for the end of the shutdown, then stops observing the node. */
  async ended(): Promise<void> {
    await this.until(this.finished, 'the simulation went quiet before its shutdown completed');
    this.stopInspecting();
  }

  /** Records every event a module takes, and lets the armed faults strike it. */
  private controllerFor(name: string): FaultController {
    const life = this.nodeLife;
    return {
      decide: (event, ctx) => {
        // A module of a node whose process died does nothing more.
        if (life !== this.nodeLife) return { kind: 'hang', forMs: null };
        this.recorder.take(name, ctx.instanceId, event, this.now());
        this.durability?.take(name, event, this.now());
        return this.faults.decide(name, event, this.now());
      },
    };
  }
}
