/**
 * The module SDK: the child side of a process or worker module. An entry file calls
 * {@link runModule} once; the SDK connects to the node that started it, handshakes, runs the
 * module's setup, then hands it events one at a time, in order, acknowledging them (which returns
 * credits to the host), and carries its publishes, subscriptions, health reports and heartbeats.
 * When the node goes away, the child exits: no orphans.
 *
 * This file is the SDK's entry point and imports only what a child needs (no actor system), so a
 * module child starts fast. Everything it exports is also exported by the package index.
 */
import { Socket } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pino, type Logger } from 'pino';
import { ModactorError, type ModactorErrorCode } from '../kernel/errors.js';
import { errorForLog, isErrorSafe } from '../kernel/foreign.js';
import { isThenable } from '../kernel/is-thenable.js';
import { createRealScheduler, type TimerHandle } from '../kernel/scheduler.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { ModuleHealth, NodeEventMap } from '../events/node-catalogue.js';
import type { PublishReceipt } from '../node/delivery-stats.js';
import { isJsonSafe } from './json-safe.js';
import { LineSplitter } from './line-splitter.js';
import {
  CHANNEL_FD_ENV,
  MAX_LOG_BYTES,
  MAX_STACK_CHARS,
  PROTOCOL_VERSION,
  type ChildMessage,
  type ErrorDetails,
  type HostMessage,
  type WelcomeMessage,
} from './protocol.js';

export type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
export type { ModuleHealth, NodeEvent, NodeEventMap, NodeEventType } from '../events/node-catalogue.js';
export type { PublishReceipt } from '../node/delivery-stats.js';

/** What a process module's code sees of its node. */
export interface ChildModuleContext<E extends EventMap = NodeEventMap> {
  readonly name: string;
  readonly version: string;
  /** The module's id on the node (its name). */
  readonly moduleId: string;
  /** Unique per incarnation: a restart gets a new one. */
  readonly instanceId: string;
  /**
   * A pino logger at the node's level. Its lines go to the node over the channel and come out of
   * the node's logger bound to `module: <name>` (records over 16 KiB are cut, and the node
   * re-emits at most 200 lines per second of a module, bursts of 1000).
   */
  readonly log: Logger;
  /**
   * Publishes an event through the node. Resolves with the receipt; rejects with a ModactorError:
   * `serialization-failed` (not JSON-safe, or larger than the node accepts: checked here, nothing
   * is sent), `not-permitted` (the manifest does not permit the type), `rate-limited`, or the
   * catalogue's validation codes (`invalid-payload`, ...).
   */
  publish(event: EventOf<E>): Promise<PublishReceipt>;
  /** Subscribes to more types (only types the manifest lists; others are refused). */
  subscribe(types: readonly EventTypeOf<E>[]): void;
  unsubscribe(types: readonly EventTypeOf<E>[]): void;
  /** Reports this module's health; a change publishes ModuleHealthChanged. */
  reportHealth(health: ModuleHealth): void;
  /**
   * The child's wall clock, in ms. Unlike an in-process module's `ctx.now()`, which reads the node's
   * scheduler (virtual time under a simulated scheduler), a child has no access to the node's
   * clock: it always runs in real time.
   */
  now(): number;
  /** Waits `ms` of the child's wall clock. */
  delay(ms: number): Promise<void>;
}

/** The handlers of one incarnation of a process module. */
export interface ChildModuleHandlers<E extends EventMap = NodeEventMap> {
  /** Called once per event, one at a time, in order. A throw or rejection crashes the module. */
  handle(event: EventOf<E>, ctx: ChildModuleContext<E>): void | Promise<void>;
  /** Runs when the node stops the module (unload, reload, shutdown), within its timeout. */
  stop?: (ctx: ChildModuleContext<E>) => void | Promise<void>;
}

interface ChildModuleBase {
  /** Must match the manifest's name and version: checked at handshake. */
  readonly name: string;
  readonly version: string;
}

/** A process module given by its handlers. */
export interface ChildHandlerDefinition<E extends EventMap = NodeEventMap> extends ChildModuleBase, ChildModuleHandlers<E> {
  /** Runs after the handshake, before the module is subscribed and announced. */
  readonly setup?: (ctx: ChildModuleContext<E>) => void | Promise<void>;
}

/** A process module given by a factory of its handlers. */
export interface ChildFactoryDefinition<E extends EventMap = NodeEventMap> extends ChildModuleBase {
  readonly create: (ctx: ChildModuleContext<E>) => ChildModuleHandlers<E> | Promise<ChildModuleHandlers<E>>;
}

