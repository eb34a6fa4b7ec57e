/**
 * The host side of a process or worker module: the actor behaviour of its incarnations.
 *
 * Flow control is one bound across the boundary. The incarnation's kernel mailbox holds what is
 * queued in the node; the actor takes events from it, serializes each once and forwards them to the
 * child in batches while two windows have room: at most `credits` events and `maxInFlightBytes`
 * bytes sent and not yet acknowledged. An event that does not fit stays in the actor's hand (its
 * `receive` returns a promise that resolves when acknowledgements return), so the actor is busy and
 * its mailbox fills. Events in flight count against the module's bound in the router
 * (`incarnation.held`), so queued + in flight + in the child never exceed the capacity, plus the one
 * in hand. Events are counted handled (or failed-on) when the child acknowledges them, so the
 * accounting law holds across the boundary.
 *
 * Every frame from the child is measured (size, depth) before it is parsed, then validated; frames
 * refused with a code count against a per-module budget, whose exhaustion is a protocol violation.
 * A connection that ends unexpectedly fails the actor with a {@link ProcessModuleFailure}, and the
 * kernel and the module supervisor do the rest (ModuleCrashed, unsubscribe, restart, re-announce).
 *
 * @internal
 */
import type { Logger } from 'pino';
import type { ActorContext, BehaviorFactory } from '../kernel/behavior.js';
import { loggedError } from '../kernel/foreign.js';
import { isModactorError } from '../kernel/errors.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import { isReservedEventType } from '../events/reserved-event-types.js';
import { createIncarnation, type ModuleIncarnation } from '../node/event-router.js';
import { Barrier, type ModuleServices } from '../node/module-instance.js';
import { replaySpec } from '../node/loadable.js';
import { openChannel, type ChannelExit, type HostChannel } from './channel.js';
import { ProcessModuleFailure, type ChannelCloseReason } from './failure.js';
import { isJsonSafe } from './json-safe.js';
import { acceptedEvents, type AcceptedEvents } from '../node/payload-json.js';
import { LogThrottle } from '../kernel/log-throttle.js';
import type { NormalizedManifest } from './manifest.js';
import {
  LOG_LEVELS,
  PROTOCOL_VERSION,
  isViolation,
  parseChildMessage,
  type ChildMessage,
  type HostMessage,
  type LogRecord,
} from './protocol.js';
import { TokenBucket } from './token-bucket.js';

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
  /** Disconnections for malformed, oversized, too deep or out-of-protocol messages, or too many refused ones. */
  protocolViolations: number;
  /** Kills for missed heartbeats. */
  heartbeatTimeouts: number;
  /** Disconnections of a child that did not read what the node sent. */
  notReading: number;
  /** Connections that ended unexpectedly, whatever the reason. */
  crashes: number;
  /** The last unexpected end, described. */
  lastFailure: string | undefined;
  /** Frames read from the child: each ends accepted, refused (with a code) or violating. */
  framesReceived: number;
  /** Frames that were valid messages, allowed when they came. */
  framesAccepted: number;
  /** Frames refused with a code, answered to the child: the sum of the four `refused*` counters. */
  framesRefused: number;
  /** Frames that were protocol violations themselves (each disconnected its child). */
  framesViolating: number;
  /** Characters (UTF-16 code units) of frames handed to `JSON.parse`: frames refused by size or depth never are. */
  charsParsed: number;
  /** Log lines of the child (protocol `log` and stderr) re-emitted through the node's logger. */
  logLines: number;
  /** Log lines of the child dropped over its log rate limit. */
  logLinesDropped: number;
  /** The most bytes of events that were in flight to the child at once. */
  maxInFlightBytesSeen: number;
}

/** The live part of a module's status: its current child. @internal */
export interface CurrentChild {
  pid: number | undefined;
  threadId: number | undefined;
  instanceId: string | undefined;
  state: SessionState | 'down';
  /** Bytes of events sent to the current child and not yet acknowledged. */
  inFlightBytes: number;
  /** Events sent to the current child and not yet acknowledged. */
  inFlightEvents: number;
}

/** What a module keeps across its incarnations: its counters, and its budgets once a child ran. @internal */
export interface ModuleShared {
  readonly counters: ProcessModuleCounters;
  readonly current: CurrentChild;
  budgets: ModuleBudgets | undefined;
}

