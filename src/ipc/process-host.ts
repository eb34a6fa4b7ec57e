/**
 * The host side of a process or worker module: the actor behaviour of its incarnations.
 *
 * The incarnation's kernel mailbox (capacity from the manifest) is the host-side bound. The actor
 * forwards the events it takes to the child in batches, at most `credits` un-acknowledged; out of
 * credits, its `receive` returns a promise that resolves when acknowledgements return, so the actor
 * stays busy, its mailbox fills, and the router drops and counts further events as `channelFull`.
 * Events are counted handled (or failed-on) when the child acknowledges them, so the accounting
 * law holds across the boundary. Every message from the child is validated; a connection that
 * ends unexpectedly fails the actor with a {@link ProcessModuleFailure}, and the kernel and the
 * module supervisor do the rest (ModuleCrashed, unsubscribe, restart, re-announce).
 *
 * @internal
 */
import type { ActorContext, BehaviorFactory } from '../kernel/behavior.js';
import { isModactorError } from '../kernel/errors.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import { createIncarnation, type ModuleIncarnation } from '../node/event-router.js';
import { Barrier, type ModuleServices } from '../node/module-instance.js';
import { openChannel, type ChannelExit, type HostChannel } from './channel.js';
import { ProcessModuleFailure, type ChannelCloseReason } from './failure.js';
import { isJsonSafe } from './json-safe.js';
import { LogThrottle } from '../kernel/log-throttle.js';
import type { NormalizedManifest } from './manifest.js';
import { PROTOCOL_VERSION, isViolation, parseChildMessage, type ChildMessage, type HostMessage } from './protocol.js';
import { TokenBucket } from './rate-limiter.js';

/** Counters of one process module, across its incarnations. */
export interface ProcessModuleCounters {
  /** Children started (1 + restarts). */
  spawned: number;
  /** Events published by the module and accepted. */
  published: number;
  /** Publishes refused: the manifest does not permit the type. */
  refusedNotPermitted: number;
  /** Publishes refused: over the publish rate limit. */
  refusedRateLimited: number;
  /** Publishes refused: not a valid event of the catalogue. */
  refusedInvalid: number;
  /** Subscribe requests refused: a type outside the manifest's subscriptions. */
  refusedSubscriptions: number;
  /** Events that could not be serialized for the module (also in its delivery stats). */
  serializationFailed: number;
  /** Disconnections for malformed, oversized or out-of-protocol messages. */
  protocolViolations: number;
  /** Kills for missed heartbeats. */
  heartbeatTimeouts: number;
  /** Connections that ended unexpectedly, whatever the reason. */
  crashes: number;
  /** The last unexpected end, described. */
  lastFailure: string | undefined;
}

/** The live part of a module's status: its current child. @internal */
export interface CurrentChild {
  pid: number | undefined;
  threadId: number | undefined;
  instanceId: string | undefined;
  state: SessionState | 'down';
}

/** The message the actor sends itself when its channel closed while it was idle. */
const CHANNEL_CLOSED: unique symbol = Symbol('modactor.channel-closed');

type SessionState = 'spawning' | 'welcomed' | 'running' | 'stopping' | 'closed';

/** A batch this long is sent at once rather than at the end of the event loop iteration. */
const FLUSH_AT = 256;

/** The longest pause between two watchdog checks. */
const MAX_TICK_MS = 100;

/**
 * How much longer than the manifest's shutdown timeout the kernel waits for a stopping host actor:
 * room for the watchdog to kill the child at the timeout and for its exit to be seen. @internal
 */
export const STOP_MARGIN_MS = 1000;
/** Minimum ms between two log lines of the same throttled kind. */
const LOG_INTERVAL_MS = 10_000;

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Builds the instance behaviour of a process or worker module. @internal */
export function processHostBehavior<E extends EventMap>(
  manifest: NormalizedManifest,
  services: ModuleServices<E>,
  counters: ProcessModuleCounters,
  current: CurrentChild,
): BehaviorFactory<unknown> {
  return {
    create(actx) {
      const session = new Session<E>(manifest, services, counters, current, actx);
      return {
        onStart: () => session.start(),
        receive: (message) => session.receive(message),
        onStop: () => session.stop(),
      };
    },
  };
}

