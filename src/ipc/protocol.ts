/**
 * The wire protocol between a node (the host) and a process or worker module (the child).
 *
 * Every message is a JSON object with a `t` (type) field. Over a child process, each message is
 * one line of JSON (NDJSON) on a private duplex pipe (the child's fd 3); over a worker thread, the
 * host posts message objects and the child posts JSON strings. Either way the host receives a
 * string it can measure before parsing: that is the trust boundary, {@link parseChildMessage}.
 *
 * A session: the child says `hello` (protocol version, name, version); the host answers `welcome`
 * (module id, instance id, credit window, heartbeat interval, limits) or `reject`; the child runs
 * its setup and says `ready`; from then on the host sends `events` in batches, never more than the
 * credit window un-acknowledged, and the child answers `ack`s, `publish`es, heartbeats and health
 * reports. `stop` asks the child to finish and exit.
 */
import { describeValue } from '../kernel/errors.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { PublishReceipt } from '../node/delivery-stats.js';

/** The protocol version this build speaks. A child speaking another one is rejected at handshake. */
export const PROTOCOL_VERSION = 1;

/** The environment variable naming the child's channel fd (set by the host for process modules). */
export const CHANNEL_FD_ENV = 'MODACTOR_CHANNEL_FD';

/** The file descriptor of a process module's channel. */
export const CHANNEL_FD = 3;

/** Default largest message a child may send, in bytes of UTF-8 (1 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Largest number of event types in one subscribe / unsubscribe message. */
export const MAX_TYPES_PER_MESSAGE = 256;

/** Largest error text a child may send in `fail` / `fatal`. */
export const MAX_ERROR_CHARS = 4096;

// ---- Host -> child ------------------------------------------------------------------------------

/** The host's answer to `hello`. */
export interface WelcomeMessage {
  readonly t: 'welcome';
  readonly protocol: number;
  /** The module's id on the node: its name, stable across restarts. */
  readonly moduleId: string;
  /** This incarnation's id: a restart gets a new one. */
  readonly instanceId: string;
  readonly name: string;
  readonly version: string;
  /** At most this many events are un-acknowledged in the child at any time. */
  readonly credits: number;
  /** The child sends a heartbeat at least this often, in ms. */
  readonly heartbeatMs: number;
  /** Largest message the child may send. */
  readonly maxMessageBytes: number;
  /** The pino level for the child's logger (the host's level). */
  readonly logLevel: string;
}

/** Everything the host sends. */
export type HostMessage =
  | WelcomeMessage
  | { readonly t: 'reject'; readonly reason: string }
  | { readonly t: 'events'; readonly events: readonly unknown[] }
  | { readonly t: 'receipt'; readonly id: number; readonly receipt: PublishReceipt }
  | { readonly t: 'refused'; readonly id: number; readonly code: string; readonly message: string }
  | { readonly t: 'error'; readonly code: string; readonly message: string }
  | { readonly t: 'stop' };

// ---- Child -> host ------------------------------------------------------------------------------

/** Everything a child may send. Any other shape is a protocol violation. */
export type ChildMessage =
  | { readonly t: 'hello'; readonly protocol: number; readonly name: string; readonly version: string }
  | { readonly t: 'ready' }
  /** `n` more events were handled, in order. */
  | { readonly t: 'ack'; readonly n: number }
  /** The handler failed on the next un-acknowledged event; the module crashes. */
  | { readonly t: 'fail'; readonly error: string }
  /** The module cannot go on (setup failed, uncaught exception). */
  | { readonly t: 'fatal'; readonly error: string }
  | { readonly t: 'publish'; readonly id: number; readonly event: unknown }
  | { readonly t: 'subscribe'; readonly types: readonly string[] }
  | { readonly t: 'unsubscribe'; readonly types: readonly string[] }
  | { readonly t: 'health'; readonly health: ModuleHealth }
  | { readonly t: 'heartbeat' };