/**
 * The token buckets of a module, on the node's clock. Kept per module, not per incarnation, so a
 * child that restarts does not get a fresh allowance.
 */
interface ModuleBudgets {
  readonly publishes: TokenBucket;
  readonly refusals: TokenBucket;
  readonly logs: TokenBucket;
}

/** Refused frames a module may send: a burst of this many units... */
export const REFUSAL_BURST = 1000;
/** ...refilled at this many per second. A refused frame costs 1 unit, plus 1 per full 16 KiB. */
export const REFUSALS_PER_SECOND = 100;
/** Bytes of a refused frame that cost one more unit of the refusal budget. */
export const REFUSAL_UNIT_BYTES = 16 * 1024;
/** Log lines of a child re-emitted per second on average... */
export const LOG_LINES_PER_SECOND = 200;
/** ...in bursts of at most this many. */
export const LOG_LINE_BURST = 1000;

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
/** Keys of a child's log record the node sets itself (or that would repeat its own bindings). */
const OWN_LOG_KEYS = ['level', 'time', 'msg', 'pid', 'hostname', 'v'];

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

/** Fresh counters of a module. @internal */
export function emptyCounters(): ProcessModuleCounters {
  return {
    spawned: 0,
    published: 0,
    refusedNotPermitted: 0,
    refusedRateLimited: 0,
    refusedInvalid: 0,
    refusedSubscriptions: 0,
    serializationFailed: 0,
    protocolViolations: 0,
    heartbeatTimeouts: 0,
    notReading: 0,
    crashes: 0,
    lastFailure: undefined,
    framesReceived: 0,
    framesAccepted: 0,
    framesRefused: 0,
    framesViolating: 0,
    charsParsed: 0,
    logLines: 0,
    logLinesDropped: 0,
    maxInFlightBytesSeen: 0,
  };
}

/** Builds the instance behaviour of a process or worker module. @internal */
export function processHostBehavior<E extends EventMap>(
  manifest: NormalizedManifest,
  services: ModuleServices<E>,
  shared: ModuleShared,
): BehaviorFactory<unknown> {
  return {
    create(actx) {
      const session = new Session<E>(manifest, services, shared, actx);
      return {
        onStart: () => session.start(),
        receive: (message) => session.receive(message),
        onStop: () => session.stop(),
      };
    },
  };
}

