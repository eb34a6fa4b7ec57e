import type { Logger } from 'pino';
import { ModactorError } from './errors.js';
import { isThenable } from './is-thenable.js';
import { Mailbox, type OfferResult } from './mailbox.js';
import type { TimerHandle } from './scheduler.js';
import { parseSpawnOptions } from './spawn-options.js';
import {
  Backoff,
  RestartWindow,
  describeExit,
  failureFrom,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_WITHIN_MS,
  type Directive,
  type ExitReason,
  type Failure,
  type RestartType,
  type SupervisorOptions,
} from './supervision.js';
import {
  instantiate,
  type ActorContext,
  type ActorRef,
  type Behavior,
  type BehaviorObject,
  type RestartLimit,
  type SpawnOptions,
} from './behavior.js';
import type { SystemInternals } from './system-internals.js';
import { describeThrown, errorForLog, loggedError, type LoggedError } from './foreign.js';

/** Signals of the system lane: never bounded, never dropped, handled before user messages. */
type SystemMessage =
  | { readonly kind: 'start' }
  | { readonly kind: 'stop'; readonly reason: ExitReason }
  | { readonly kind: 'terminated'; readonly target: AnyCell; readonly reason: ExitReason }
  | { readonly kind: 'child-failed'; readonly child: AnyCell; readonly failure: Failure }
  | { readonly kind: 'child-exited'; readonly child: AnyCell; readonly reason: ExitReason }
  | { readonly kind: 'stop-child'; readonly child: AnyCell; readonly done: () => void }
  | { readonly kind: 'restart-slots'; readonly slots: readonly ChildSlot[]; readonly delayMs: number }
  | { readonly kind: 'timer'; readonly fn: () => void }
  | { readonly kind: 'fail'; readonly error: unknown };

/** Shortest time between two "mailbox full" warnings of one actor. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** The first signal of every incarnation (one object for all). */
const START: SystemMessage = Object.freeze({ kind: 'start' });

/** A cell whatever its message type. @internal */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCell = ActorCell<any>;

type State = 'new' | 'running' | 'suspended' | 'stopping' | 'terminated';

/** A supervised child position: survives restarts, holds the current incarnation. */
interface ChildSlot {
  readonly name: string;
  readonly behavior: Behavior<unknown>;
  readonly options: SpawnOptions;
  readonly restart: RestartType;
  current: AnyCell | null;
  /** Set while the parent itself is stopping this incarnation, so its exit is not a surprise. */
  expectingExit: boolean;
  /** The child's own restart intensity and backoff (`SpawnOptions.restartLimit`), if it has one. */
  readonly limit: RestartLimit | null;
  /** Its restart window and backoff, made at its first restart (most children never restart). */
  window: RestartWindow | null;
  backoff: Backoff | null;
}

/** A child whose failure made its supervisor give up, with the exit reason it gets. */
interface FailedSlot {
  readonly slot: ChildSlot;
  readonly reason: ExitReason;
}

interface Supervisor {
  readonly options: SupervisorOptions;
  readonly window: RestartWindow;
  readonly backoff: Backoff | null;
}

const DEFAULT_DIRECTIVE = (): Directive => 'restart';

/**
 * One incarnation of an actor: its mailbox, its behaviour, its place in the supervision tree.
 * It is its own {@link ActorRef} and its own {@link ActorContext}, so an idle actor is a single
 * object plus its mailbox.
 *
 * @internal
 */
export class ActorCell<M> implements ActorRef<M>, ActorContext<M> {
  readonly name: string;
  /** Made on first use from the parent's (most actors are never asked for it). */
  private path_: string | null = null;
  /** Its nanoid, made on first use (an idle actor nobody asks about never pays for one). */
  private id_: string | null = null;
  readonly mailbox: Mailbox<M, SystemMessage>;
  private state: State = 'new';
  private scheduled = false;
  private busy = false;
  private behavior: BehaviorObject<M> | null = null;
  private logger: Logger | null = null;
  /** Children by name, in start order (a Map keeps insertion order): O(1) lookup and removal. */
  private slots: Map<string, ChildSlot> | null = null;
  private supervisor: Supervisor | null = null;
  /** Who watches this incarnation: one (the common case, kept as is) or several. */
  private watchers: AnyCell | Set<AnyCell> | null = null;
  private watching: Set<AnyCell> | null = null;
  private timers: Set<TimerHandle> | null = null;
  private terminationListeners: Set<(reason: ExitReason) => void> | null = null;
  /** Drops in the current run of drops (0: not dropping). */
  private dropStreak = 0;
  /** Runs of drops begun since the last warning, when the last one was, and whether it was this run's. */
  private dropRuns = 0;
  private lastDropWarn = Number.NEGATIVE_INFINITY;
  private warnedRun = false;
  /** Behaviour-facing signals (Terminated, own timers) held while suspended, run on resume. */
  private deferred: SystemMessage[] | null = null;
  /** The message whose async handler is running, reported as lost if the actor is killed. */
  private inFlight: { readonly message: M } | null = null;
  /** The exit reason once terminated. */
  exitReason: ExitReason | null = null;