/** The type tags of {@link ChildMessage}. */
export type ChildMessageType = ChildMessage['t'];

/** Why a message from a child was refused at the boundary. */
export interface ProtocolViolation {
  readonly violation: string;
}

const HEALTH: readonly string[] = ['healthy', 'degraded', 'unhealthy'];

/** Fields allowed per message type (beyond `t`), and whether each is required. */
const FIELDS: Readonly<Record<ChildMessageType, readonly string[]>> = {
  hello: ['protocol', 'name', 'version'],
  ready: [],
  ack: ['n'],
  fail: ['error'],
  fatal: ['error'],
  publish: ['id', 'event'],
  subscribe: ['types'],
  unsubscribe: ['types'],
  health: ['health'],
  heartbeat: [],
};

const violation = (text: string): ProtocolViolation => ({ violation: text });

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const shortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;


/**
 * Parses and validates one message from a child: size first (before parsing), then JSON, then
 * shape (a known type, exactly its fields, each of the right kind). Never throws. The protocol
 * state (which messages are allowed when) is the session's business.
 */
export function parseChildMessage(raw: string, maxBytes: number): ChildMessage | ProtocolViolation {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: skip the exact count when it cannot matter.
  if (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes) {
    return violation(`message of ${Buffer.byteLength(raw, 'utf8')} bytes exceeds the limit of ${maxBytes}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return violation(`malformed message: not JSON (${describeValue(raw.slice(0, 40))})`);
  }
  return validateChildMessage(value);
}

/** Validates the shape of a parsed message from a child. */
export function validateChildMessage(value: unknown): ChildMessage | ProtocolViolation {
  if (!isRecord(value)) return violation(`malformed message: expected an object { t, ... }, got ${describeValue(value)}`);
  const t = value['t'];
  if (typeof t !== 'string' || !Object.hasOwn(FIELDS, t)) return violation(`unknown message type ${describeValue(t)}`);
  const type = t as ChildMessageType;
  const allowed = FIELDS[type];
  for (const key of Object.keys(value)) {
    if (key !== 't' && !allowed.includes(key)) return violation(`unexpected field ${describeValue(key.slice(0, 40))} in ${type}`);
  }
  const bad = (field: string, expected: string): ProtocolViolation =>
    violation(`${type}.${field}: expected ${expected}, got ${describeValue(value[field])}`);
  switch (type) {
    case 'hello':
      if (!isCount(value['protocol'])) return bad('protocol', 'a non-negative integer');
      if (!shortString(value['name'], 64)) return bad('name', 'a module name');
      if (!shortString(value['version'], 64)) return bad('version', 'a version string');
      break;
    case 'ack':
      if (!isCount(value['n']) || value['n'] === 0) return bad('n', 'a positive integer');
      break;
    case 'fail':
    case 'fatal':
      if (typeof value['error'] !== 'string' || value['error'].length > MAX_ERROR_CHARS) {
        return bad('error', `a string of at most ${MAX_ERROR_CHARS} characters`);
      }
      break;
    case 'publish':
      if (!isCount(value['id'])) return bad('id', 'a non-negative integer');
      if (!Object.hasOwn(value, 'event')) return bad('event', 'an event');
      break;
    case 'subscribe':
    case 'unsubscribe': {
      const types = value['types'];
      if (!Array.isArray(types) || types.length > MAX_TYPES_PER_MESSAGE || !types.every((x) => shortString(x, 128))) {
        return bad('types', `an array of at most ${MAX_TYPES_PER_MESSAGE} event type names`);
      }
      break;
    }
    case 'health':
      if (!HEALTH.includes(value['health'] as string)) return bad('health', 'healthy, degraded or unhealthy');
      break;
    case 'ready':
    case 'heartbeat':
      break;
  }
  return value as unknown as ChildMessage;
}

/** True when `result` is a violation rather than a message. */
export function isViolation(result: ChildMessage | ProtocolViolation): result is ProtocolViolation {
  return 'violation' in result;
}
