/**
 * The system under test for the model-based node properties: a node with a pool of probe modules
 * whose handlers record what they receive, can be slowed down (held on a gate) or made to crash, a
 * crowd of idle modules (up to hundreds, so replays are far larger than a mailbox), plus an
 * observer that checks the guarantees of SPEC section 2 after every command.
 */
import type fc from 'fast-check';
import {
  createNode,
  createSimulatedScheduler,
  defineModule,
  EventType,
  type ModactorNode,
  type NodeEvent,
  type Scheduler,
  type SimulatedScheduler,
  type TimerHandle,
} from '../../src/index.js';

export const CAPACITY = 4;
/** Room for membership events past the routine bound: more than any run can queue. */
export const RESERVE = 1000;
export const MODULE_NAMES = ['m0', 'm1', 'm2', 'm3'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];
const MEMBERSHIP = new Set(['ModuleLoaded', 'ModuleUnloaded', 'ModuleCrashed']);

/** How the test drives time and order: our simulated scheduler, or fast-check's. */
export interface Driver {
  readonly scheduler: Scheduler;
  /** Runs everything runnable, then moves virtual time by `ms`. */
  advance(ms: number): Promise<void>;
  /** Runs until nothing is runnable and no timer is due within `horizonMs`. */
  settle(horizonMs: number): Promise<void>;
}

export function simulatedDriver(seed: number): Driver & { scheduler: SimulatedScheduler } {
  const scheduler = createSimulatedScheduler({ seed, autoRun: false });
  return {
    scheduler,
    advance: (ms) => scheduler.advanceBy(ms),
    settle: (horizonMs) => scheduler.advanceBy(horizonMs),
  };
}

/**
 * A Scheduler whose every actor turn is a promise scheduled on a fast-check scheduler, so
 * fast-check chooses (and shrinks) the interleaving. Timers wait in virtual time.
 */
