import type { InspectionEvent } from '../kernel/inspection.js';
import { DEFAULT_MAILBOX_CAPACITY, DEFAULT_RESERVE_CAPACITY } from '../kernel/mailbox.js';
import type { RestartType } from '../kernel/supervision.js';
import { nodeCatalogue } from '../events/node-catalogue.js';
import type { DeliveryStats } from '../node/delivery-stats.js';
import { DEFAULT_PRIORITY_CAPACITY, DEFAULT_RESTART_POLICY } from '../node/module-supervisor.js';
import { RECORDER_NAME } from './scenario.js';
import type { DurabilityTrace } from './node-restart.js';

/**
 * What the simulator observes of a run, as plain data: every offer, drop, take, completion and
 * loss of an event at every module incarnation (from the actor system's inspection stream and the
 * fault wrapper), the lifecycle events in publish order (through the recorder module), crashes,
 * restarts and checkpoints of the node's own statistics. The invariants are pure functions of a
 * trace, so a test can hand them a doctored one and see them fail.
 */

/** `reserved`: the user lane, in order with routine events, past the routine bound (membership events). */
export type TraceLane = 'user' | 'reserved' | 'priority';

/**
 * One thing that happened to an event at one module incarnation, named in the code's one
 * vocabulary (docs/event-system.md, "Names"): an offer is `enqueued`, refused as `full` or
 * refused as `closed`; an enqueued event is `taken`, then `handled`, or `lost`.
 */
export type TraceOp =
  /** Enqueued into the incarnation's mailbox (inspection: `offered`; statistics: `successful`). */
  | { readonly op: 'enqueued'; readonly ev: number; readonly lane: TraceLane; readonly t: number }
  /** Not enqueued: the lane was full (statistics: `channelFull`). */
  | { readonly op: 'full'; readonly ev: number; readonly t: number }
  /** Not enqueued: the mailbox was closed (statistics: `failed`). */
  | { readonly op: 'closed'; readonly ev: number; readonly t: number }
  /** Taken by the module's handler (seen by the fault wrapper; in-process modules only). */
  | { readonly op: 'taken'; readonly ev: number; readonly t: number }
  /** The handler finished it. */
  | { readonly op: 'handled'; readonly ev: number; readonly t: number }
  /** The incarnation failed (a handler threw or rejected). */
  | { readonly op: 'failed'; readonly t: number }
  /** Lost with the mailbox when the incarnation terminated (queued or in hand). */
  | { readonly op: 'lost'; readonly ev: number; readonly t: number };

/** True for the outcome of an offer (enqueued, full or closed). */
export function isOffer(op: TraceOp): op is Extract<TraceOp, { op: 'enqueued' | 'full' | 'closed' }> {
  return op.op === 'enqueued' || op.op === 'full' || op.op === 'closed';
}

/** An event as the trace knows it. */
export interface TraceEvent {
  readonly type: string;
  /** The lane the router chose for it, from its first offer (null if it was never enqueued anywhere). */
  lane: TraceLane | null;
  /** For ModuleLoaded / ModuleUnloaded: the module it is about and that module's announcement number. */
  readonly about: { readonly module: string; readonly epoch: number } | null;
}

export interface TraceIncarnation {
  readonly id: string;
  /** Which load of the module this incarnation belongs to, from 1 (restarts keep it). */
  load: number;
  readonly spawnedAt: number;
  endedAt: number | null;
  readonly ops: TraceOp[];
}

export interface TraceModule {
  readonly name: string;
  /**
   * One of the simulator's own modules (the recorder, the bridge): observed like any other, but
   * left out of the report's rows and of what the invariants check and count.
   */
  internal: boolean;
  /** In-process modules are wrapped by the simulator, so their takes are observed. */
  kind: 'in-process' | 'process';
  actor: string;
  /** Capacity of its mailbox's user lane (routine events), its reserve past it (membership events) and its priority lane (critical events). */
  capacity: number;
  reserveCapacity: number;
  priorityCapacity: number;
  /** Subscribed to ModuleLoaded / ModuleUnloaded / NodeShutdown by its definition or a command. */
  subscribesLoaded: boolean;
  subscribesUnloaded: boolean;
  subscribesShutdown: boolean;
  restart: { readonly type: RestartType; readonly maxRestarts: number; readonly withinMs: number };
  /** Each load (load, hotload, reload, restart command) spawns the module's actor anew. */
  readonly loads: { readonly t: number; readonly how: string }[];
  /** The loads (numbered from 1, as {@link TraceIncarnation.load}) in which it was announced at least once. */
  readonly announcedLoads: number[];
  readonly incarnations: TraceIncarnation[];
  /**
   * Incarnation failures (crashes, with what failed), restarts in place by the kernel, and the
   * give-up, in time order.
   */
  readonly supervision: { readonly t: number; readonly what: 'crash' | 'restart' | 'gave-up' | 'stopped'; readonly load: number; readonly detail?: string }[];
  /** Offers or takes seen at a terminated incarnation. */
  readonly afterTermination: { readonly t: number; readonly what: string }[];
}