  constructor(
    private readonly system: SystemInternals<AnyCell>,
    readonly parent: AnyCell | null,
    private readonly spec: Behavior<M>,
    readonly options: SpawnOptions,
    name: string,
  ) {
    this.name = name;
    const capacity = options.mailboxCapacity ?? system.defaultMailboxCapacity;
    this.mailbox = new Mailbox<M, SystemMessage>(capacity, options.priorityCapacity ?? capacity, options.reserveCapacity);
    this.mailbox.offerSystem(START);
  }

  /** True when this cell was created by `system`. */
  belongsTo(system: SystemInternals<AnyCell>): boolean {
    return this.system === system;
  }

  // ---- ActorRef -------------------------------------------------------------------------------

  get isAlive(): boolean {
    return this.state !== 'terminated';
  }

  get queued(): number {
    return this.mailbox.size;
  }

  get path(): string {
    if (this.path_ !== null) return this.path_;
    const parent = this.parent;
    return (this.path_ = parent === null ? '/' : parent.path === '/' ? `/${this.name}` : `${parent.path}/${this.name}`);
  }

  /** The live child named `name`, if any (lookup walks the tree by path). */
  childNamed(name: string): AnyCell | null {
    return this.slots?.get(name)?.current ?? null;
  }

  get incarnation(): string {
    return (this.id_ ??= this.system.scheduler.newId());
  }

  get id(): string {
    return this.incarnation;
  }

  get queuedRoutine(): number {
    return this.mailbox.routineSize;
  }

  get mailboxCapacity(): number {
    return this.mailbox.capacity;
  }

  get self(): ActorRef<M> {
    return this;
  }

  tell(message: M, sender?: ActorRef<unknown>): OfferResult {
    return this.deliver(message, this.mailbox.offer(message), 'user', sender);
  }

  tellPriority(message: M, sender?: ActorRef<unknown>): OfferResult {
    return this.deliver(message, this.mailbox.offerPriority(message), 'priority', sender);
  }

  tellReserved(message: M, sender?: ActorRef<unknown>): OfferResult {
    return this.deliver(message, this.mailbox.offerReserved(message), 'reserved', sender);
  }

  /**
   * An offer its sender refused for this actor's bound, which counts what the actor holds beyond
   * its mailbox (a process module's events in flight): a drop as a full lane's is, dead-lettered
   * and logged the same. @internal
   */
  refuseFull(message: M): 'full' {
    this.deliver(message, 'full', 'user', undefined);
    return 'full';
  }

  private deliver(message: M, result: OfferResult, lane: 'user' | 'reserved' | 'priority', sender: ActorRef<unknown> | undefined): OfferResult {
    const system = this.system;
    if (result === 'enqueued') {
      if (system.inspector.active) system.inspector.emit({ type: 'offered', actor: this.path, lane, message });
      if (this.dropStreak > 0) this.recovered();
      if (!this.scheduled && !this.busy && this.state === 'running') this.schedule();
      return result;
    }
    if (result === 'full') {
      if (this.dropStreak++ === 0) this.startedDropping();
      // The drop path: unobserved, a drop is one counter more.
      if (!system.inspector.active && system.deadLetterObservers === 0) {
        system.deadLetterCounts['mailbox-full']++;
        return result;
      }
      if (system.inspector.active) system.inspector.emit({ type: 'dropped', actor: this.path, reason: result, message });
      system.deadLetter(sender?.path ?? null, this, message, 'mailbox-full');
    } else {
      if (system.inspector.active) system.inspector.emit({ type: 'dropped', actor: this.path, reason: result, message });
      system.deadLetter(sender?.path ?? null, this, message, 'closed');
    }
    return result;
  }