/** One incarnation's connection to its child. */
class Session<E extends EventMap> {
  readonly incarnation: ModuleIncarnation<E>;
  private state: SessionState = 'spawning';
  private channel: HostChannel | null = null;
  private channelClosed = false;
  private failure: ProcessModuleFailure | null = null;
  private readonly ready = deferred();
  private readonly closed = deferred();
  /** Events taken from the mailbox, sent to the child, and acknowledged (handled or failed). */
  private given = 0;
  private sent = 0;
  private acked = 0;
  private batch: unknown[] = [];
  private flushQueued = false;
  private creditWaiter: Deferred | null = null;
  private barriers: { readonly target: number; readonly reached: () => void }[] = [];
  private spawnedAt = 0;
  private lastSeen = 0;
  private lastTick = 0;
  private stopDeadline = Number.POSITIVE_INFINITY;
  private readonly permitted: ReadonlySet<string>;
  private readonly subscribable: ReadonlySet<string>;
  private readonly bucket: TokenBucket;
  private readonly serializationLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly refusalLog = new LogThrottle(LOG_INTERVAL_MS);

  constructor(
    private readonly manifest: NormalizedManifest,
    private readonly services: ModuleServices<E>,
    private readonly counters: ProcessModuleCounters,
    private readonly current: CurrentChild,
    private readonly actx: ActorContext<unknown>,
  ) {
    const stats = services.router.statsFor(manifest.name);
    stats.incarnations++;
    this.permitted = new Set(manifest.publishes);
    this.subscribable = new Set(manifest.subscribe);
    this.bucket = new TokenBucket(manifest.ratePerSecond, manifest.rateBurst, actx.now());
    this.incarnation = createIncarnation<E>({
      name: manifest.name,
      version: manifest.version,
      ref: actx.self,
      stats,
      capacity: actx.mailboxCapacity,
      admit: (event: EventOf<E>) => this.admit(event),
      crash: (error) => actx.crash(error),
    });
  }

  // ---- Lifecycle (called in the actor's turns) --------------------------------------------------

  async start(): Promise<void> {
    this.services.report({ kind: 'instance-started', incarnation: this.incarnation });
    this.spawnedAt = this.lastSeen = this.lastTick = this.actx.now();
    this.counters.spawned++;
    this.current.instanceId = this.actx.incarnation;
    this.setCurrent('spawning');
    this.channel = openChannel(this.manifest, {
      onFrame: (raw) => this.onFrame(raw),
      onViolation: (detail) => this.violation(detail),
      onError: (message) =>
        this.close(this.state === 'spawning' ? { kind: 'spawn-failed', message } : { kind: 'fatal', message }),
      onClose: (exit) => this.onChannelClose(exit),
    });
    if (this.isCurrent()) {
      this.current.pid = this.channel.pid;
      this.current.threadId = this.channel.threadId;
    }
    this.actx.log.debug({ pid: this.channel.pid, threadId: this.channel.threadId, entry: this.manifest.entryPath }, 'module child started');
    void this.watchdog();
    await this.ready.promise;
    this.services.report({ kind: 'handshake', incarnation: this.incarnation, types: this.manifest.subscribe });
  }