/** The node's view at one moment, for the checks that compare it with what was observed. */
export interface Checkpoint {
  /** `node-restarted`: right after a restarted node restored its statistics (what later ones count from). */
  readonly label: 'before-shutdown' | 'after-modules-stopped' | 'node-restarted';
  readonly t: number;
  /**
   * True when nothing ran while the checkpoint was taken, so the node's view and the trace's are
   * of one moment: always in deterministic mode, and after every module stopped. A checkpoint
   * taken in real time while modules run is not, and the checks that compare views skip it.
   */
  readonly settled: boolean;
  readonly stats: Readonly<Record<string, DeliveryStats>>;
  /** Announced (loaded) modules, per the EventManager. */
  readonly announced: readonly string[];
  /** Subscribers per event type, per the EventManager (before-shutdown only). */
  readonly subscribers: Readonly<Record<string, readonly string[]>>;
  /** Modules live per the observed trace (current incarnation alive) at that moment. */
  readonly live: readonly string[];
  /** Announcement number of each module at that moment (from the recorder's stream). */
  readonly epochs: Readonly<Record<string, number>>;
  /** How many ops each incarnation of each module had at that moment (module → per incarnation). */
  readonly cut: Readonly<Record<string, readonly number[]>>;
}

/** A lifecycle event in publish order, as the recorder module was offered it. */
export interface LifecycleRecord {
  readonly t: number;
  readonly type: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Trace {
  readonly events: TraceEvent[];
  readonly modules: Map<string, TraceModule>;
  readonly lifecycle: LifecycleRecord[];
  readonly checkpoints: Checkpoint[];
  shutdown: { requestedAt: number | null; completedAt: number | null; systemStopped: boolean; rootFailures: string[]; error: string | null };
  /** With a store (`node.store`): the node's lives and what the durable-delivery invariant checks. */
  durability?: DurabilityTrace;
}

/** The modules of the scenario, the simulator's own left out. */
export function scenarioModules(trace: Trace): TraceModule[] {
  return [...trace.modules.values()].filter((m) => !m.internal);
}

/** True when `name` is one of the simulator's own modules in this trace. */
export function isInternal(trace: Trace, name: string): boolean {
  return trace.modules.get(name)?.internal === true;
}

/**
 * True when the module's last load never started: no incarnation of it was announced, and its
 * kernel gave it up (its startup failed every time it was tried).
 */
export function didNotStart(m: TraceModule): boolean {
  const gaveUp = m.supervision.findLast((s) => s.what === 'gave-up');
  const lastLoad = m.incarnations.at(-1)?.load ?? gaveUp?.load;
  return gaveUp !== undefined && gaveUp.load === lastLoad && !m.announcedLoads.includes(gaveUp.load);
}

export function emptyTrace(): Trace {
  return {
    events: [],
    modules: new Map(),
    lifecycle: [],
    checkpoints: [],
    shutdown: { requestedAt: null, completedAt: null, systemStopped: false, rootFailures: [], error: null },
  };
}

/** A module's actor: one per module, its incarnations restarted in place. */
const MODULE = /^\/modules\/([^/]+)$/;
const RECORDER_PATH = `/modules/${RECORDER_NAME}`;

function isEvent(message: unknown): message is { type: string; payload: Record<string, unknown> } {
  if (typeof message !== 'object' || message === null) return false;
  const { type, payload } = message as { type?: unknown; payload?: unknown };
  return typeof type === 'string' && typeof payload === 'object' && payload !== null && nodeCatalogue.has(type);
}

/** A module given up (past its restart intensity), as the trace hooks tell it. */
export interface GiveUp {
  /** The kernel's reason: `more than 2 restarts within 20000 ms (last: ...)`. */
  readonly detail: string;
  /** The last failure of its incarnation. */
  readonly last: string;
  /** Restarts allowed within the window (so it was tried `restarts + 1` times in it). */
  readonly restarts: number;
  /** False when no incarnation of that load was ever announced (its startup failed every time). */
  readonly started: boolean;
}

/**
 * Builds a {@link Trace} from the actor system's inspection stream (install {@link observe} with
 * `node.system.inspect`) and from the fault wrapper's takes ({@link take}).
 */
export interface TraceHooks {
  /** A lifecycle event was offered to the recorder module (publish order). */
  readonly onLifecycle?: (t: number, type: string, payload: Readonly<Record<string, unknown>>) => void;
  /**
   * A module was given up (its restart intensity exceeded); `started` is false when no
   * incarnation of that load was ever announced (its startup failed every time).
   */
  readonly onGaveUp?: (t: number, module: string, giveUp: GiveUp) => void;
}

export class TraceRecorder {
  readonly trace: Trace = emptyTrace();

