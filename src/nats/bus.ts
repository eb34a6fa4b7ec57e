/**
 * A node on the NATS bus: {@link joinBus} connects a {@link BusPort} to a NATS server and moves
 * events and membership between it and the other nodes.
 *
 * - Local events (except the node-reserved lifecycle types, which every node makes for itself)
 *   go out one way only: durable types on JetStream (`<prefix>.dur.…`), every other type on core
 *   NATS (`<prefix>.ev.…`). Sending never blocks the node: bounded buffers, counted outcomes.
 * - Remote events come in through one boundary ({@link decodeMessage}, then the catalogue), in
 *   order per origin and path ({@link OriginTracker}), and enter the node through
 *   `port.injectRemote`. Events that came from the bus are never sent back out: the port does not
 *   report them as local, the connection does not echo, and a node ignores its own id.
 * - Membership: {@link MembershipSync}.
 * - Faults: while the connection is down, sending counts `busUnavailable` (durable events wait in
 *   their bounded queue); the client reconnects for ever, and on reconnection the durable queue
 *   resumes, membership is reconciled and announced, and losses show as `missed` on receivers.
 *
 * @internal
 */
import type { Logger } from 'pino';
import { connect, nanos, type Status } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { ModactorError, describeValue, isModactorError, type ModactorErrorCode } from '../kernel/errors.js';
import { silentLogger } from '../kernel/logger.js';
import type { Scheduler, TimerHandle } from '../kernel/scheduler.js';
import type { Catalogue, EventMap } from '../events/catalogue.js';
import { eventFamilies, nodeCatalogue } from '../events/node-catalogue.js';
import { resolveBusSettings, type BusSettings } from './bus-options.js';
import { emptyBusStats, type BusPathStats, type BusStats } from './bus-stats.js';
import { CoreSender, DEFAULT_CORE_SENDER } from './core-sender.js';
import { DurableReceiver } from './durable-receiver.js';
import { DurableSender } from './durable-sender.js';
import { MembershipSync } from './membership-sync.js';
import { OriginTracker } from './origin-tracker.js';
import { doublingLog, type BusPort, type RemoteOrigin, type StampedEvent } from './port.js';
import { busSubjects, escapeToken, memoize, parseSubject, type BusSubjects } from './subject.js';
import { decodeMessage, isGarbage, type Garbage, type WireEvent, type WireMessage } from './wire.js';

/** Options of {@link joinBus}: the bus's settings, and what the node gives it. */
export interface BusOptions extends BusSettings {
  /** The node's scheduler: heartbeats and deadlines run on it. */
  readonly scheduler: Scheduler;
  readonly logger?: Logger;
  /** The catalogue the durable types are checked against. Default the node catalogue. */
  readonly catalogue?: Catalogue<EventMap>;
}

/** A change of the bus connection, as {@link Bus.onConnection} reports it. */
export type BusConnectionChange = { readonly type: 'down' } | { readonly type: 'up'; readonly serverRestarted: boolean };

/** A node's membership in the bus. */
export interface Bus {
  readonly nodeId: string;
  /** This incarnation's id: a restart gets a new one. */
  readonly epoch: string;
  readonly subjects: BusSubjects;
  /** A snapshot of the counters. */
  stats(): BusStats;
  /**
   * Calls `listener` when the connection goes down, and when it is back with every subscription in
   * place again; returns the function that stops it.
   */
  onConnection(listener: (change: BusConnectionChange) => void): () => void;
  /** Resolves when every durable event offered so far was acknowledged or counted lost. */
  durableSettled(): Promise<void>;
  /** Leaves the bus: goodbye, membership removed, durable events flushed (within the close timeout). */
  close(): Promise<void>;
}

/** Refusals that mean the event itself is not valid (counted `invalid`, not `refused`). */
const INVALID_EVENT: ReadonlySet<ModactorErrorCode> = new Set<ModactorErrorCode>(['invalid-event', 'unknown-event-type', 'invalid-payload']);

/** Types a node makes for itself; never sent to or accepted from the bus. */
const LOCAL_ONLY: ReadonlySet<string> = new Set([...eventFamilies.lifecycle, ...eventFamilies.node]);

/** How long a durable message that arrived ahead of its origin's next number waits for the gap to fill. */
const DURABLE_HOLD_MS = 5000;

/** Most durable messages of one origin held back at once. */
const DURABLE_HOLD_MAX = 64;

/** Longest node id, in UTF-16 code units. */
const MAX_NODE_ID_CHARS = 128;

/**
 * Joins `port`'s node to the bus. Resolves once connected, with the stream, the node's durable
 * consumer and the membership bucket in place and every subscription running; rejects with the
 * NATS client's error if the server cannot be reached, or a `ModactorError` for bad options.
 */