  receive(message: unknown): void | Promise<void> {
    if (message === CHANNEL_CLOSED || this.failure !== null) throw this.failure ?? this.unexpectedClose();
    if (message instanceof Barrier) {
      // Everything taken before the barrier must be handled by the child first.
      this.flush();
      if (this.acked >= this.sent) message.reached();
      else this.barriers.push({ target: this.sent, reached: message.reached });
      return undefined;
    }
    // One taken: room for the next event of a paced replay, if one is pending.
    if (this.incarnation.backlog !== null) this.services.router.pull(this.incarnation);
    this.batch.push(message);
    this.given++;
    if (this.given - this.acked >= this.manifest.credits) {
      this.flush();
      const waiter = deferred();
      this.creditWaiter = waiter;
      return waiter.promise;
    }
    if (this.batch.length >= FLUSH_AT) {
      this.flush();
    } else if (!this.flushQueued) {
      // Everything this actor takes until the event loop's next check phase goes out as one batch:
      // what publishers offered from all the callbacks of this loop iteration. Not a timer (nothing
      // waits on the clock), and the only place the host defers work past the current turn:
      // one write per loop iteration instead of one per scheduler drain halves the host's cost
      // per event (bench/cases/ipc.ts).
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.channel === null || this.channelClosed) return;
    if (this.failure === null) {
      this.state = 'stopping';
      this.setCurrent('stopping');
      // The child gets its shutdown timeout, then SIGKILL. (The kernel's timeout for this actor is
      // longer, see STOP_MARGIN_MS, so that the kill and the child's exit happen inside it.)
      this.stopDeadline = this.actx.now() + this.manifest.shutdownTimeoutMs;
      this.channel.send({ t: 'stop' });
    }
    await this.closed.promise;
  }

  // ---- Flow control -----------------------------------------------------------------------------

  private flush(): void {
    if (this.batch.length === 0 || this.failure !== null || this.channel === null || this.state !== 'running') return;
    const events = this.batch;
    this.batch = [];
    this.sent += events.length;
    this.channel.send({ t: 'events', events });
  }

  private acknowledge(n: number, failed: boolean): void {
    this.acked += n;
    const { incarnation } = this;
    // Once retired (terminated, its remainder counted lost), late acknowledgements change nothing.
    if (!incarnation.retired) {
      incarnation.settled += n;
      if (failed) incarnation.stats.handlerFailed += n;
      else incarnation.stats.handled += n;
    }
    if (this.barriers.length > 0) {
      const due = this.barriers.filter((b) => b.target <= this.acked);
      if (due.length > 0) {
        this.barriers = this.barriers.filter((b) => b.target > this.acked);
        for (const barrier of due) barrier.reached();
      }
    }
    const waiter = this.creditWaiter;
    if (waiter !== null && this.given - this.acked < this.manifest.credits) {
      this.creditWaiter = null;
      waiter.resolve();
    }
  }

  /** The router's check for this incarnation: JSON-safe events only, the others counted and logged. */
  private admit(event: EventOf<E>): boolean {
    if (isJsonSafe(event)) return true;
    this.counters.serializationFailed++;
    const count = this.serializationLog.hit(this.actx.now());
    if (count > 0) {
      this.actx.log.warn(
        { eventType: event.type, dropped: count },
        'event cannot be serialized for this process module (BigInt, cycle, non-JSON value): dropped for it, subscription kept',
      );
    }
    return false;
  }

  // ---- The trust boundary -----------------------------------------------------------------------

  private onFrame(raw: string): void {
    if (this.failure !== null || this.channelClosed) return;
    if (!this.actx.self.isAlive) {
      // The actor was killed (stop timeout) while its child lives on.
      this.channel?.kill();
      return;
    }
    const message = parseChildMessage(raw, this.manifest.maxMessageBytes);
    if (isViolation(message)) {
      this.violation(message.violation);
      return;
    }
    this.lastSeen = this.actx.now();
    this.handle(message);
  }