  constructor(private readonly hooks: TraceHooks = {}) {}

  private readonly ids = new WeakMap<object, number>();
  /** Current incarnation per module (the latest spawned), alive or not. */
  private readonly current = new Map<string, { inc: TraceIncarnation; alive: boolean }>();
  private readonly loadsSeen = new Map<string, number>();
  private readonly epochs = new Map<string, number>();
  private readonly announced = new Set<string>();

  /** The module record, created with defaults on first sight. */
  module(name: string): TraceModule {
    let m = this.trace.modules.get(name);
    if (m === undefined) {
      m = {
        name,
        internal: false,
        kind: 'in-process',
        actor: name,
        capacity: DEFAULT_MAILBOX_CAPACITY,
        reserveCapacity: DEFAULT_RESERVE_CAPACITY,
        priorityCapacity: DEFAULT_PRIORITY_CAPACITY,
        subscribesLoaded: false,
        subscribesUnloaded: false,
        subscribesShutdown: false,
        restart: { ...DEFAULT_RESTART_POLICY },
        loads: [],
        announcedLoads: [],
        incarnations: [],
        supervision: [],
        afterTermination: [],
      };
      this.trace.modules.set(name, m);
    }
    return m;
  }

  /** The load of a module seen last, numbered from 1 (0 before its first). */
  currentLoad(name: string): number {
    return this.loadsSeen.get(name) ?? 0;
  }

  /** Announcement numbers so far, per module. */
  epochsNow(): Record<string, number> {
    return Object.fromEntries(this.epochs);
  }

  /** Records a checkpoint: the node's view given, the trace's own view taken now. */
  checkpoint(
    label: Checkpoint['label'],
    t: number,
    view: {
      stats: Readonly<Record<string, DeliveryStats>>;
      announced: readonly string[];
      subscribers: Readonly<Record<string, readonly string[]>>;
      settled: boolean;
    },
  ): Checkpoint {
    const cut: Record<string, number[]> = {};
    for (const m of this.trace.modules.values()) cut[m.name] = m.incarnations.map((inc) => inc.ops.length);
    const checkpoint: Checkpoint = { label, t, ...view, live: this.liveNow(), epochs: this.epochsNow(), cut };
    this.trace.checkpoints.push(checkpoint);
    return checkpoint;
  }

  /** Modules whose current incarnation is alive. */
  liveNow(): string[] {
    return [...this.current].filter(([, c]) => c.alive).map(([name]) => name);
  }

  private eventId(message: { type: string; payload: Record<string, unknown> }): number {
    const known = this.ids.get(message);
    if (known !== undefined) return known;
    const id = this.trace.events.length;
    let about: TraceEvent['about'] = null;
    if (message.type === 'ModuleLoaded' || message.type === 'ModuleUnloaded') {
      const module = String(message.payload.moduleName);
      about = { module, epoch: this.epochs.get(module) ?? 0 };
    }
    this.trace.events.push({ type: message.type, lane: null, about });
    this.ids.set(message, id);
    return id;
  }

  /** Called by the fault wrapper when a module's handler takes an event. */
  take(module: string, incarnation: string, event: object, t: number): void {
    if (!isEvent(event)) return;
    const ev = this.eventId(event);
    const c = this.current.get(module);
    if (c === undefined || c.inc.id !== incarnation) {
      this.module(module).afterTermination.push({ t, what: `an incarnation the trace does not know took ${event.type}` });
      return;
    }
    if (!c.alive) this.module(module).afterTermination.push({ t, what: `took ${event.type} after it terminated` });
    c.inc.ops.push({ op: 'taken', ev, t });
  }

