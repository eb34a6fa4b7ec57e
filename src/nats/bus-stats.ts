/**
 * The bus's counters. Sending, per path, every event offered to the bus ends in exactly one of
 * `sent`, `busUnavailable`, `overflow`, `tooLarge`, `unconfirmed`, or is still `pending`:
 * `offered === sent + busUnavailable + overflow + tooLarge + unconfirmed + pending`
 * ({@link sendingBalanced}). Receiving, every
 * message is refused as `garbage` or opened, and every event numbered between the first and the
 * last one delivered from an origin incarnation is `received`, `refused`, `invalid` or `missed`
 * (copies of events already past are `stale`).
 */

/** Counters of one delivery path (core NATS or JetStream). */
export interface BusPathStats {
  // ---- sending ----
  /** Local events given to this path. */
  offered: number;
  /** Core: written to the connection. Durable: stored, the stream acknowledged them. */
  sent: number;
  /** Not sent: no connection to the server (or, durable, the queue was full while disconnected). */
  busUnavailable: number;
  /** Not sent: the bounded buffer was full while connected (the bus is slower than the publisher). */
  overflow: number;
  /** Not sent: the event alone is larger than a bus message may be. */
  tooLarge: number;
  /** Durable: given up after retries without an acknowledgement; they may or may not be stored. */
  unconfirmed: number;
  /** Durable: queued or awaiting an acknowledgement now. Core: gathered this turn, not yet written. */
  pending: number;
  /** Messages sent (a durable batch is one message). */
  messages: number;
  /** Durable: publish attempts that failed and were retried. */
  retries: number;
  // ---- receiving ----
  /** Remote events offered to local subscribers. */
  received: number;
  /** Remote events the node refused. */
  refused: number;
  /** Remote events that are not valid events of the catalogue, or of a type that stays local. */
  invalid: number;
  /** Copies of events already delivered or skipped (redeliveries, duplicates, late retries): dropped. */
  stale: number;
  /** Events that never arrived: gaps in an origin's numbering. */
  missed: number;
}

/** Everything the bus counts. */
export interface BusStats {
  readonly core: BusPathStats;
  readonly durable: BusPathStats;
  /** Messages refused at the boundary: oversize, too deep, not JSON, malformed, wrong subject. */
  garbage: number;
  readonly connection: {
    connected: boolean;
    disconnects: number;
    reconnects: number;
    /** Reconnections that found another server instance (the server restarted). */
    serverRestarts: number;
  };
  readonly membership: {
    /** Remote modules announced now. */
    remoteModules: number;
    /** Remote nodes alive now. */
    nodesAlive: number;
    /** Remote incarnations seen joining. */
    nodesJoined: number;
    /** Remote nodes declared gone (deadline passed or goodbye). */
    nodesGone: number;
    /** Heartbeats or membership entries refused at the boundary. */
    garbage: number;
    /** Membership writes that failed (retried). */
    writeFailures: number;
  };
}

export function emptyPathStats(): BusPathStats {
  return {
    offered: 0,
    sent: 0,
    busUnavailable: 0,
    overflow: 0,
    tooLarge: 0,
    unconfirmed: 0,
    pending: 0,
    messages: 0,
    retries: 0,
    received: 0,
    refused: 0,
    invalid: 0,
    stale: 0,
    missed: 0,
  };
}

export function emptyBusStats(): BusStats {
  return {
    core: emptyPathStats(),
    durable: emptyPathStats(),
    garbage: 0,
    connection: { connected: false, disconnects: 0, reconnects: 0, serverRestarts: 0 },
    membership: { remoteModules: 0, nodesAlive: 0, nodesJoined: 0, nodesGone: 0, garbage: 0, writeFailures: 0 },
  };
}

/** The sending side's accounting law of one path: every offered event has exactly one outcome. */
export function sendingBalanced(s: BusPathStats): boolean {
  return s.offered === s.sent + s.busUnavailable + s.overflow + s.tooLarge + s.unconfirmed + s.pending;
}