export async function joinBus(port: BusPort, options: BusOptions): Promise<Bus> {
  const nodeId = port.nodeId;
  if (typeof nodeId !== 'string' || nodeId.length === 0 || nodeId.length > MAX_NODE_ID_CHARS) {
    throw new ModactorError('invalid-argument', `Expected a node id of 1 to ${MAX_NODE_ID_CHARS} characters, got ${describeValue(nodeId)}`);
  }
  const { scheduler, logger, catalogue: given, ...raw } = options;
  const settings = resolveBusSettings(raw);
  const catalogue = given ?? (nodeCatalogue as unknown as Catalogue<EventMap>);
  const durableTypes = new Set(settings.durableTypes);
  for (const type of durableTypes) {
    if (!catalogue.has(type)) throw new ModactorError('unknown-event-type', `Expected durable types of the catalogue, got ${describeValue(type)}`);
    if (LOCAL_ONLY.has(type)) throw new ModactorError('invalid-argument', `Expected durable types that travel between nodes, got the node-reserved ${type}`);
  }
  const subjects = busSubjects(settings.prefix);
  const { heartbeatMs, deadlineMs, maxMessageBytes, closeTimeoutMs } = settings;
  const { maxQueued, window, batchMax, maxAttempts, ackTimeoutMs } = settings.durable;
  const log = (logger ?? silentLogger()).child({ module: 'nats-bus', nodeId });
  const stats = emptyBusStats();
  const epoch = scheduler.newId();
  const epochJson = JSON.stringify(epoch);

  const nc = await connect({
    servers: [...settings.servers],
    name: `modactor:${nodeId}`,
    noEcho: true,
    // No stack trace captured per request (every JetStream publish is one): measurable CPU.
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: settings.connection.reconnectTimeWaitMs,
    pingInterval: settings.connection.pingIntervalMs,
    maxPingOut: settings.connection.maxPingOut,
    ...(settings.auth ?? {}),
    ...(settings.tls === undefined ? {} : { tls: { ...settings.tls } }),
  });
  try {
    const connection = { up: true, upSince: scheduler.now(), serverId: nc.info?.server_id };
    stats.connection.connected = true;
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, subjects, settings.durable.maxAgeMs, settings.durable.maxBytes);
    const kv = await new Kvm(nc).create(subjects.bucket, { history: 1 });
    const js = jetstream(nc);

    // ---- Inbound ----------------------------------------------------------------------------------
    const trackers = { core: new OriginTracker(), durable: new OriginTracker() };
    const logGarbage = doublingLog();
    const logThrown = doublingLog();
    const refuse = (why: Garbage): void => {
      stats.garbage++;
      if (logGarbage()) log.warn({ reason: why.garbage, detail: why.detail, refused: stats.garbage }, 'refused a message from the bus');
    };
    /**
     * Offers one remote event to the node, which validates it (catalogue, frozen copy) as it does
     * any untrusted input: the bus does not check it twice. The port never throws; if it does, the
     * event counts as refused and the bus goes on.
     */
    const inject = (counters: BusPathStats, event: WireEvent['event'], origin: RemoteOrigin): void => {
      let result: unknown;
      try {
        result = port.injectRemote(event, origin);
      } catch (error) {
        if (logThrown()) log.error({ err: error }, 'the node threw while taking a remote event');
        counters.refused++;
        return;
      }
      if (!isModactorError(result)) counters.received++;
      else if (INVALID_EVENT.has(result.code)) counters.invalid++;
      else counters.refused++;
    };
    const parse = memoize((subject) => parseSubject(subjects.prefix, subject));
    /**
     * Durable messages that arrived ahead of their origin's next number, held back a little: the
     * stream can hold an origin's message N+1 before N when N timed out unstored while N+1 was
     * acknowledged (the sender keeps the order in every other case), and N follows shortly, sent
     * again. Delivered in number order
     * once the gap fills, or as they are (the gap counted missed) after {@link DURABLE_HOLD_MS} or
     * past {@link DURABLE_HOLD_MAX} messages.
     */
    const held = new Map<string, { messages: { nodeId: string; message: WireMessage }[]; timer: TimerHandle }>();
    const releaseHeld = (origin: string, all: boolean): void => {
      const entry = held.get(origin);
      if (entry === undefined) return;
      entry.messages.sort((x, y) => x.message.first - y.message.first);
      while (entry.messages.length > 0) {
        const next = entry.messages[0] as { nodeId: string; message: WireMessage };
        if (!all && trackers.durable.isAhead(next.nodeId, next.message.epoch, next.message.first)) break;
        entry.messages.shift();
        admitted('durable', next.nodeId, next.message);
      }
      if (entry.messages.length === 0) {
        entry.timer.cancel();
        held.delete(origin);
      }
    };
    const admitted = (path: 'core' | 'durable', origin: string, message: WireMessage): void => {
      const counters: BusPathStats = stats[path];
      const { stale, missed } = trackers[path].admit(origin, message.epoch, message.first, message.events.length);
      counters.stale += stale;
      counters.missed += missed;
      for (let i = stale; i < message.events.length; i++) {
        const wire = message.events[i] as WireEvent;
        // Node-reserved types never travel: every node makes its own.
        if (LOCAL_ONLY.has(wire.event.type as string)) counters.invalid++;
        else inject(counters, wire.event, { nodeId: origin, module: wire.module, seq: wire.seq });
      }
    };
    const receive = (path: 'core' | 'durable', subject: string, data: Uint8Array): void => {
      const from = parse(subject);
      if (from === undefined || from.kind !== (path === 'core' ? 'ev' : 'dur')) return refuse({ garbage: 'bad-envelope', detail: 'not a subject of this bus' });
      if (from.nodeId === nodeId) return; // this node's own durable events, read back from the stream
      const message = decodeMessage(data, maxMessageBytes);
      if (isGarbage(message)) return refuse(message);
      if (from.type !== undefined && (message.events.length !== 1 || message.events[0]?.event.type !== from.type)) {
        return refuse({ garbage: 'bad-envelope', detail: 'the event type differs from the subject' });
      }
      if (path === 'durable') {
        const waiting = held.get(from.nodeId);
        if (waiting !== undefined || trackers.durable.isAhead(from.nodeId, message.epoch, message.first)) {
          if (waiting === undefined) {
            const timer = scheduler.setTimer(DURABLE_HOLD_MS, () => releaseHeld(from.nodeId, true));
            held.set(from.nodeId, { messages: [{ nodeId: from.nodeId, message }], timer });
          } else {
            waiting.messages.push({ nodeId: from.nodeId, message });
          }
          releaseHeld(from.nodeId, (held.get(from.nodeId)?.messages.length ?? 0) > DURABLE_HOLD_MAX);
          return;
        }
      }
      admitted(path, from.nodeId, message);
    };
    const coreSub = nc.subscribe(subjects.allEvents, {
      callback: (error, msg) => {
        if (error === null) receive('core', msg.subject, msg.data);
      },
    });
    const durableReceiver = new DurableReceiver(js, jsm, subjects.stream, `node-${escapeToken(nodeId)}`, subjects.allDurable, settings.durable.startFrom, (subject, data) => receive('durable', subject, data), log, scheduler);
    await durableReceiver.start();

    // ---- Outbound ---------------------------------------------------------------------------------
    // What a node sends fits what it (and, configured alike, every node) accepts, and the server.
    const sendLimit = Math.min(maxMessageBytes, nc.info?.max_payload ?? maxMessageBytes);
    const writer = port.payloadJson === undefined ? {} : { payloadJson: port.payloadJson };
    const eventSubject = memoize((type) => subjects.event(nodeId, type));
    const durableSubject = memoize((type) => subjects.durable(nodeId, type));
    const coreSender = new CoreSender(
      epochJson,
      (event) => eventSubject(event.type),
      subjects.eventBatch(nodeId),
      { get up() { return connection.up; }, publish: (subject, body) => nc.publish(subject, body), flush: () => nc.flush() },
      stats.core,
      { ...DEFAULT_CORE_SENDER, ...settings.core, maxMessageBytes: sendLimit, ...writer },
    );
    const durableSender = new DurableSender(
      epochJson,
      epoch,
      (event) => durableSubject(event.type),
      subjects.durableBatch(nodeId),
      {
        get up() { return connection.up; },
        // One request per attempt: the sender decides when to try again, so that no copy of a
        // message reaches the stream behind a newer one.
        publish: (subject, body, msgID) => js.publish(subject, body, { msgID, timeout: ackTimeoutMs }),
        notReady: streamNotReady,
        later: (ms, fn) => {
          const timer = scheduler.setTimer(ms, fn);
          return () => timer.cancel();
        },
      },
      stats.durable,
      { maxQueued, window, batchMax, maxAttempts, maxMessageBytes: sendLimit, ...writer },
    );
    const route = (event: StampedEvent): void => {
      if (LOCAL_ONLY.has(event.type)) return;
      if (durableTypes.has(event.type)) durableSender.offer(event);
      else coreSender.send(event);
    };

    // ---- Membership and connection state -----------------------------------------------------------
    const membership = new MembershipSync(nc, kv, subjects, nodeId, epoch, port, scheduler, connection, { heartbeatMs, deadlineMs }, stats, log);
    await membership.start();
    const stopLocal = port.onLocalEvent(route);

    let closed = false;
    let leaving: Promise<void> | null = null;
    const connectionListeners = new Set<(change: BusConnectionChange) => void>();
    const tell = (change: BusConnectionChange): void => {
      for (const listener of connectionListeners) listener(change);
    };
    const onStatus = (status: Status): void => {
      switch (status.type) {
        case 'disconnect':
          if (!connection.up) return;
          connection.up = false;
          stats.connection.connected = false;
          stats.connection.disconnects++;
          coreSender.reset();
          durableSender.connectionLost();
          if (!closed) log.warn({ server: status.server }, 'lost the connection to the bus; counting what cannot be sent');
          tell({ type: 'down' });
          break;
        case 'reconnect': {
          connection.up = true;
          connection.upSince = scheduler.now();
          stats.connection.connected = true;
          stats.connection.reconnects++;
          const serverId = nc.info?.server_id;
          const restarted = serverId !== connection.serverId;
          if (restarted) stats.connection.serverRestarts++;
          connection.serverId = serverId;
          log.info({ server: status.server, restarted, busUnavailable: stats.core.busUnavailable + stats.durable.busUnavailable }, 'reconnected to the bus');
          membership.resumed();
          durableReceiver.resync();
          durableSender.pump();
          // Announced once the server has the subscriptions again (a round trip after them).
          nc.flush().then(
            () => tell({ type: 'up', serverRestarted: restarted }),
            () => undefined, // down again: a 'disconnect' follows
          );
          break;
        }
        case 'error':
          log.warn({ err: status.error }, 'the bus reported an error');
          break;
        default:
          break;
      }
    };
    void (async () => {
      for await (const status of nc.status()) onStatus(status);
    })().catch((error: unknown) => log.error({ err: error }, 'bus status listener failed'));

    /** Leaves the bus; `close()` runs it once and gives every caller its promise. */
    const leave = async (): Promise<void> => {
      closed = true;
      stopLocal();
      for (const origin of [...held.keys()]) releaseHeld(origin, true); // what waited for a gap, as it is
      // One deadline for everything below: closing never hangs on a server that is away.
      let timer: TimerHandle | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = scheduler.setTimer(closeTimeoutMs, resolve);
      });
      const settle = (work: Promise<unknown>): Promise<unknown> => Promise.race([work.catch(() => undefined), deadline]);
      await settle(durableSender.whenIdle());
      durableSender.abandon();
      await membership.close(deadline);
      coreSub.unsubscribe();
      await settle(durableReceiver.close());
      if (connection.up) await settle(nc.drain());
      timer?.cancel();
      await nc.close();
      connection.up = false;
      stats.connection.connected = false;
      log.info({ core: stats.core.sent, durable: stats.durable.sent }, 'left the bus');
    };

    log.info({ epoch, durableTypes: [...durableTypes] }, 'joined the bus');
    return {
      nodeId,
      epoch,
      subjects,
      stats: () => ({
        core: { ...stats.core },
        durable: { ...stats.durable },
        garbage: stats.garbage,
        connection: { ...stats.connection },
        membership: { ...stats.membership },
      }),
      onConnection(listener) {
        connectionListeners.add(listener);
        return () => connectionListeners.delete(listener);
      },
      durableSettled: () => durableSender.whenIdle(),
      close: () => (leaving ??= leave()),
    };

  } catch (error) {
    await nc.close();
    throw error;
  }
}