/** What {@link runModule} takes. */
export type ChildModuleDefinition<E extends EventMap = NodeEventMap> = ChildHandlerDefinition<E> | ChildFactoryDefinition<E>;

/** Longest run of synchronous handlers before the SDK yields to the event loop (heartbeats, I/O). */
const SLICE_MS = 20;

/** At most this many publishes may wait for their receipt. */
export const MAX_PENDING_PUBLISHES = 1024;

/**
 * Runs a process or worker module: call it once from the module's entry file. Resolves once the
 * module is connected and its setup ran; the child then lives until the node stops it or goes
 * away. Throws a ModactorError (`invalid-argument`) when not started by a node.
 *
 * @example
 * ```ts
 * // actors/process-echo.ts, the entry of defineProcessModule({ entry: new URL('./process-echo.ts', import.meta.url), ... })
 * import { runModule } from '../src/ipc/sdk.js';
 * await runModule({
 *   name: 'echo', version: '1.0.0',
 *   async handle(event, ctx) {
 *     await ctx.publish({ type: 'HealthCheck', payload: { checkType: 'echo', nodeHealthy: true, healthReport: event.type } });
 *   },
 * });
 * ```
 */
export function runModule<E extends EventMap = NodeEventMap>(definition: ChildModuleDefinition<E>): Promise<void> {
  if (typeof definition !== 'object' || definition === null) {
    throw new ModactorError('invalid-argument', 'Expected a module definition { name, version, handle | create }');
  }
  if (typeof definition.name !== 'string' || typeof definition.version !== 'string') {
    throw new ModactorError('invalid-argument', 'Expected the module definition to have a string name and version');
  }
  const hasHandle = typeof (definition as Partial<ChildHandlerDefinition<E>>).handle === 'function';
  const hasCreate = typeof (definition as Partial<ChildFactoryDefinition<E>>).create === 'function';
  if (hasHandle === hasCreate) {
    throw new ModactorError('invalid-argument', 'Expected the module definition to have exactly one of handle(event, ctx) or create(ctx)');
  }
  const runtime = new ChildRuntime<E>(definition);
  return runtime.start();
}

// ---- Transports ---------------------------------------------------------------------------------

interface Transport {
  /** Sends one frame: a JSON text without its newline. */
  write(frame: string): void;
  /** Flushes what was sent, then calls `done`. */
  end(done: () => void): void;
}

interface WorkerBoot {
  readonly modactor?: { readonly protocol?: number };
}

function connect(onMessage: (message: HostMessage) => void, onHostGone: () => void): Transport {
  const onFrame = (frame: string): void => onMessage(JSON.parse(frame) as HostMessage);
  if (!isMainThread && parentPort !== null && (workerData as WorkerBoot | null)?.modactor !== undefined) {
    const port = parentPort;
    port.on('message', onFrame);
    port.on('close', onHostGone);
    return {
      write: (frame) => port.postMessage(frame),
      end: (done) => done(),
    };
  }
  const fd = process.env[CHANNEL_FD_ENV];
  if (fd === undefined) {
    throw new ModactorError(
      'invalid-argument',
      'runModule must run in a child started by a modactor node (defineProcessModule / defineWorkerModule), got a plain process',
    );
  }
  // The channel is ours alone: a process this module starts must not think it is connected too.
  delete process.env[CHANNEL_FD_ENV];
  const socket = new Socket({ fd: Number(fd), readable: true, writable: true });
  // Linear in the bytes received, however long a line (a batch of large events) is.
  const lines = new LineSplitter(onFrame);
  socket.on('data', (chunk: Buffer) => lines.push(chunk));
  // The node went away (or closed the channel): nothing left to serve.
  socket.on('end', onHostGone);
  socket.on('error', onHostGone);
  return {
    write(frame) {
      if (!socket.destroyed) socket.write(`${frame}\n`);
    },
    end(done) {
      if (socket.destroyed) done();
      else socket.end(done);
    },
  };
}

// ---- The runtime --------------------------------------------------------------------------------

/** What to tell the node about a thrown value, whatever it is, read once and safely. Never throws. */
function errorDetails(error: unknown): ErrorDetails {
  const logged = errorForLog(error);
  return {
    error: logged.message,
    ...(isErrorSafe(error) ? { name: logged.name.slice(0, 128) } : {}),
    ...(logged.stack === undefined ? {} : { stack: logged.stack.slice(0, MAX_STACK_CHARS) }),
  };
}

/**
 * The frame of one line of the module's pino logger: the record as pino wrote it, inside a `log`
 * message. A record over the node's limit is cut to its level, the start of its message and its
 * size.
 */
