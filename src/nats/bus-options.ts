/**
 * The settings of a node's bus (`connectBus` / `joinBus`), checked with the validation vocabulary:
 * every field is named in the error when it is wrong, an unknown field (a typo) is refused, and
 * the defaults are filled in once, here.
 */
import { arrayOf, boolean, describeReceived, issue, nonEmptyString, object, oneOf, optional, parse, positiveInteger, refine, string, type Check } from '../kernel/checks.js';
import type { ValidationIssue } from '../kernel/errors.js';
import { DEFAULT_CORE_SENDER } from './core-sender.js';
import { DEFAULT_DURABLE_SENDER } from './durable-sender.js';
import type { DurableStart } from './durable-receiver.js';
import { DEFAULT_PREFIX, PREFIX_PATTERN } from './subject.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './wire.js';

/** TLS options of the connection: files in PEM format. `{}` requires TLS with the system's CAs. */
export interface BusTlsOptions {
  /** The CA certificate(s) that signed the server's certificate. */
  readonly caFile?: string;
  /** A client certificate and its key, when the server verifies clients. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** TLS before the NATS handshake (a server with `handshake_first`). Default false. */
  readonly handshakeFirst?: boolean;
}

/** What a bus is configured with: plain data (a JSON file can hold it). */
export interface BusSettings {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`; the client fails over between several. */
  readonly servers: string | readonly string[];
  /** Event types that travel on JetStream (durable, replayed to a node that restarts). Default none. */
  readonly durableTypes?: readonly string[];
  /** Subject prefix, stream and bucket names: one token of `[A-Za-z0-9_-]`. Default `modactor`. */
  readonly prefix?: string;
  /** User and password, when the server requires them. */
  readonly user?: string;
  readonly pass?: string;
  /** A token, when the server requires one (not with `user`). */
  readonly token?: string;
  readonly tls?: BusTlsOptions;
  /** Heartbeat period. Default 1000 ms. */
  readonly heartbeatMs?: number;
  /** Silence after which a node is declared gone. Default 5 heartbeats. */
  readonly deadlineMs?: number;
  /** Largest message accepted from the bus (and sent). Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Durable path limits. */
  readonly durable?: {
    /** Events queued at most. Default 10,000. */
    readonly maxQueued?: number;
    /** Messages awaiting the stream's acknowledgement at most. Default 32. */
    readonly window?: number;
    /** Events per message at most (1 to 1000). Default 100. */
    readonly batchMax?: number;
    /** Attempts per message before its events are counted unconfirmed. Default 5. */
    readonly maxAttempts?: number;
    /** Time to wait for the stream's acknowledgement. Default 5000 ms. */
    readonly ackTimeoutMs?: number;
    /** Where a node's consumer starts the first time it joins: `new` (default) or `all` stored events. */
    readonly startFrom?: DurableStart;
    /** Stream retention: oldest event kept. Default 24 h. */
    readonly maxAgeMs?: number;
    /** Stream retention: bytes kept. Default 1 GiB. */
    readonly maxBytes?: number;
  };
  /** Core path limits. */
  readonly core?: {
    /** Bytes written and not yet confirmed by the server, at most. Default 8 MiB. */
    readonly maxPendingBytes?: number;
    /**
     * Events per message at most (1 to 1000): the events of one turn of the event loop travel
     * together. 1 sends every event on its own, on its type's subject. Default 100.
     */
    readonly batchMax?: number;
  };
  /** Connection tuning. */
  readonly connection?: {
    /** Pause between reconnection attempts. Default 1000 ms. */
    readonly reconnectTimeWaitMs?: number;
    /** Client ping period; a connection missing `maxPingOut` pongs is dropped. Default 10,000 ms. */
    readonly pingIntervalMs?: number;
    /** Default 2. */
    readonly maxPingOut?: number;
  };
  /** How long `close()` waits for durable events and membership to settle. Default 5000 ms. */
  readonly closeTimeoutMs?: number;
}

/** {@link BusSettings} with every default filled in. */
export interface ResolvedBusSettings {
  readonly servers: readonly string[];
  readonly durableTypes: readonly string[];
  readonly prefix: string;
  readonly auth: { readonly user: string; readonly pass: string } | { readonly token: string } | null;
  readonly tls: BusTlsOptions | undefined;
  readonly heartbeatMs: number;
  readonly deadlineMs: number;
  readonly maxMessageBytes: number;
  readonly durable: {
    readonly maxQueued: number;
    readonly window: number;
    readonly batchMax: number;
    readonly maxAttempts: number;
    readonly ackTimeoutMs: number;
    readonly startFrom: DurableStart;
    readonly maxAgeMs: number;
    readonly maxBytes: number;
  };
  readonly core: { readonly maxPendingBytes: number; readonly batchMax: number };
  readonly connection: { readonly reconnectTimeWaitMs: number; readonly pingIntervalMs: number; readonly maxPingOut: number };
  readonly closeTimeoutMs: number;
}

/** Most events in one durable message. */
export const MAX_BATCH = 1000;

/** One server URL, or a list of 1 to 64. */
const servers: Check<readonly string[]> = Object.assign(
  (value: unknown, path: string, issues: ValidationIssue[]): readonly string[] => {
    if (typeof value === 'string') {
      if (value.length === 0) issues.push(issue(path, 'a server URL or a list of them', describeReceived(value)));
      return Object.freeze([value]);
    }
    const before = issues.length;
    const list = serverList(value, path, issues);
    if (issues.length === before && list.length === 0) issues.push(issue(path, 'a server URL or a list of them', 'an empty array'));
    return list;
  },
  { expected: 'a server URL or a list of them' },
);
const serverList = arrayOf(nonEmptyString, { maxLength: 64 });

/** Events per message: 1 to {@link MAX_BATCH}. */
const batchMax = refine(positiveInteger, (n) => (n <= MAX_BATCH ? undefined : { expected: `at most ${MAX_BATCH} events`, got: n }));

const prefix = refine(string, (p) => (PREFIX_PATTERN.test(p) ? undefined : { expected: 'a bus prefix of 1 to 32 characters [A-Za-z0-9_-]', got: p }));

const settingsCheck = refine(
  object({
    servers,
    durableTypes: optional(arrayOf(nonEmptyString, { maxLength: 1000, unique: true })),
    prefix: optional(prefix),
    user: optional(nonEmptyString),
    pass: optional(string),
    token: optional(nonEmptyString),
    tls: optional(object({ caFile: optional(nonEmptyString), certFile: optional(nonEmptyString), keyFile: optional(nonEmptyString), handshakeFirst: optional(boolean) })),
    heartbeatMs: optional(positiveInteger),
    deadlineMs: optional(positiveInteger),
    maxMessageBytes: optional(positiveInteger),
    durable: optional(
      object({
        maxQueued: optional(positiveInteger),
        window: optional(positiveInteger),
        batchMax: optional(batchMax),
        maxAttempts: optional(positiveInteger),
        ackTimeoutMs: optional(positiveInteger),
        startFrom: optional(oneOf('new', 'all')),
        maxAgeMs: optional(positiveInteger),
        maxBytes: optional(positiveInteger),
      }),
    ),
    core: optional(object({ maxPendingBytes: optional(positiveInteger), batchMax: optional(batchMax) })),
    connection: optional(object({ reconnectTimeWaitMs: optional(positiveInteger), pingIntervalMs: optional(positiveInteger), maxPingOut: optional(positiveInteger) })),
    closeTimeoutMs: optional(positiveInteger),
  }),
  (s) => {
    const found = [];
    const heartbeatMs = s.heartbeatMs ?? 1000;
    if (s.deadlineMs !== undefined && s.deadlineMs <= heartbeatMs) found.push({ field: 'deadlineMs', expected: `more than heartbeatMs (${heartbeatMs})`, got: s.deadlineMs });
    if (s.pass !== undefined && s.user === undefined) found.push({ field: 'pass', expected: 'a password with a user', got: '(a password)' });
    if (s.user !== undefined && s.pass === undefined) found.push({ field: 'user', expected: 'a user with a password (pass)', got: s.user });
    if (s.token !== undefined && s.user !== undefined) found.push({ field: 'token', expected: 'a token or a user, not both', got: '(a token)' });
    return found.length === 0 ? undefined : found;
  },
);

/**
 * Checks bus settings and fills in the defaults; throws `invalid-argument` naming every bad field.
 * Event types are checked against the catalogue by the caller (it knows the catalogue).
 */
export function resolveBusSettings(raw: unknown): ResolvedBusSettings {
  const s = parse(settingsCheck, raw, { code: 'invalid-argument', what: 'bus options' });
  const heartbeatMs = s.heartbeatMs ?? 1000;
  const d = s.durable ?? {};
  return {
    servers: s.servers,
    durableTypes: s.durableTypes ?? [],
    prefix: s.prefix ?? DEFAULT_PREFIX,
    auth: s.user !== undefined ? { user: s.user, pass: s.pass ?? '' } : s.token !== undefined ? { token: s.token } : null,
    tls: s.tls,
    heartbeatMs,
    deadlineMs: s.deadlineMs ?? heartbeatMs * 5,
    maxMessageBytes: s.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    durable: {
      maxQueued: d.maxQueued ?? DEFAULT_DURABLE_SENDER.maxQueued,
      window: d.window ?? DEFAULT_DURABLE_SENDER.window,
      batchMax: d.batchMax ?? DEFAULT_DURABLE_SENDER.batchMax,
      maxAttempts: d.maxAttempts ?? DEFAULT_DURABLE_SENDER.maxAttempts,
      ackTimeoutMs: d.ackTimeoutMs ?? 5000,
      startFrom: d.startFrom ?? 'new',
      maxAgeMs: d.maxAgeMs ?? 24 * 3600_000,
      maxBytes: d.maxBytes ?? 1024 ** 3,
    },
    core: { maxPendingBytes: s.core?.maxPendingBytes ?? DEFAULT_CORE_SENDER.maxPendingBytes, batchMax: s.core?.batchMax ?? DEFAULT_CORE_SENDER.batchMax },
    connection: {
      reconnectTimeWaitMs: s.connection?.reconnectTimeWaitMs ?? 1000,
      pingIntervalMs: s.connection?.pingIntervalMs ?? 10_000,
      maxPingOut: s.connection?.maxPingOut ?? 2,
    },
    closeTimeoutMs: s.closeTimeoutMs ?? 5000,
  };
}