  /**
   * The first drop of a run of drops: a warning, at most one per {@link DROP_LOG_INTERVAL_MS} per
   * actor (a slow consumer that fills and drains all the time would log a line per run otherwise),
   * carrying how many runs began since the last one.
   */
  private startedDropping(): void {
    const now = this.system.scheduler.now();
    this.dropRuns++;
    if (now - this.lastDropWarn < DROP_LOG_INTERVAL_MS) return;
    this.lastDropWarn = now;
    this.log.warn({ capacity: this.mailbox.capacity, runs: this.dropRuns }, 'mailbox full: dropping messages until it drains');
    this.dropRuns = 0;
    this.warnedRun = true;
  }

  private recovered(): void {
    // Said only for a run whose start was said.
    if (this.warnedRun) this.log.info({ dropped: this.dropStreak }, 'mailbox drained: accepting messages again');
    this.warnedRun = false;
    this.dropStreak = 0;
  }

  // ---- ActorContext ---------------------------------------------------------------------------

  get log(): Logger {
    return (this.logger ??= this.system.logger.child(this.options.logBindings ?? { actor: this.path }));
  }

  spawn<C>(behavior: Behavior<C>, options: SpawnOptions = {}): ActorRef<C> {
    if (this.state === 'terminated' || this.state === 'stopping') {
      throw new ModactorError('system-stopped', `Cannot spawn a child of ${this.path}: it is ${this.state}`);
    }
    const parsed = parseSpawnOptions(options);
    const name = parsed.name ?? this.system.anonymousName();
    const slots = (this.slots ??= new Map());
    if (slots.has(name)) {
      throw new ModactorError('duplicate-name', `Expected a unique child name under ${this.path}, got "${name}" twice`);
    }
    const slot: ChildSlot = {
      name,
      behavior: behavior as Behavior<unknown>,
      options: parsed,
      restart: parsed.restart ?? 'permanent',
      current: null,
      expectingExit: false,
      limit: parsed.restartLimit ?? null,
      window: null,
      backoff: null,
    };
    // Start first: a constructor error (bad capacity) must leave no slot behind.
    const cell = this.startSlot(slot);
    slots.set(name, slot);
    return cell;
  }

  children(): ActorRef<unknown>[] {
    const out: ActorRef<unknown>[] = [];
    for (const slot of this.slots?.values() ?? []) if (slot.current !== null) out.push(slot.current);
    return out;
  }

  async stop(child: ActorRef<unknown>, timeoutMs?: number): Promise<void> {
    const slot = this.slotOf(child);
    if (slot === undefined) return;
    this.removeSlot(slot);
    await this.terminateSlot(slot, { kind: 'stopped' }, timeoutMs);
  }

  async stopChild(name: string, timeoutMs?: number): Promise<ExitReason | null> {
    const slot = this.slots?.get(name);
    if (slot === undefined) return null;
    const child = slot.current;
    this.removeSlot(slot);
    await this.terminateSlot(slot, { kind: 'stopped' }, timeoutMs);
    return child?.exitReason ?? null;
  }

  stopSelf(): void {
    this.mailbox.offerSystem({ kind: 'stop', reason: { kind: 'normal' } });
    this.wake();
  }

  crash(error: unknown): void {
    this.signal({ kind: 'fail', error });
  }

  watch(target: ActorRef<unknown>): void {
    const cell = this.system.cellOf(target);
    if (cell === (this)) return;
    (this.watching ??= new Set()).add(cell);
    if (cell.exitReason !== null) {
      this.signal({ kind: 'terminated', target: cell, reason: cell.exitReason });
    } else {
      cell.addWatcher(this);
    }
  }

  private addWatcher(watcher: AnyCell): void {
    const watchers = this.watchers;
    if (watchers === null || watchers === watcher) this.watchers = watcher;
    else if (watchers instanceof ActorCell) this.watchers = new Set([watchers, watcher]);
    else watchers.add(watcher);
  }

  private removeWatcher(watcher: AnyCell): void {
    const watchers = this.watchers;
    if (watchers === watcher) this.watchers = null;
    else if (watchers instanceof Set) watchers.delete(watcher);
  }