function logFrame(line: string): string {
  const record = line.trimEnd();
  const frame = `{"t":"log","record":${record}}`;
  if (frame.length * 3 <= MAX_LOG_BYTES || Buffer.byteLength(frame, 'utf8') <= MAX_LOG_BYTES) return frame;
  const { level, msg } = JSON.parse(record) as { level: number; msg?: unknown };
  const text = typeof msg === 'string' ? msg.slice(0, 1000) : '';
  return JSON.stringify({ t: 'log', record: { level, msg: text, truncated: Buffer.byteLength(record, 'utf8') } });
}

type RuntimeState = 'connecting' | 'setup' | 'running' | 'stopping';

class ChildRuntime<E extends EventMap> {
  private state: RuntimeState = 'connecting';
  private transport: Transport | null = null;
  private readonly scheduler = createRealScheduler();
  private heartbeat: TimerHandle | null = null;
  private handlers: ChildModuleHandlers<E> | null = null;
  private ctx: ChildModuleContext<E> | null = null;
  private credits = 1;
  private ackEvery = 1;
  private queue: (EventOf<E> | undefined)[] = [];
  private head = 0;
  private received = 0;
  private acked = 0;
  private unacked = 0;
  private pumping = false;
  private failed = false;
  private exiting = false;
  private idleWaiters: (() => void)[] = [];
  private nextPublishId = 0;
  private readonly pending = new Map<number, { resolve: (receipt: PublishReceipt) => void; reject: (error: unknown) => void }>();
  private connected!: () => void;
  private readonly connectedPromise = new Promise<void>((resolve) => {
    this.connected = resolve;
  });

  constructor(private readonly definition: ChildModuleDefinition<E>) {}

  start(): Promise<void> {
    // The node went away: there is nobody to flush anything to, and nothing left to serve.
    this.transport = connect(
      (message) => this.onMessage(message),
      () => process.exit(0),
    );
    process.on('uncaughtException', (error) => this.fatal(error));
    process.on('unhandledRejection', (error) => this.fatal(error));
    this.send({ t: 'hello', protocol: PROTOCOL_VERSION, name: this.definition.name, version: this.definition.version });
    return this.connectedPromise;
  }

  private send(message: ChildMessage): void {
    this.transport?.write(JSON.stringify(message));
  }