export function fastCheckDriver(s: fc.Scheduler): Driver {
  let clock = 0;
  let ids = 0;
  let timerSeq = 0;
  const timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  const scheduler: Scheduler = {
    kind: 'simulated',
    throughput: 1,
    now: () => clock,
    enqueue(task) {
      void s.schedule(Promise.resolve(), 'turn').then(() => task.runSlice(1));
    },
    setTimer(delayMs, fn): TimerHandle {
      const timer = { at: clock + Math.max(0, delayMs), seq: timerSeq++, fn, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
    random: () => 0.5,
    newId: () => `fc-${++ids}`,
  };
  const drain = async (): Promise<void> => {
    for (let i = 0; i < 10_000; i++) {
      await s.waitAll();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (s.count() === 0) return;
    }
  };
  const advance = async (ms: number): Promise<void> => {
    const target = clock + ms;
    await drain();
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.cancelled = true;
      clock = Math.max(clock, due.at);
      due.fn();
      await drain();
    }
    clock = target;
    for (let i = timers.length - 1; i >= 0; i--) if (timers[i]?.cancelled === true) timers.splice(i, 1);
  };
  return { scheduler, advance, settle: advance };
}

interface ProbeState {
  slow: boolean;
  crashNext: boolean;
  gates: (() => void)[];
}

/** The real system plus what the observer saw. */
export class NodeUnderTest {
  readonly node: ModactorNode;
  readonly probes = new Map<ModuleName, ProbeState>();
  /** Every handler call: module, incarnation, event. */
  readonly deliveries: { module: string; instance: string; event: NodeEvent }[] = [];
  /** Names of the idle crowd, loaded first. */
  readonly crowd: string[] = [];
  /** Violations seen inside handlers (delivery to a terminated incarnation). */
  readonly violations: string[] = [];
  /** Incarnation ids that terminated (from inspection). */
  readonly dead = new Set<string>();
  /** Handler completions and failures per module, counted by the probes themselves. */
  readonly completed = new Map<string, { ok: number; threw: number }>();
  private readonly currentIncarnation = new Map<string, string>();
  private height = 0;
  private pending: Promise<unknown>[] = [];

  constructor(readonly driver: Driver) {
    this.node = createNode({ scheduler: driver.scheduler, shutdownTimeoutMs: 1000 });
    this.node.system.inspect((event) => {
      if (event.type === 'spawned') this.currentIncarnation.set(event.actor, event.incarnation);
      if (event.type === 'terminated') {
        const incarnation = this.currentIncarnation.get(event.actor);
        if (incarnation !== undefined) this.dead.add(incarnation);
      }
    });
  }

  private probe(name: ModuleName): ProbeState {
    let probe = this.probes.get(name);
    if (probe === undefined) {
      probe = { slow: false, crashNext: false, gates: [] };
      this.probes.set(name, probe);
    }
    return probe;
  }

  /** Keeps a promise from being unhandled; its outcome is not what the properties are about. */
  private track(promise: Promise<unknown>): void {
    this.pending.push(promise.catch(() => undefined));
  }

  load(name: ModuleName, watchesMembership: boolean): void {
    const probe = this.probe(name);
    const count = (field: 'ok' | 'threw'): void => {
      const c = this.completed.get(name) ?? { ok: 0, threw: 0 };
      c[field]++;
      this.completed.set(name, c);
    };
    const module = defineModule({
      name,
      version: '1',
      mailboxCapacity: CAPACITY,
      membershipCapacity: RESERVE,
      subscribe: watchesMembership
        ? [EventType.NewBlock, EventType.DataMaintenance, EventType.ModuleLoaded, EventType.ModuleUnloaded, EventType.ModuleCrashed]
        : [EventType.NewBlock, EventType.DataMaintenance],
      restart: { maxRestarts: 1_000_000, withinMs: 1 },
      handle: async (event, ctx) => {
        if (this.dead.has(ctx.instanceId)) this.violations.push(`${name}/${ctx.instanceId} handled ${event.type} after it terminated`);
        this.deliveries.push({ module: name, instance: ctx.instanceId, event });
        if (probe.slow) await new Promise<void>((resolve) => probe.gates.push(resolve));
        if (probe.crashNext && event.type === 'NewBlock') {
          probe.crashNext = false;
          count('threw');
          throw new Error(`${name} crashes on purpose`);
        }
        count('ok');
      },
    });
    this.track(this.node.load(module));
  }

  /** Loads `size` idle modules that subscribe to nothing: each is announced, so each is replayed. */
  loadCrowd(size: number): void {
    for (let i = 0; i < size; i++) {
      const name = `c${i}`;
      this.crowd.push(name);
      this.track(this.node.load(defineModule({ name, version: '1', subscribe: [], handle() {} })));
    }
  }

  subscribeMembership(name: ModuleName): void {
    this.track(this.node.events.subscribe(name, [EventType.ModuleLoaded, EventType.ModuleUnloaded, EventType.ModuleCrashed]));
  }

  publish(): void {
    this.height++;
    this.node.publisher.newBlock(this.height.toString(16).padStart(64, '0'), this.height);
  }

  /** A critical event: it may overtake what is queued, never what is critical too. */
  publishCritical(): void {
    this.node.publisher.dataMaintenance('flush', 'high', 'manual');
  }

  slowDown(name: ModuleName): void {
    this.probe(name).slow = true;
  }

  release(name: ModuleName): void {
    const probe = this.probe(name);
    probe.slow = false;
    for (const open of probe.gates.splice(0)) open();
  }

  crash(name: ModuleName): void {
    this.probe(name).crashNext = true;
  }

  restart(name: ModuleName): void {
    this.track(this.node.reload(name));
  }

  unload(name: ModuleName): void {
    this.track(this.node.unload(name));
  }

  releaseAll(): void {
    for (const name of this.probes.keys()) this.release(name);
  }

  /** Resolves `promise` while driving the scheduler. */
  async query<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    for (let i = 0; !done && i < 100; i++) await this.driver.advance(0);
    return tracked;
  }

  instance(name: string): { isAlive: boolean; queued: number; queuedRoutine: number; incarnation: string } | undefined {
    return this.node.system.lookup(`/modules/${name}`);
  }

  async dispose(): Promise<void> {
    this.releaseAll();
    await this.query(this.node.shutdown('end of run'));
    await Promise.all(this.pending);
  }
}