/** The logger for lines about (and from) a module: bound to `module: <name>` exactly once. */
function moduleLogger(log: Logger, name: string): Logger {
  return log.bindings()['module'] === name ? log : log.child({ module: name });
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
  /** Events taken from the mailbox (forwarded, or in hand waiting for room). */
  private given = 0;
  /** Events put in a batch for the child. */
  private forwarded = 0;
  /** Events written to the child. */
  private sent = 0;
  /** Events acknowledged by the child (handled or failed). */
  private acked = 0;
  /** Bytes of the forwarded, unacknowledged events. */
  private inFlightBytes = 0;
  /** Byte size of each forwarded, unacknowledged event, oldest first from `sizesHead`. */
  private sizes: number[] = [];
  private sizesHead = 0;
  /** Seqs of the events given to the child, in order (modules with a replay position only), from `seqsHead`. */
  private givenSeqs: number[] = [];
  private seqsHead = 0;
  private batch: string[] = [];
  private flushQueued = false;
  /** The actor waiting, with an event in hand, for room in the windows. */
  private roomWaiter: { readonly bytes: number; readonly deferred: Deferred } | null = null;
  private barriers: { readonly target: number; readonly reached: () => void }[] = [];
  private spawnedAt = 0;
  private lastSeen = 0;
  private lastTick = 0;
  private stopDeadline = Number.POSITIVE_INFINITY;
  /** Output written and taken by the child so far, and since when it has not moved while pending. */
  private lastFlushed = 0;
  private stalledSince = 0;
  private readonly counters: ProcessModuleCounters;
  private readonly current: CurrentChild;
  private readonly budgets: ModuleBudgets;
  private readonly permitted: ReadonlySet<string>;
  private readonly subscribable: ReadonlySet<string>;
  private readonly log: Logger;
  private readonly ownBindings: readonly string[];
  private readonly serializationLog = new LogThrottle(LOG_INTERVAL_MS);
  /** The JSON of the events the node accepted, through its catalogue checks' writers. */
  private readonly accepted: AcceptedEvents;
  private readonly refusalLog = new LogThrottle(LOG_INTERVAL_MS);
  private readonly droppedLog = new LogThrottle(LOG_INTERVAL_MS);

  constructor(
    private readonly manifest: NormalizedManifest,
    private readonly services: ModuleServices<E>,
    shared: ModuleShared,
    private readonly actx: ActorContext<unknown>,
  ) {
    const stats = services.router.statsFor(manifest.name);
    stats.incarnations++;
    this.accepted = acceptedEvents(services.router.catalogue);
    this.counters = shared.counters;
    this.current = shared.current;
    const now = actx.now();
    this.budgets = shared.budgets ??= {
      publishes: new TokenBucket(manifest.ratePerSecond, manifest.rateBurst, now),
      refusals: new TokenBucket(REFUSALS_PER_SECOND, REFUSAL_BURST, now),
      logs: new TokenBucket(LOG_LINES_PER_SECOND, LOG_LINE_BURST, now),
    };
    // A reserved type in the manifest grants nothing: only the node publishes those.
    this.permitted = new Set(manifest.publishes.filter((type) => !isReservedEventType(type)));
    this.subscribable = new Set(manifest.subscribe);
    this.log = moduleLogger(actx.log, manifest.name);
    this.ownBindings = [...OWN_LOG_KEYS, ...Object.keys(this.log.bindings())];
    this.incarnation = createIncarnation<E>({
      name: manifest.name,
      version: manifest.version,
      ref: actx.self,
      stats,
      capacity: actx.mailboxCapacity,
      filter: manifest.filter,
      admit: (event: EventOf<E>) => this.admit(event),
      crash: actx,
      replay: replaySpec(manifest.replay),
    });
  }

  // ---- Lifecycle (called in the actor's turns) --------------------------------------------------

  async start(): Promise<void> {
    this.services.report({ kind: 'instance-started', incarnation: this.incarnation });
    this.spawnedAt = this.lastSeen = this.lastTick = this.stalledSince = this.actx.now();
    this.counters.spawned++;
    this.current.instanceId = this.actx.incarnation;
    this.setCurrent('spawning');
    this.channel = openChannel(this.manifest, {
      onFrame: (raw) => this.onFrame(raw),
      onViolation: (detail) => {
        // A frame refused while it was read (oversized): received, and the violation.
        this.counters.framesReceived++;
        this.violation(detail, true);
      },
      onError: (message) =>
        this.close(this.state === 'spawning' ? { kind: 'spawn-failed', message } : { kind: 'fatal', message }),
      onStderr: (line) => this.childLog(40, { stream: 'stderr' }, line),
      onClose: (exit) => this.onChannelClose(exit),
    });
    if (this.isCurrent()) {
      this.current.pid = this.channel.pid;
      this.current.threadId = this.channel.threadId;
    }
    this.log.debug({ childPid: this.channel.pid, threadId: this.channel.threadId, entry: this.manifest.entryPath }, 'module child started');
    void this.watchdog();
    await this.ready.promise;
    this.services.report({ kind: 'handshake', incarnation: this.incarnation, types: this.manifest.subscribe });
  }

  receive(message: unknown): void | Promise<void> {
    if (message === CHANNEL_CLOSED || this.failure !== null) throw this.failure ?? this.unexpectedClose();
    if (message instanceof Barrier) {
      // Everything taken before the barrier must be handled by the child first.
      this.flush();
      if (this.acked >= this.forwarded) message.reached();
      else this.barriers.push({ target: this.forwarded, reached: message.reached });
      return undefined;
    }
    // One taken: room for the next event of a paced replay, if one is pending.
    if (this.incarnation.backlog !== null) this.services.router.pull(this.incarnation);
    const json = this.serialize(message);
    if (json === undefined) return undefined;
    // With a replay position: the seqs given, in the order the child acknowledges them.
    if (this.incarnation.cursor !== null) this.givenSeqs.push((message as { meta: { seq: number } }).meta.seq);
    this.given++;
    this.updateHeld();
    // The JSON text's length (UTF-16 code units): its UTF-8 size for ASCII text, and what it takes
    // in the host's memory; measuring exact UTF-8 bytes per event would cost as much again as serializing.
    const bytes = json.length;
    if (this.fits(bytes)) return this.forward(json, bytes);
    // No room: keep the event in hand (the actor stays busy, its mailbox fills) until acknowledgements return.
    this.flush();
    const waiter = { bytes, deferred: deferred() };
    this.roomWaiter = waiter;
    return waiter.deferred.promise.then(() => this.forward(json, bytes));
  }

  async stop(): Promise<void> {
    if (this.channel === null || this.channelClosed) return;
    if (this.failure === null) {
      this.state = 'stopping';
      this.setCurrent('stopping');
      // The child gets its shutdown timeout, then SIGKILL. (The kernel's timeout for this actor is
      // longer, see STOP_MARGIN_MS, so that the kill and the child's exit happen inside it.)
      this.stopDeadline = this.actx.now() + this.manifest.shutdownTimeoutMs;
      this.flush();
      this.channel.send({ t: 'stop' });
    }
    await this.closed.promise;
  }

  // ---- Flow control -----------------------------------------------------------------------------

  /** Room for one more event of `bytes` in both windows (an event alone always fits). */
  private fits(bytes: number): boolean {
    const outstanding = this.forwarded - this.acked;
    return outstanding < this.manifest.credits && (outstanding === 0 || this.inFlightBytes + bytes <= this.manifest.maxInFlightBytes);
  }

  /** Events in flight beyond the one in hand count against the module's bound in the router. */
  private updateHeld(): void {
    this.incarnation.held = Math.max(0, this.given - this.acked - 1);
  }

  /** Puts one serialized event in the batch and sees that the batch goes out. */
  private forward(json: string, bytes: number): void {
    this.batch.push(json);
    this.forwarded++;
    this.sizes.push(bytes);
    this.inFlightBytes += bytes;
    if (this.inFlightBytes > this.counters.maxInFlightBytesSeen) this.counters.maxInFlightBytesSeen = this.inFlightBytes;
    this.setInFlight();
    if (this.batch.length >= FLUSH_AT || !this.fits(0)) {
      // A full batch, or full windows (nothing more can join it): now.
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
  }

  private flush(): void {
    if (this.batch.length === 0 || this.failure !== null || this.channel === null || this.state === 'spawning' || this.state === 'welcomed') return;
    const events = this.batch;
    this.batch = [];
    this.sent += events.length;
    if (this.channel.pendingOutput() === 0) {
      // Output starts to wait from now: the deadline of a child that does not read runs from here.
      this.lastFlushed = this.channel.flushedOutput();
      this.stalledSince = this.actx.now();
    }
    // The events were serialized one by one when taken: the frame is assembled, not serialized again.
    this.channel.write(`{"t":"events","events":[${events.join(',')}]}`);
  }

  /**
   * The JSON text of an event for the child. The router's `admit` let only JSON-safe events in, so
   * this fails only for a value changed since; such an event moves from enqueued to
   * `serializationFailed` in the module's stats (subscription kept), so the accounting law holds.
   */
  private serialize(event: unknown): string | undefined {
    try {
      const json = this.accepted.json(event as EventOf<E>) ?? JSON.stringify(event);
      if (typeof json === 'string') return json;
    } catch {
      // Counted below.
    }
    const { incarnation } = this;
    if (!incarnation.retired) {
      incarnation.stats.successful--;
      incarnation.enqueued--;
      incarnation.stats.serializationFailed++;
    }
    this.serializationFailed((event as { type?: unknown } | null)?.type);
    return undefined;
  }

  private acknowledge(n: number, failed: boolean): void {
    this.acked += n;
    for (let i = 0; i < n; i++) this.inFlightBytes -= this.sizes[this.sizesHead++] as number;
    if (this.sizesHead > 1024 && this.sizesHead * 2 > this.sizes.length) {
      this.sizes = this.sizes.slice(this.sizesHead);
      this.sizesHead = 0;
    }
    this.updateHeld();
    this.setInFlight();
    const { incarnation } = this;
    // Once retired (terminated, its remainder counted lost), late acknowledgements change nothing.
    if (!incarnation.retired) {
      incarnation.settled += n;
      if (failed) incarnation.stats.handlerFailed += n;
      else incarnation.stats.handled += n;
      const cursor = incarnation.cursor;
      for (let i = 0; i < n && cursor !== null && this.seqsHead < this.givenSeqs.length; i++) cursor.settled(this.givenSeqs[this.seqsHead++] as number);
      if (this.seqsHead > 1024 && this.seqsHead * 2 > this.givenSeqs.length) {
        this.givenSeqs = this.givenSeqs.slice(this.seqsHead);
        this.seqsHead = 0;
      }
    }
    if (this.barriers.length > 0) {
      const due = this.barriers.filter((b) => b.target <= this.acked);
      if (due.length > 0) {
        this.barriers = this.barriers.filter((b) => b.target > this.acked);
        for (const barrier of due) barrier.reached();
      }
    }
    const waiter = this.roomWaiter;
    if (waiter !== null && this.fits(waiter.bytes)) {
      this.roomWaiter = null;
      waiter.deferred.resolve();
    }
  }

  /** The router's check for this incarnation: JSON-safe events only, the others counted and logged. */
  private admit(event: EventOf<E>): boolean {
    // A payload a catalogue check wrote is JSON data, and so is the router's stamp: no walk needed.
    if (this.accepted.writes(event.type) || isJsonSafe(event)) return true;
    this.serializationFailed(event.type);
    return false;
  }

  private serializationFailed(eventType: unknown): void {
    this.counters.serializationFailed++;
    const count = this.serializationLog.hit(this.actx.now());
    if (count > 0) {
      this.log.warn(
        { eventType: typeof eventType === 'string' ? eventType : undefined, dropped: count },
        'event cannot be serialized for this process module (BigInt, cycle, non-JSON value): dropped for it, subscription kept',
      );
    }
  }

  // ---- The trust boundary -----------------------------------------------------------------------

  private onFrame(raw: string): void {
    if (this.failure !== null || this.channelClosed) return;
    if (!this.actx.self.isAlive) {
      // The actor was killed (stop timeout) while its child lives on.
      this.channel?.stopReading();
      this.channel?.kill();
      return;
    }
    this.counters.framesReceived++;
    const message = parseChildMessage(raw, this.manifest.maxMessageBytes);
    if (!isViolation(message) || message.stage !== 'frame') this.counters.charsParsed += raw.length;
    if (isViolation(message)) {
      this.violation(message.violation, true);
      return;
    }
    this.lastSeen = this.actx.now();
    this.handle(message, raw.length);
  }

  private handle(message: ChildMessage, frameBytes: number): void {
    const state = this.state;
    const outOfProtocol = (): void => this.violation(`"${message.t}" is not allowed while the module is ${state}`, true);
    const accepted = (): void => {
      this.counters.framesAccepted++;
    };
    switch (message.t) {
      case 'hello': {
        if (state !== 'spawning') return outOfProtocol();
        accepted();
        if (message.protocol !== PROTOCOL_VERSION) {
          this.send({ t: 'reject', reason: `protocol version ${message.protocol} is not supported (host speaks ${PROTOCOL_VERSION})` });
          return this.close({ kind: 'protocol-mismatch', expected: PROTOCOL_VERSION, got: message.protocol });
        }
        if (message.name !== this.manifest.name || message.version !== this.manifest.version) {
          const expected = `${this.manifest.name}@${this.manifest.version}`;
          const got = `${message.name}@${message.version}`;
          this.send({ t: 'reject', reason: `the manifest describes ${expected}, the entry implements ${got}` });
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
          logLevel: this.log.level,
        });
        return;
      }
      case 'ready':
        if (state !== 'welcomed') return outOfProtocol();
        accepted();
        this.state = 'running';
        this.setCurrent('running');
        this.ready.resolve();
        return;
      case 'heartbeat':
        if (state === 'spawning') return outOfProtocol();
        return accepted();
      case 'ack':
        if (state !== 'running' && state !== 'stopping') return outOfProtocol();
        if (this.acked + message.n > this.sent) {
          return this.violation(`ack of ${message.n} events with ${this.sent - this.acked} in flight`, true);
        }
        accepted();
        return this.acknowledge(message.n, false);
      case 'fail':
        if (state !== 'running' && state !== 'stopping') return outOfProtocol();
        if (this.acked >= this.sent) return this.violation('fail with no event in flight', true);
        accepted();
        this.acknowledge(1, true);
        return this.close({ kind: 'handler-failed', message: message.error || 'the handler failed', ...errorDetails(message) });
      case 'fatal':
        accepted();
        return this.close({ kind: 'fatal', message: message.error || 'unknown error', ...errorDetails(message) });
      case 'publish':
        if (state === 'spawning') return outOfProtocol();
        return this.publish(message.id, message.event, frameBytes);
      case 'subscribe':
      case 'unsubscribe': {
        if (state === 'spawning') return outOfProtocol();
        const refused = message.types.filter((type) => !this.subscribable.has(type));
        if (refused.length > 0) {
          this.counters.refusedSubscriptions++;
          const text = `Module "${this.manifest.name}" may only subscribe to its manifest's types (${this.manifest.subscribe.join(', ') || 'none'}), got ${refused.join(', ')}`;
          this.send({ t: 'error', code: 'not-permitted', message: text });
          return this.refused('not-permitted', text, frameBytes);
        }
        accepted();
        this.services.report({ kind: message.t, incarnation: this.incarnation, types: message.types });
        return;
      }
      case 'health':
        if (state === 'spawning') return outOfProtocol();
        accepted();
        this.services.report({ kind: 'health', incarnation: this.incarnation, health: message.health });
        return;
      case 'log': {
        if (state === 'spawning') return outOfProtocol();
        accepted();
        const { msg } = message.record;
        return this.childLog(message.record.level, message.record, typeof msg === 'string' ? msg : '');
      }
    }
  }

  private publish(id: number, event: unknown, frameBytes: number): void {
    const type = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
    const refuse = (code: string, text: string): void => {
      this.send({ t: 'refused', id, code, message: text });
      this.refused(code, text, frameBytes);
    };
    if (typeof type === 'string' && !this.permitted.has(type)) {
      this.counters.refusedNotPermitted++;
      const allowed = [...this.permitted].join(', ') || 'none';
      return refuse('not-permitted', `Module "${this.manifest.name}" may not publish ${type} (its manifest permits: ${allowed})`);
    }
    if (!this.budgets.publishes.take(this.actx.now())) {
      this.counters.refusedRateLimited++;
      return refuse(
        'rate-limited',
        `Module "${this.manifest.name}" exceeded its publish rate limit of ${this.manifest.ratePerSecond}/s (bursts of ${this.manifest.rateBurst})`,
      );
    }
    let receipt;
    try {
      receipt = this.services.publishFrom(this.manifest.name, this.permitted, event);
    } catch (error) {
      this.counters.refusedInvalid++;
      return refuse(isModactorError(error) ? error.code : 'invalid-event', error instanceof Error ? error.message : String(error));
    }
    this.counters.published++;
    this.counters.framesAccepted++;
    this.send({ t: 'receipt', id, receipt });
  }

  /**
   * A frame refused with a code (already answered and counted by kind): it costs the module's
   * refusal budget, 1 unit plus 1 per full {@link REFUSAL_UNIT_BYTES}; an empty budget is a
   * protocol violation.
   */
  private refused(code: string, text: string, frameBytes: number): void {
    this.counters.framesRefused++;
    const count = this.refusalLog.hit(this.actx.now());
    if (count > 0) this.log.warn({ code, refused: count }, `message refused: ${text}`);
    if (!this.budgets.refusals.take(this.actx.now(), 1 + Math.floor(frameBytes / REFUSAL_UNIT_BYTES))) {
      this.violation(`too many refused messages (more than ${REFUSAL_BURST} at once, ${REFUSALS_PER_SECOND}/s on average)`, false);
    }
  }

  /**
   * Re-emits one line of the child's log through the node's logger, bound to the module, within
   * the module's log rate limit (lines over it are counted, and summed up in one line per 10 s).
   */
  private childLog(level: number, record: LogRecord | Record<string, unknown>, msg: string): void {
    if (!this.budgets.logs.take(this.actx.now())) {
      this.counters.logLinesDropped++;
      const dropped = this.droppedLog.hit(this.actx.now());
      if (dropped > 0) this.log.warn({ dropped }, `log lines of the module dropped over its limit of ${LOG_LINES_PER_SECOND}/s`);
      return;
    }
    this.counters.logLines++;
    const fields: Record<string, unknown> = { ...record };
    for (const key of this.ownBindings) delete fields[key];
    const err = fields['err'];
    if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
      const { type, message, stack, ...rest } = err as Record<string, unknown>;
      fields['err'] = childErrorForLog(typeof type === 'string' ? type : 'Error', message as string, typeof stack === 'string' ? stack : undefined, rest);
    }
    this.log[LOG_LEVELS[level] ?? 'info'](fields, msg);
  }

  private send(message: HostMessage): void {
    this.channel?.send(message);
  }

  /** A protocol violation: `byFrame` when the frame being read is the violation itself. */
  private violation(detail: string, byFrame: boolean): void {
    if (byFrame) this.counters.framesViolating++;
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
      if (reason.kind !== 'exited') this.log.warn({ reason: reason.kind, childPid: this.channel?.pid }, `${failure.message} (while stopping)`);
      return;
    }
    this.counters.crashes++;
    this.counters.lastFailure = failure.message;
    if (reason.kind === 'protocol-violation') this.counters.protocolViolations++;
    if (reason.kind === 'heartbeat-timeout') this.counters.heartbeatTimeouts++;
    if (reason.kind === 'not-reading') this.counters.notReading++;
    const err = reason.kind === 'fatal' || reason.kind === 'handler-failed' ? childErrorForLog(reason.name ?? 'Error', reason.message, reason.stack) : undefined;
    this.log.error({ reason: reason.kind, childPid: this.channel?.pid, ...(err === undefined ? {} : { err }) }, failure.message);
    for (const barrier of this.barriers) barrier.reached();
    this.barriers = [];
    if (state === 'spawning' || state === 'welcomed') {
      this.ready.reject(failure);
      return;
    }
    const waiter = this.roomWaiter;
    if (waiter !== null) {
      this.roomWaiter = null;
      waiter.deferred.reject(failure);
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

  private setInFlight(): void {
    if (!this.isCurrent()) return;
    this.current.inFlightBytes = this.inFlightBytes;
    this.current.inFlightEvents = this.forwarded - this.acked;
  }

  private unexpectedClose(): ProcessModuleFailure {
    return new ProcessModuleFailure(this.manifest.name, { kind: 'exited', code: null, signal: null });
  }

  /**
   * True when output to the child has been pending without the child taking any of it for the
   * deadline (as long as it may stay silent): a child that does not read. Measured on the node's
   * scheduler.
   */
  private notReading(now: number): number | false {
    const channel = this.channel;
    if (channel === null) return false;
    const flushed = channel.flushedOutput();
    const pending = channel.pendingOutput();
    if (pending === 0 || flushed !== this.lastFlushed) {
      this.lastFlushed = flushed;
      this.stalledSince = now;
      return false;
    }
    return now - this.stalledSince > this.manifest.heartbeatMs * this.manifest.heartbeatMissed ? pending : false;
  }

  /**
   * Checks, until the child is gone, the startup deadline, that the child reads, the heartbeats,
   * the stop deadline, and that this actor still lives (a killed actor's child is killed too). Its
   * timer runs on the node's scheduler outside the actor's turns, so a busy actor (waiting for
   * room) is watched too.
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
      if (stalled) {
        this.stalledSince = now;
        continue;
      }
      const state = this.state;
      if ((state === 'spawning' || state === 'welcomed') && now - this.spawnedAt > this.manifest.startupTimeoutMs) {
        this.close({ kind: 'startup-timeout', timeoutMs: this.manifest.startupTimeoutMs });
        continue;
      }
      const pending = this.notReading(now);
      if (pending !== false) {
        this.close({ kind: 'not-reading', pendingBytes: pending, stalledMs: now - this.stalledSince });
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

/**
 * An error of a child, as pino's `err` serializer will write it: `type`, `message`, `stack` (and
 * `extra` fields). Not an Error (it did not happen here) nor a plain object (the serializer would
 * call its type "Object"): a prototype-less record whose `name` gives the type.
 */
function childErrorForLog(type: string, message: string, stack: string | undefined, extra: Record<string, unknown> = {}): object {
  return loggedError(type, message, stack ?? `${type}: ${message}`, extra);
}

/** The optional error details of a `fail` or `fatal` message. */
function errorDetails(message: { readonly name?: string; readonly stack?: string }): { name?: string; stack?: string } {
  return {
    ...(message.name === undefined ? {} : { name: message.name }),
    ...(message.stack === undefined ? {} : { stack: message.stack }),
  };
}