  private onMessage(message: HostMessage): void {
    switch (message.t) {
      case 'welcome':
        void this.welcome(message);
        return;
      case 'reject':
        // The node logs why; it kills this child anyway.
        this.exit(1);
        return;
      case 'events':
        this.received += message.events.length;
        if (this.received - this.acked > this.credits) {
          this.fatal(new Error(`the node sent ${this.received - this.acked} events un-acknowledged, over the window of ${this.credits}`));
          return;
        }
        for (const event of message.events) this.queue.push(event as EventOf<E>);
        this.pump();
        return;
      case 'receipt': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.resolve(message.receipt);
        return;
      }
      case 'refused': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        waiter?.reject(new ModactorError(message.code as ModactorErrorCode, message.message));
        return;
      }
      case 'error':
        this.ctx?.log.warn({ code: message.code }, message.message);
        return;
      case 'stop':
        void this.stop();
        return;
    }
  }

  private async welcome(welcome: WelcomeMessage): Promise<void> {
    if (this.state !== 'connecting') return;
    this.state = 'setup';
    this.credits = welcome.credits;
    // Credits go back as events are handled, a quarter of the window at a time (and whenever the
    // queue runs empty): the node refills while three quarters are still here to work on.
    this.ackEvery = Math.max(1, Math.floor(welcome.credits / 4));
    // Lines go to the node, which re-emits them through its own logger (bound to the module).
    const log = pino(
      { level: welcome.logLevel, base: null, timestamp: false },
      { write: (line: string) => this.transport?.write(logFrame(line)) },
    );
    const ctx = this.context(welcome, log);
    this.ctx = ctx;
    this.beat(welcome.heartbeatMs);
    try {
      const definition = this.definition;
      if ('create' in definition) {
        this.handlers = await definition.create(ctx);
      } else {
        await definition.setup?.(ctx);
        this.handlers = definition;
      }
    } catch (error) {
      this.fatal(error);
      return;
    }
    if (this.state !== 'setup') return;
    this.state = 'running';
    this.send({ t: 'ready' });
    this.connected();
    this.pump();
  }

  private context(welcome: WelcomeMessage, log: Logger): ChildModuleContext<E> {
    return {
      name: welcome.name,
      version: welcome.version,
      moduleId: welcome.moduleId,
      instanceId: welcome.instanceId,
      log,
      publish: (event) =>
        new Promise<PublishReceipt>((resolve, reject) => {
          if (this.pending.size >= MAX_PENDING_PUBLISHES) {
            reject(new ModactorError('rate-limited', `More than ${MAX_PENDING_PUBLISHES} publishes are waiting for their receipt`));
            return;
          }
          if (!isJsonSafe(event)) {
            reject(new ModactorError('serialization-failed', 'Expected an event that survives JSON (no BigInt, cycle, undefined, class instance; bounded depth), got one that does not'));
            return;
          }
          const id = this.nextPublishId++;
          const frame = JSON.stringify({ t: 'publish', id, event });
          if (frame.length * 3 > welcome.maxMessageBytes && Buffer.byteLength(frame, 'utf8') > welcome.maxMessageBytes) {
            reject(new ModactorError('serialization-failed', `Expected an event of at most ${welcome.maxMessageBytes} bytes as JSON, got ${Buffer.byteLength(frame, 'utf8')}`));
            return;
          }
          this.pending.set(id, { resolve, reject });
          this.transport?.write(frame);
        }),
      subscribe: (types) => this.send({ t: 'subscribe', types }),
      unsubscribe: (types) => this.send({ t: 'unsubscribe', types }),
      reportHealth: (health) => this.send({ t: 'health', health }),
      now: () => this.scheduler.now(),
      delay: (ms) =>
        new Promise<void>((resolve) => {
          this.scheduler.setTimer(ms, resolve);
        }),
    };
  }

  /** Sends a heartbeat every `intervalMs` until the child ends. */
  private beat(intervalMs: number): void {
    this.send({ t: 'heartbeat' });
    this.heartbeat = this.scheduler.setTimer(intervalMs, () => this.beat(intervalMs));
  }

  private pump(): void {
    if (this.pumping || this.state !== 'running' || this.failed) return;
    void this.drain();
  }

  /** Handles queued events one at a time, in order, acknowledging them in groups. */
  private async drain(): Promise<void> {
    this.pumping = true;
    const handlers = this.handlers as ChildModuleHandlers<E>;
    const ctx = this.ctx as ChildModuleContext<E>;
    let sliceStart = this.scheduler.now();
    try {
      while (this.head < this.queue.length && this.state === 'running' && !this.failed) {
        const event = this.queue[this.head] as EventOf<E>;
        this.queue[this.head++] = undefined;
        let waited = false;
        try {
          const result = handlers.handle(event, ctx);
          if (isThenable(result)) {
            waited = true;
            await result;
          }
        } catch (error) {
          this.flushAcks();
          this.failed = true;
          this.send({ t: 'fail', ...errorDetails(error) });
          return;
        }
        this.unacked++;
        // After an async handler the turn is spent anyway: acknowledge at once, so a crash loses
        // as few handled-but-unacknowledged events as possible. Sync handlers are acknowledged in groups.
        if (waited || this.unacked >= this.ackEvery) this.flushAcks();
        if (waited) sliceStart = this.scheduler.now();
        else if (this.scheduler.now() - sliceStart > SLICE_MS) {
          // A long run of sync handlers must not starve heartbeats and the node's messages.
          this.flushAcks();
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = this.scheduler.now();
        }
      }
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.flushAcks();
    } finally {
      this.pumping = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  private flushAcks(): void {
    if (this.unacked === 0) return;
    this.send({ t: 'ack', n: this.unacked });
    this.acked += this.unacked;
    this.unacked = 0;
  }

  private async stop(): Promise<void> {
    if (this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (this.pumping) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.flushAcks();
    if (wasRunning && this.ctx !== null) {
      try {
        await this.handlers?.stop?.(this.ctx);
      } catch (error) {
        // A fresh Error from what could be read safely: the thrown value itself may throw when read.
        const details = errorDetails(error);
        const failure = new Error(details.error);
        if (details.stack !== undefined) failure.stack = details.stack;
        this.ctx.log.error({ err: failure }, 'stop failed');
      }
    }
    this.exit(0);
  }

  private fatal(error: unknown): void {
    if (this.failed && this.state === 'stopping') return;
    this.failed = true;
    // The node logs it (with its stack) and crashes the module.
    this.send({ t: 'fatal', ...errorDetails(error) });
    this.exit(1);
  }

  private exit(code: number): void {
    if (this.exiting) return;
    this.exiting = true;
    this.heartbeat?.cancel();
    const transport = this.transport;
    if (transport === null) process.exit(code);
    else transport.end(() => process.exit(code));
  }
}