/** Safety properties that hold after every command. Returns the violations found. */
export function safetyViolations(sut: NodeUnderTest): string[] {
  const found = [...sut.violations];
  // Per incarnation, one order for everything but critical events (which may overtake), by the
  // node-wide publish sequence number stamped on every event.
  const lastSeq = new Map<string, number>();
  const lastCritical = new Map<string, number>();
  const membership = new Map<string, string>(); // `${instance}|${subject}` -> last membership event
  for (const { module, instance, event } of sut.deliveries) {
    const seq = event.meta?.seq ?? -1;
    const critical = event.type === 'DataMaintenance';
    const last = critical ? lastCritical : lastSeq;
    const previous = last.get(instance) ?? 0;
    if (seq <= previous) found.push(`${module}/${instance}: ${event.type} #${seq} after #${previous} (FIFO)`);
    last.set(instance, seq);
    if (MEMBERSHIP.has(event.type)) {
      const subject = (event.payload as { moduleName: string }).moduleName;
      const key = `${instance}|${subject}`;
      const last = membership.get(key);
      if (event.type === 'ModuleLoaded' && last !== undefined && last !== 'ModuleUnloaded') {
        found.push(`${module}/${instance}: ModuleLoaded(${subject}) twice without ModuleUnloaded between`);
      }
      if (event.type !== 'ModuleLoaded' && last !== 'ModuleLoaded' && !(event.type === 'ModuleUnloaded' && last === 'ModuleCrashed')) {
        found.push(`${module}/${instance}: ${event.type}(${subject}) without a ModuleLoaded(${subject}) before it`);
      }
      membership.set(key, event.type);
    }
  }
  for (const name of MODULE_NAMES) {
    const instance = sut.instance(name);
    if (instance === undefined) continue;
    if (instance.queuedRoutine > CAPACITY) found.push(`${name}: ${instance.queuedRoutine} routine events queued in a mailbox of ${CAPACITY}`);
    if (instance.queued - instance.queuedRoutine > RESERVE) {
      found.push(`${name}: ${instance.queued - instance.queuedRoutine} membership events queued past a reserve of ${RESERVE}`);
    }
  }
  return found;
}

/**
 * Properties that hold when the system is quiet: nobody dead is subscribed; every live module
 * that watches membership has seen every other announced module exactly once since it started;
 * and the accounting law, cross-checked against the kernel's own count of offers.
 */
export async function quiescentViolations(
  sut: NodeUnderTest,
  loaded: ReadonlySet<string>,
  watchers: ReadonlySet<string>,
): Promise<string[]> {
  const found: string[] = [];
  const subscribers = await sut.query(sut.node.events.getSubscribers(EventType.NewBlock));
  for (const name of subscribers) {
    if (sut.instance(name)?.isAlive !== true) found.push(`${name} is dead but still subscribed`);
  }
  // The model's view: a loaded module whose incarnation lives has been announced by now.
  const announced = [...sut.crowd, ...MODULE_NAMES.filter((name) => loaded.has(name) && sut.instance(name)?.isAlive === true)];
  const registry = await sut.query(sut.node.events.getLoadedModules());
  if ([...registry].sort().join() !== [...announced].sort().join()) {
    found.push(`loaded-modules registry [${registry.join()}] but live loaded modules are [${announced.join()}]`);
  }
  for (const watcher of watchers) {
    const instance = sut.instance(watcher);
    if (instance?.isAlive !== true || !(announced as readonly string[]).includes(watcher)) continue;
    const seen = new Map<string, number>();
    for (const d of sut.deliveries) {
      if (d.instance !== instance.incarnation) continue;
      if (d.event.type !== 'ModuleLoaded' && d.event.type !== 'ModuleUnloaded') continue;
      const subject = d.event.payload.moduleName;
      seen.set(subject, (seen.get(subject) ?? 0) + (d.event.type === 'ModuleLoaded' ? 1 : -1));
    }
    for (const subject of [...sut.crowd, ...MODULE_NAMES]) {
      if (subject === watcher) continue;
      const expected = announced.includes(subject) ? 1 : 0;
      const actual = seen.get(subject) ?? 0;
      if (actual !== expected) found.push(`${watcher}: ModuleLoaded(${subject}) net ${actual}, expected ${expected}`);
    }
  }
  const all = await sut.query(sut.node.events.getAllDeliveryStats());
  for (const [name, stats] of all) {
    // The accounting law: every event offered ended in one counted outcome or is still pending,
    // and only a live module that is held on a gate has any pending once the system is quiet.
    const pending = stats.successful - stats.handled - stats.handlerFailed - stats.lostOnCrash;
    const live = sut.instance(name)?.isAlive === true;
    const held = sut.probes.get(name as ModuleName)?.slow === true;
    if (pending < 0 || (!(live && held) && pending !== 0)) {
      found.push(`${name}: ${pending} pending (live: ${String(live)}, held: ${String(held)}) breaks the accounting law`);
    }
    const c = sut.completed.get(name) ?? { ok: 0, threw: 0 };
    if (stats.handlerFailed > c.threw) found.push(`${name}: handlerFailed ${stats.handlerFailed}, probes threw only ${c.threw}`);
    if (stats.handled > c.ok) found.push(`${name}: handled ${stats.handled}, probes finished only ${c.ok}`);
  }
  return found;
}