  /**
   * The module supervisor stops a module whose first start failed (it is not restarted): a give-up
   * of a load that never started, its last failure the crash just recorded.
   */
  private onDirective(child: string, directive: string, t: number): void {
    const instance = MODULE.exec(child);
    if (instance === null || directive !== 'stop') return;
    const name = instance[1] as string;
    const m = this.module(name);
    const load = this.loadsSeen.get(name) ?? 1;
    const last = m.supervision.findLast((s) => s.what === 'crash')?.detail ?? 'its first start failed';
    m.supervision.push({ t, what: 'gave-up', load });
    this.hooks.onGaveUp?.(t, name, { detail: last, last, restarts: 0, started: m.announcedLoads.includes(load) });
  }

  /** The inspection observer: install with `node.system.inspect(recorder.observe)`. */
  readonly observe = (event: InspectionEvent, t: number): void => {
    if (event.type === 'directive') {
      this.onDirective(event.child, event.directive, t);
      return;
    }
    const actor = event.actor;
    const instance = MODULE.exec(actor);
    if (instance === null) return;
    const name = instance[1] as string;
    if (event.type === 'offered' && actor === RECORDER_PATH && isEvent(event.message)) this.onLifecycle(event.message, t);
    switch (event.type) {
      case 'spawned': {
        // A new load, unless a 'restarted' follows at once (the kernel restarting it in place).
        const load = (this.loadsSeen.get(name) ?? 0) + 1;
        this.loadsSeen.set(name, load);
        const m = this.module(name);
        const inc: TraceIncarnation = { id: event.incarnation, load, spawnedAt: t, endedAt: null, ops: [] };
        m.incarnations.push(inc);
        this.current.set(name, { inc, alive: true });
        return;
      }
      case 'restarted': {
        const load = Math.max(1, (this.loadsSeen.get(name) ?? 1) - 1);
        this.loadsSeen.set(name, load);
        const c = this.current.get(name);
        if (c !== undefined) c.inc.load = load;
        this.module(name).supervision.push({ t, what: 'restart', load });
        return;
      }
      case 'terminated': {
        const c = this.current.get(name);
        if (c !== undefined) {
          c.alive = false;
          c.inc.endedAt = t;
        }
        return;
      }
      case 'failed': {
        if (event.failure.kind === 'intensity-exceeded') {
          // Past its restart intensity: the module is stopped for good.
          const m = this.module(name);
          const load = this.loadsSeen.get(name) ?? 1;
          m.supervision.push({ t, what: 'gave-up', load });
          const { message, cause, restarts } = event.failure;
          this.hooks.onGaveUp?.(t, name, { detail: message, last: cause.message, restarts, started: m.announcedLoads.includes(load) });
          return;
        }
        const c = this.current.get(name);
        if (c === undefined) return;
        c.inc.ops.push({ op: 'failed', t });
        this.module(name).supervision.push({ t, what: 'crash', load: c.inc.load, detail: event.failure.message });
        return;
      }
      case 'offered':
      case 'dropped':
      case 'handled':
      case 'dead-letter': {
        if (!isEvent(event.message)) return;
        const c = this.current.get(name);
        if (c === undefined) return;
        const ev = this.eventId(event.message);
        const ops = c.inc.ops;
        if (event.type === 'offered') {
          if (!c.alive) this.module(name).afterTermination.push({ t, what: `was offered ${event.message.type} after it terminated` });
          ops.push({ op: 'enqueued', ev, lane: event.lane, t });
          const info = this.trace.events[ev];
          if (info !== undefined && info.lane === null) info.lane = event.lane;
        } else if (event.type === 'dropped') {
          ops.push({ op: event.reason, ev, t });
        } else if (event.type === 'handled') {
          ops.push({ op: 'handled', ev, t });
        } else if (event.reason === 'lost-on-termination') {
          ops.push({ op: 'lost', ev, t });
        }
        return;
      }
      default:
        return;
    }
  };

  private onLifecycle(message: { type: string; payload: Record<string, unknown> }, t: number): void {
    const module = typeof message.payload.moduleName === 'string' ? message.payload.moduleName : '';
    if (message.type === 'ModuleLoaded') {
      this.epochs.set(module, (this.epochs.get(module) ?? 0) + 1);
      this.announced.add(module);
      const load = this.loadsSeen.get(module) ?? 1;
      const m = this.module(module);
      if (!m.announcedLoads.includes(load)) m.announcedLoads.push(load);
    } else if (message.type === 'ModuleUnloaded') {
      this.announced.delete(module);
    } else if (message.type === 'ModuleStopped') {
      const m = this.trace.modules.get(module);
      m?.supervision.push({ t, what: 'stopped', load: this.loadsSeen.get(module) ?? 1 });
    }
    const record = { t, type: message.type, payload: { ...message.payload } };
    this.trace.lifecycle.push(record);
    this.hooks.onLifecycle?.(t, record.type, record.payload);
  }
}