/**
 * True when a JetStream publish failed because no stream took it ("no responders": a server that
 * just restarted has not loaded its streams yet): the client's `JetStreamNotEnabled`, which it does
 * not export. @internal
 */
export function streamNotReady(error: unknown): boolean {
  return error instanceof Error && error.name === 'JetStreamNotEnabled';
}

/** Creates the durable stream, or checks the one there covers the bus's subjects. */
async function ensureStream(jsm: JetStreamManager, subjects: BusSubjects, maxAgeMs: number, maxBytes: number): Promise<void> {
  try {
    const info = await jsm.streams.info(subjects.stream);
    if (!info.config.subjects.includes(subjects.allDurable)) {
      throw new ModactorError('invalid-argument', `Expected stream ${subjects.stream} to hold ${subjects.allDurable}, got ${info.config.subjects.join(', ')}`);
    }
    return;
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw error;
  }
  try {
    await jsm.streams.add({
      name: subjects.stream,
      subjects: [subjects.allDurable],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(maxAgeMs),
      max_bytes: maxBytes,
      duplicate_window: nanos(2 * 60_000),
    });
  } catch (error) {
    // Another node created it meanwhile: fine if it is there now.
    await jsm.streams.info(subjects.stream).catch(() => {
      throw error;
    });
  }
}