  private handle(message: ChildMessage): void {
    const state = this.state;
    const outOfProtocol = (): void => this.violation(`"${message.t}" is not allowed while the module is ${state}`);
    switch (message.t) {
      case 'hello': {
        if (state !== 'spawning') return outOfProtocol();
        if (message.protocol !== PROTOCOL_VERSION) {
          this.channel?.send({ t: 'reject', reason: `protocol version ${message.protocol} is not supported (host speaks ${PROTOCOL_VERSION})` });
          return this.close({ kind: 'protocol-mismatch', expected: PROTOCOL_VERSION, got: message.protocol });
        }
        if (message.name !== this.manifest.name || message.version !== this.manifest.version) {
          const expected = `${this.manifest.name}@${this.manifest.version}`;
          const got = `${message.name}@${message.version}`;
          this.channel?.send({ t: 'reject', reason: `the manifest describes ${expected}, the entry implements ${got}` });
          return this.close({ kind: 'identity-mismatch', expected, got });
        }
        this.state = 'welcomed';
        this.setCurrent('welcomed');
        this.send({
          t: 'welcome',
          protocol: PROTOCOL_VERSION,
          moduleId: this.manifest.name,
          instanceId: this.actx.incarnation,
          name: this.manifest.name,
          version: this.manifest.version,
          credits: this.manifest.credits,
          heartbeatMs: this.manifest.heartbeatMs,
          maxMessageBytes: this.manifest.maxMessageBytes,
          logLevel: this.actx.log.level,
        });
        return;
      }
      case 'ready':
        if (state !== 'welcomed') return outOfProtocol();
        this.state = 'running';
        this.setCurrent('running');
        this.ready.resolve();
        return;
      case 'heartbeat':
        if (state === 'spawning') return outOfProtocol();
        return;
      case 'ack':
        if (state !== 'running' && state !== 'stopping') return outOfProtocol();
        if (this.acked + message.n > this.sent) {
          return this.violation(`ack of ${message.n} events with ${this.sent - this.acked} in flight`);
        }
        return this.acknowledge(message.n, false);
      case 'fail':
        if (state !== 'running' && state !== 'stopping') return outOfProtocol();
        if (this.acked >= this.sent) return this.violation('fail with no event in flight');
        this.acknowledge(1, true);
        return this.close({ kind: 'handler-failed', message: message.error || 'the handler failed' });
      case 'fatal':
        return this.close({ kind: 'fatal', message: message.error || 'unknown error' });
      case 'publish':
        if (state === 'spawning') return outOfProtocol();
        return this.publish(message.id, message.event);
      case 'subscribe':
      case 'unsubscribe': {
        if (state === 'spawning') return outOfProtocol();
        const refused = message.types.filter((type) => !this.subscribable.has(type));
        if (refused.length > 0) {
          this.counters.refusedSubscriptions++;
          this.send({
            t: 'error',
            code: 'not-permitted',
            message: `Module "${this.manifest.name}" may only subscribe to its manifest's types (${this.manifest.subscribe.join(', ') || 'none'}), got ${refused.join(', ')}`,
          });
          return;
        }
        this.services.report({ kind: message.t, incarnation: this.incarnation, types: message.types });
        return;
      }
      case 'health':
        if (state === 'spawning') return outOfProtocol();
        this.services.report({ kind: 'health', incarnation: this.incarnation, health: message.health });
        return;
    }
  }

  private publish(id: number, event: unknown): void {
    const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
    const refuse = (code: string, text: string): void => {
      this.send({ t: 'refused', id, code, message: text });
      const count = this.refusalLog.hit(this.actx.now());
      if (count > 0) this.actx.log.warn({ code, refused: count }, `publish refused: ${text}`);
    };
    if (typeof type === 'string' && !this.permitted.has(type)) {
      this.counters.refusedNotPermitted++;
      const allowed = this.manifest.publishes.join(', ') || 'none';
      return refuse('not-permitted', `Module "${this.manifest.name}" may not publish ${type} (its manifest permits: ${allowed})`);
    }
    if (!this.bucket.take(this.actx.now())) {
      this.counters.refusedRateLimited++;
      return refuse(
        'rate-limited',
        `Module "${this.manifest.name}" exceeded its publish rate limit of ${this.manifest.ratePerSecond}/s (bursts of ${this.manifest.rateBurst})`,
      );
    }
    try {
      const receipt = this.services.publishFrom(this.manifest.name, this.permitted, event);
      this.counters.published++;
      this.send({ t: 'receipt', id, receipt });
    } catch (error) {
      this.counters.refusedInvalid++;
      refuse(isModactorError(error) ? error.code : 'invalid-event', error instanceof Error ? error.message : String(error));
    }
  }

  private send(message: HostMessage): void {
    this.channel?.send(message);
  }

  private violation(detail: string): void {
    this.close({ kind: 'protocol-violation', detail });
  }

  // ---- Ending -----------------------------------------------------------------------------------