  unwatch(target: ActorRef<unknown>): void {
    const cell = this.system.cellOf(target);
    this.watching?.delete(cell);
    cell.removeWatcher(this);
  }

  now(): number {
    return this.system.scheduler.now();
  }

  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.system.scheduler.setTimer(ms, resolve);
    });
  }

  scheduleOnce(delayMs: number, message: M): TimerHandle {
    return this.ownTimer(delayMs, () => this.tell(message, this));
  }

  /** A timer of this incarnation: forgotten when it fires, cancelled when the incarnation terminates. */
  private ownTimer(delayMs: number, fire: () => void): TimerHandle {
    const timers = (this.timers ??= new Set());
    const handle = this.system.scheduler.setTimer(delayMs, () => {
      timers.delete(handle);
      fire();
    });
    timers.add(handle);
    return {
      cancel: () => {
        timers.delete(handle);
        handle.cancel();
      },
    };
  }

  // ---- Termination observation (system facade, ask, tests) -------------------------------------

  /**
   * Calls `listener` once when this incarnation terminates (immediately if it already has).
   * Returns a function that removes the listener, for callers that stop caring (a settled ask).
   */
  onTermination(listener: (reason: ExitReason) => void): () => void {
    if (this.exitReason !== null) {
      listener(this.exitReason);
      return () => undefined;
    }
    const listeners = (this.terminationListeners ??= new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Asks this actor to stop; resolves when it terminated. */
  requestStop(reason: ExitReason): Promise<ExitReason> {
    return new Promise((resolve) => {
      this.onTermination(resolve);
      this.signal({ kind: 'stop', reason });
    });
  }

  /** Stops `child` (one of this actor's) from outside its turn, serialized with supervision. */
  stopChildFromOutside(child: AnyCell): Promise<void> {
    return new Promise((resolve) => {
      // The child may also end another way (this parent stopping, a restart, a kill): whichever
      // comes first resolves, so the caller never waits on a message the parent will not handle.
      child.onTermination(() => resolve());
      if (this.mailbox.offerSystem({ kind: 'stop-child', child, done: resolve }) === 'closed') resolve();
      else this.wake();
    });
  }

  // ---- The message loop -----------------------------------------------------------------------

  /** @internal Called by the scheduler. */
  runSlice(budget: number): void {
    this.scheduled = false;
    const mailbox = this.mailbox;
    let handled = 0;
    while (!this.busy && this.state !== 'terminated') {
      if (mailbox.hasSystemMessages) {
        this.handleSystem(mailbox.takeSystem() as SystemMessage);
        continue;
      }
      if (this.state !== 'running' || handled >= budget) break;
      if (!mailbox.hasUserMessages) break;
      handled++;
      this.invoke(mailbox.takeNext());
    }
    if (!this.busy) this.wake();
  }

  private hasWork(): boolean {
    if (this.state === 'terminated') return false;
    return this.mailbox.hasSystemMessages || (this.state === 'running' && this.mailbox.hasMessages);
  }

  /** Schedules this actor if it has work and is not already scheduled or busy. */
  private wake(): void {
    if (!this.scheduled && !this.busy && this.hasWork()) this.schedule();
  }

  private schedule(): void {
    this.scheduled = true;
    this.system.scheduler.enqueue(this);
  }

  private signal(message: SystemMessage): void {
    if (this.mailbox.offerSystem(message) === 'enqueued') this.wake();
  }

  private invoke(message: M): void {
    const behavior = this.behavior as BehaviorObject<M>;
    if (this.system.inspector.active) this.system.inspector.emit({ type: 'delivered', actor: this.path, message });
    let result: void | Promise<void>;
    try {
      result = behavior.receive(message, this);
    } catch (error) {
      this.fail(failureFrom('thrown', error));
      return;
    }
    if (isThenable(result)) this.awaitHandler(message, result);
    else this.handled(message);
  }

  /**
   * The async path of {@link invoke}, on its own: a closure over `message` in `invoke` itself
   * would make V8 allocate a context for it on every call, the synchronous ones included.
   */
  private awaitHandler(message: M, result: PromiseLike<unknown>): void {
    this.inFlight = { message };
    this.runAsync(result, () => {
      this.inFlight = null;
      this.handled(message);
    });
  }

  private handled(message: M): void {
    if (this.system.inspector.active) this.system.inspector.emit({ type: 'handled', actor: this.path, message });
  }

  /** Marks the actor busy until `work` settles; a rejection is a failure. */
  private runAsync(work: PromiseLike<unknown>, onDone?: () => void): void {
    this.busy = true;
    work.then(
      () => {
        if (this.state === 'terminated') return;
        this.busy = false;
        onDone?.();
        this.wake();
      },
      (error: unknown) => {
        if (this.state === 'terminated') return;
        this.busy = false;
        this.inFlight = null;
        this.fail(failureFrom('rejected', error));
        this.wake();
      },
    );
  }

  private handleSystem(message: SystemMessage): void {
    switch (message.kind) {
      case 'start':
        this.start();
        return;
      case 'stop':
        if (this.state === 'stopping' || this.state === 'terminated') return;
        this.state = 'stopping';
        this.runAsync(this.stopSequence(message.reason));
        return;
      case 'terminated': {
        if (this.state === 'suspended') {
          // The behaviour is failed and waits for its supervisor: hold the signal until resume.
          (this.deferred ??= []).push(message);
          return;
        }
        if (this.watching?.delete(message.target) !== true) return;
        const hook = this.behavior?.onTerminated;
        if (hook === undefined || this.state === 'stopping') return;
        this.callHook(() => hook.call(this.behavior, message.target, message.reason, this));
        return;
      }
      case 'child-failed':
        this.runAsync(this.onChildFailed(message.child, message.failure));
        return;
      case 'child-exited':
        this.runAsync(this.onChildExited(message.child, message.reason));
        return;
      case 'stop-child': {
        const slot = this.slotOf(message.child);
        if (slot === undefined) {
          message.done();
          return;
        }
        this.removeSlot(slot);
        this.runAsync(this.terminateSlot(slot, { kind: 'stopped' }).then(message.done));
        return;
      }
      case 'restart-slots':
        for (const slot of message.slots) {
          if (this.slots?.get(slot.name) === slot && slot.current === null && this.state !== 'stopping') {
            const cell = this.startSlot(slot);
            if (this.system.inspector.active) {
              this.system.inspector.emit({ type: 'restarted', actor: cell.path, incarnation: cell.incarnation, delayMs: message.delayMs });
            }
          }
        }
        return;
      case 'timer':
        if (this.state === 'suspended') (this.deferred ??= []).push(message);
        else if (this.state === 'running') this.callHook(message.fn);
        return;
      case 'fail':
        if (this.state === 'running') this.fail(failureFrom('thrown', message.error));
        return;
    }
  }

  /** Runs a hook that may throw or reject: either is this actor's failure. */
  private callHook(hook: () => void | Promise<void>): void {
    let result: void | Promise<void>;
    try {
      result = hook();
    } catch (error) {
      this.fail(failureFrom('thrown', error));
      return;
    }
    if (isThenable(result)) this.runAsync(result);
  }

  private start(): void {
    let behavior: BehaviorObject<M>;
    try {
      behavior = instantiate(this.spec, this);
    } catch (error) {
      this.behavior = { receive: () => undefined };
      this.state = 'running';
      this.fail(failureFrom('thrown', error));
      return;
    }
    this.behavior = behavior;
    this.state = 'running';
    if (this.options.supervision !== undefined) this.supervisorState();
    const onStart = behavior.onStart;
    if (onStart !== undefined) this.callHook(() => onStart.call(behavior, this));
  }

  /** Suspends this actor and reports the failure to its parent, which decides. */
  private fail(failure: Failure): void {
    if (this.state === 'terminated' || this.state === 'stopping') {
      this.log.error({ err: failureForLog(failure) }, 'failure while stopping');
      return;
    }
    this.state = 'suspended';
    if (this.system.inspector.active) this.system.inspector.emit({ type: 'failed', actor: this.path, failure });
    if (this.parent?.logsChildFailures() !== false) this.log.error({ err: failureForLog(failure), kind: failure.kind }, 'actor failed');
    if (this.parent === null) {
      this.system.rootFailed(failure);
      return;
    }
    this.parent.signal({ kind: 'child-failed', child: this, failure });
  }

  /** Resumes after a failure, keeping state, because the parent said so. */
  private resume(): void {
    if (this.state !== 'suspended') return;
    this.state = 'running';
    const deferred = this.deferred;
    this.deferred = null;
    for (const message of deferred ?? []) this.mailbox.offerSystem(message);
    this.wake();
  }

  /**
   * Runs `fn` in this actor's turn after `delayMs`, through the system lane: never dropped by a full
   * mailbox, held while the actor is suspended, cancelled when it terminates. A throw is a failure.
   * Used by adapters (xstate's delayed transitions) whose timers must not be lost.
   * @internal
   */
  scheduleInTurn(delayMs: number, fn: () => void): TimerHandle {
    return this.ownTimer(delayMs, () => this.signal({ kind: 'timer', fn }));
  }

  // ---- Stopping -------------------------------------------------------------------------------

  private async stopSequence(reason: ExitReason): Promise<void> {
    await this.stopAllChildren();
    // Killed meanwhile (its own stop timeout): it is gone, its onStop no longer runs.
    if (this.state === 'terminated') return;
    const onStop = this.behavior?.onStop;
    if (onStop !== undefined) {
      try {
        await onStop.call(this.behavior, this, reason);
      } catch (error) {
        this.log.error({ err: errorForLog(error) }, 'onStop failed');
      }
    }
    this.finalize(reason);
  }

  /**
   * Stops every child in reverse start order, one after the other, each within its timeout. The
   * `failed` child, if any, ends with its failure as exit reason; the others are `stopped`.
   */
  private async stopAllChildren(failed?: FailedSlot): Promise<void> {
    if (this.slots === null) return;
    const slots = [...this.slots.values()];
    for (let i = slots.length - 1; i >= 0; i--) {
      const slot = slots[i] as ChildSlot;
      await this.terminateSlot(slot, slot === failed?.slot ? failed.reason : { kind: 'stopped' });
    }
    this.slots = new Map();
  }

  /** Stops the slot's current incarnation and waits for it, killing it after its timeout. */
  private terminateSlot(slot: ChildSlot, reason: ExitReason, timeoutOverride?: number): Promise<void> {
    const child = slot.current;
    if (child === null) return Promise.resolve();
    slot.expectingExit = true;
    const timeoutMs = timeoutOverride ?? child.options.shutdownTimeoutMs ?? this.system.defaultShutdownTimeoutMs;
    return new Promise<void>((resolve) => {
      const timer = this.system.scheduler.setTimer(timeoutMs, () => {
        child.kill({ kind: 'stop-timeout', message: `did not stop within ${timeoutMs} ms`, timeoutMs });
      });
      child.onTermination(() => {
        timer.cancel();
        if (slot.current === child) slot.current = null;
        slot.expectingExit = false;
        resolve();
      });
      child.signal({ kind: 'stop', reason });
    });
  }

  /** Terminates at once, abandoning any handler in flight, with this subtree. */
  kill(failure: Failure): void {
    if (this.state === 'terminated') return;
    for (const slot of this.slots?.values() ?? []) slot.current?.kill(failure);
    this.finalize({ kind: 'killed', failure });
  }

  private finalize(reason: ExitReason): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.exitReason = reason;
    this.busy = false;
    this.deferred = null;
    const inFlight = this.inFlight;
    this.inFlight = null;
    for (const timer of this.timers ?? []) timer.cancel();
    this.timers = null;
    for (const slot of this.slots?.values() ?? []) slot.current?.kill({ kind: 'crashed', message: `parent ${this.path} terminated` });
    const system = this.system;
    // Killed mid-handler: the message in hand was never handled, so it is accounted as lost too.
    if (inFlight !== null) system.deadLetter(null, this, inFlight.message, 'lost-on-termination');
    for (const message of this.mailbox.close()) system.deadLetter(null, this, message, 'lost-on-termination');
    for (const target of this.watching ?? []) target.removeWatcher(this);
    this.watching = null;
    const watchers = this.watchers;
    this.watchers = null;
    if (watchers instanceof ActorCell) watchers.signal({ kind: 'terminated', target: this, reason });
    else for (const watcher of watchers ?? []) watcher.signal({ kind: 'terminated', target: this, reason });
    if (system.inspector.active) system.inspector.emit({ type: 'terminated', actor: this.path, reason });
    if (reason.kind !== 'stopped' || this.dropStreak > 0) this.log.debug({ reason: describeExit(reason) }, 'terminated');
    const listeners = this.terminationListeners;
    this.terminationListeners = null;
    for (const listener of listeners ?? []) listener(reason);
    this.parent?.signal({ kind: 'child-exited', child: this, reason });
  }

  // ---- Supervising children -------------------------------------------------------------------

  /** Whether a failing child of this actor logs its failure (see `SupervisorOptions.logFailures`). */
  private logsChildFailures(): boolean {
    return (this.options.supervision ?? this.system.defaultSupervision).logFailures !== false;
  }

  private supervisorState(): Supervisor {
    if (this.supervisor !== null) return this.supervisor;
    const options = this.options.supervision ?? this.system.defaultSupervision;
    this.supervisor = {
      options,
      window: new RestartWindow(options.maxRestarts ?? DEFAULT_MAX_RESTARTS, options.withinMs ?? DEFAULT_WITHIN_MS),
      backoff: options.backoff === undefined ? null : new Backoff(options.backoff),
    };
    return this.supervisor;
  }

  private startSlot(slot: ChildSlot): AnyCell {
    const cell = new ActorCell<unknown>(this.system, this, slot.behavior, slot.options, slot.name);
    slot.current = cell;
    if (this.system.inspector.active) {
      this.system.inspector.emit({ type: 'spawned', actor: cell.path, incarnation: cell.incarnation, parent: this.path });
    }
    cell.wake();
    return cell;
  }

  private slotOf(child: ActorRef<unknown>): ChildSlot | undefined {
    const slot = this.slots?.get(child.name);
    return slot !== undefined && slot.current === child ? slot : undefined;
  }

  private removeSlot(slot: ChildSlot): void {
    if (this.slots?.get(slot.name) === slot) this.slots.delete(slot.name);
  }

  private async onChildFailed(child: AnyCell, failure: Failure): Promise<void> {
    const slot = this.slotOf(child);
    if (slot === undefined || slot.expectingExit) return;
    const supervisor = this.supervisorState();
    const decide = supervisor.options.decide ?? DEFAULT_DIRECTIVE;
    let directive: Directive;
    try {
      directive = decide(failure, { name: child.name, path: child.path });
    } catch (error) {
      this.log.error({ err: errorForLog(error) }, 'supervisor decide() threw; escalating');
      directive = 'escalate';
    }
    if (this.system.inspector.active) {
      this.system.inspector.emit({ type: 'directive', actor: this.path, child: child.path, directive });
    }
    switch (directive) {
      case 'resume':
        child.resume();
        return;
      case 'stop':
        this.removeSlot(slot);
        await this.terminateSlot(slot, { kind: 'failed', failure });
        return;
      case 'escalate':
        await this.giveUp(
          { kind: 'escalated', message: `escalated from ${child.path}: ${failure.message}`, child: child.path, cause: failure },
          { slot, reason: { kind: 'failed', failure } },
        );
        return;
      case 'restart':
        await this.restartFrom(slot, failure, { kind: 'failed', failure });
        return;
      default:
        this.log.error({ directive: describeThrown(directive) }, 'supervisor decide() returned an unknown directive; escalating');
        await this.giveUp(
          { kind: 'escalated', message: `escalated from ${child.path}: ${failure.message}`, child: child.path, cause: failure },
          { slot, reason: { kind: 'failed', failure } },
        );
        return;
    }
  }

  private async onChildExited(child: AnyCell, reason: ExitReason): Promise<void> {
    const slot = this.slotOf(child);
    // A child this actor stopped or killed left its slot before its exit comes, and one killed with
    // this actor is never handled: what comes past here stopped itself (`normal`).
    if (slot === undefined || slot.expectingExit) return;
    slot.current = null;
    if (slot.restart !== 'permanent') {
      this.removeSlot(slot);
      return;
    }
    await this.restartFrom(slot, { kind: 'crashed', message: `${child.path} exited normally` }, reason);
  }

  /**
   * Restarts per strategy: the failed child alone, all children, or it and the later ones. The
   * affected incarnations stop in reverse start order, then restart in start order (after the
   * backoff, if any). Temporary children are not restarted. Exceeding the intensity gives up.
   */
  private async restartFrom(slot: ChildSlot, failure: Failure, reason: ExitReason): Promise<void> {
    if (slot.limit !== null) return this.restartAlone(slot, slot.limit, failure, reason);
    const supervisor = this.supervisorState();
    const slots = [...(this.slots?.values() ?? [])];
    const strategy = supervisor.options.strategy ?? 'one-for-one';
    const index = slots.indexOf(slot);
    const affected = strategy === 'one-for-one' ? [slot] : strategy === 'one-for-all' ? [...slots] : slots.slice(index);
    const restartable = affected.filter((s) => s.restart !== 'temporary');
    if (restartable.length > 0 && !supervisor.window.tryRecord(this.now())) {
      const { maxRestarts, withinMs } = supervisor.window;
      // All children stop in reverse start order; the failed one ends with its own failure as reason.
      await this.giveUp({
        kind: 'intensity-exceeded',
        message: `more than ${maxRestarts} restarts within ${withinMs} ms (last: ${slot.name}: ${failure.message})`,
        child: `${this.path === '/' ? '' : this.path}/${slot.name}`,
        restarts: maxRestarts,
        withinMs,
        cause: failure,
      }, { slot, reason });
      return;
    }
    for (let i = affected.length - 1; i >= 0; i--) {
      const s = affected[i] as ChildSlot;
      await this.terminateSlot(s, s === slot ? reason : { kind: 'stopped' });
    }
    for (const s of affected) if (s.restart === 'temporary') this.removeSlot(s);
    if (restartable.length === 0) return;
    const delayMs = supervisor.backoff?.next(this.now(), () => this.system.scheduler.random()) ?? 0;
    if (delayMs > 0) {
      this.ownTimer(delayMs, () => this.signal({ kind: 'restart-slots', slots: restartable, delayMs }));
      return;
    }
    for (const s of restartable) {
      const cell = this.startSlot(s);
      if (this.system.inspector.active) {
        this.system.inspector.emit({ type: 'restarted', actor: cell.path, incarnation: cell.incarnation, delayMs });
      }
    }
  }

  /**
   * Restarts a child that has its own restart limit: alone, whatever the strategy, after its own
   * backoff. Past its own intensity the parent stops it for good, its exit reason an
   * `intensity-exceeded` failure, and carries on with its other children.
   */
  private restartAlone(slot: ChildSlot, limit: RestartLimit, failure: Failure, reason: ExitReason): Promise<void> {
    // A child restarted alone does not hold up its parent: the old incarnation stops (running its
    // onStop, within its timeout) while the parent goes on with its other children and messages;
    // the new one starts when the old one is gone (after the backoff, if any).
    if (slot.restart === 'temporary') {
      this.removeSlot(slot);
      void this.terminateSlot(slot, reason);
      return Promise.resolve();
    }
    const now = this.now();
    const window = (slot.window ??= new RestartWindow(limit.maxRestarts ?? DEFAULT_MAX_RESTARTS, limit.withinMs ?? DEFAULT_WITHIN_MS));
    if (limit.backoff !== undefined) slot.backoff ??= new Backoff(limit.backoff);
    if (!window.tryRecord(now)) {
      const { maxRestarts, withinMs } = window;
      const path = `${this.path === '/' ? '' : this.path}/${slot.name}`;
      const exceeded: Failure = {
        kind: 'intensity-exceeded',
        message: `more than ${maxRestarts} restarts within ${withinMs} ms (last: ${failure.message})`,
        child: path,
        restarts: maxRestarts,
        withinMs,
        cause: failure,
      };
      this.removeSlot(slot);
      if (this.system.inspector.active) this.system.inspector.emit({ type: 'failed', actor: path, failure: exceeded });
      void this.terminateSlot(slot, { kind: 'failed', failure: exceeded });
      return Promise.resolve();
    }
    const delayMs = slot.backoff?.next(now, () => this.system.scheduler.random()) ?? 0;
    void this.terminateSlot(slot, reason).then(() => {
      if (delayMs > 0) this.ownTimer(delayMs, () => this.signal({ kind: 'restart-slots', slots: [slot], delayMs }));
      else this.signal({ kind: 'restart-slots', slots: [slot], delayMs });
    });
    return Promise.resolve();
  }


  /** Intensity exceeded or escalation: stop all children in reverse order, then fail upward. */
  private async giveUp(failure: Failure, failed: FailedSlot): Promise<void> {
    await this.stopAllChildren(failed);
    this.fail(failure);
  }
}

/** The `err` of a failure's log line: the thrown value when there is one, else the failure's message. */
function failureForLog(failure: Failure): LoggedError {
  return failure.kind === 'thrown' || failure.kind === 'rejected' ? errorForLog(failure.error) : loggedError(failure.kind, failure.message);
}