  /** Ends the connection for `reason`: kills the child and fails the actor. Idempotent. */
  private close(reason: ChannelCloseReason): void {
    if (this.failure !== null) return;
    const failure = new ProcessModuleFailure(this.manifest.name, reason);
    this.failure = failure;
    this.channel?.stopReading();
    this.channel?.kill();
    const state = this.state;
    if (state === 'stopping' || state === 'closed') {
      // A misbehaviour while stopping ends the stop early; nothing left to fail.
      if (reason.kind !== 'exited') this.actx.log.warn({ reason: reason.kind }, `${failure.message} (while stopping)`);
      return;
    }
    this.counters.crashes++;
    this.counters.lastFailure = failure.message;
    if (reason.kind === 'protocol-violation') this.counters.protocolViolations++;
    if (reason.kind === 'heartbeat-timeout') this.counters.heartbeatTimeouts++;
    this.actx.log.error({ reason: reason.kind, pid: this.channel?.pid }, failure.message);
    for (const barrier of this.barriers) barrier.reached();
    this.barriers = [];
    if (state === 'spawning' || state === 'welcomed') {
      this.ready.reject(failure);
      return;
    }
    const waiter = this.creditWaiter;
    if (waiter !== null) {
      this.creditWaiter = null;
      waiter.reject(failure);
      return;
    }
    // Idle: wake the actor so it fails in its own turn. If its priority lane is full, it has
    // messages to take, and taking any of them fails it just the same.
    this.actx.self.tellPriority(CHANNEL_CLOSED);
  }

  private onChannelClose(exit: ChannelExit): void {
    this.channelClosed = true;
    if (this.state !== 'stopping' && this.failure === null) {
      this.close({ kind: 'exited', code: exit.code, signal: exit.signal });
    }
    this.state = 'closed';
    if (this.isCurrent()) {
      this.current.pid = undefined;
      this.current.threadId = undefined;
    }
    this.setCurrent('down');
    this.closed.resolve();
  }

  /** True while this incarnation is the module's newest: only it updates the shared status. */
  private isCurrent(): boolean {
    return this.current.instanceId === this.actx.incarnation;
  }

  private setCurrent(state: CurrentChild['state']): void {
    if (this.isCurrent()) this.current.state = state;
  }

  private unexpectedClose(): ProcessModuleFailure {
    return new ProcessModuleFailure(this.manifest.name, { kind: 'exited', code: null, signal: null });
  }

  /**
   * Checks, until the child is gone, the startup deadline, the heartbeats, the stop deadline, and
   * that this actor still lives (a killed actor's child is killed too). Its timer runs on the
   * node's scheduler outside the actor's turns, so a busy actor (out of credits) is watched too.
   */
  private async watchdog(): Promise<void> {
    const tickMs = Math.min(MAX_TICK_MS, this.manifest.heartbeatMs);
    while (!this.channelClosed) {
      await this.actx.delay(Math.max(1, Math.min(tickMs, this.stopDeadline - this.actx.now())));
      if (this.channelClosed) return;
      const now = this.actx.now();
      const stalled = now - this.lastTick > 3 * tickMs + 50;
      this.lastTick = now;
      if (!this.actx.self.isAlive || now >= this.stopDeadline) {
        this.channel?.kill();
        continue;
      }
      if (this.failure !== null) continue;
      // After a stall of the host itself, the child's messages may still sit unread: look again later.
      if (stalled) continue;
      const state = this.state;
      if ((state === 'spawning' || state === 'welcomed') && now - this.spawnedAt > this.manifest.startupTimeoutMs) {
        this.close({ kind: 'startup-timeout', timeoutMs: this.manifest.startupTimeoutMs });
        continue;
      }
      const silence = now - this.lastSeen;
      if ((state === 'welcomed' || state === 'running') && silence > this.manifest.heartbeatMs * this.manifest.heartbeatMissed) {
        this.services.report({ kind: 'health', incarnation: this.incarnation, health: 'unhealthy' });
        this.close({ kind: 'heartbeat-timeout', missed: this.manifest.heartbeatMissed, intervalMs: this.manifest.heartbeatMs });
      }
    }
  }
}
