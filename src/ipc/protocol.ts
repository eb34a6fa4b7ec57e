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
 * reports, and its log lines. `stop` asks the child to finish and exit.
 *
 * Every frame from a child is measured (size, then nesting depth) before it is parsed.
 */
import { describeValue } from '../kernel/errors.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { PublishReceipt } from '../node/delivery-stats.js';
import { scanJsonDepth } from './json-depth.js';
import { MAX_JSON_DEPTH } from './json-safe.js';

/**
 * The protocol version this build speaks. A child speaking another one is rejected at handshake.
 * Version 2 added the `log` message and the error details of `fail` and `fatal`.
 */
export const PROTOCOL_VERSION = 2;

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

/** Largest stack trace a child may send in `fail` / `fatal`. */
export const MAX_STACK_CHARS = 16_384;

/**
 * Deepest nesting of arrays and objects in a frame from a child: an event as deep as the node lets
 * cross to a child ({@link MAX_JSON_DEPTH}), inside the frame and its `event` field. Checked before
 * parsing.
 */
export const MAX_FRAME_DEPTH = MAX_JSON_DEPTH + 2;

/** Largest `log` frame, in bytes: the SDK truncates longer records before sending them. */
export const MAX_LOG_BYTES = 16 * 1024;

/** pino's numeric levels, the only ones a `log` record may carry. */
export const LOG_LEVELS: Readonly<Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

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
  | ({ readonly t: 'fail' } & ErrorDetails)
  /** The module cannot go on (setup failed, uncaught exception). */
  | ({ readonly t: 'fatal' } & ErrorDetails)
  | { readonly t: 'publish'; readonly id: number; readonly event: unknown }
  | { readonly t: 'subscribe'; readonly types: readonly string[] }
  | { readonly t: 'unsubscribe'; readonly types: readonly string[] }
  | { readonly t: 'health'; readonly health: ModuleHealth }
  | { readonly t: 'heartbeat' }
  /** One line of the child's pino logger: `level` (pino's number), `msg` and the line's fields. */
  | { readonly t: 'log'; readonly record: LogRecord };

/** What a child says about an error: its message, and optionally its class name and stack. */
export interface ErrorDetails {
  readonly error: string;
  readonly name?: string;
  readonly stack?: string;
}

/** A log line of a child, as its pino logger wrote it (without `time`, `pid`, `hostname`). */
export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** The type tags of {@link ChildMessage}. */
export type ChildMessageType = ChildMessage['t'];

/** Why a message from a child was refused at the boundary. */
export interface ProtocolViolation {
  readonly violation: string;
  /**
   * Where it was refused: `frame` before parsing (size, depth: the text was never parsed), `json`
   * (not JSON), `shape` (parsed, but not a message of the protocol).
   */
  readonly stage: 'frame' | 'json' | 'shape';
}

const HEALTH: readonly string[] = ['healthy', 'degraded', 'unhealthy'];

/** Fields allowed per message type (beyond `t`), and whether each is required. */
const FIELDS: Readonly<Record<ChildMessageType, readonly string[]>> = {
  hello: ['protocol', 'name', 'version'],
  ready: [],
  ack: ['n'],
  fail: ['error', 'name', 'stack'],
  fatal: ['error', 'name', 'stack'],
  publish: ['id', 'event'],
  subscribe: ['types'],
  unsubscribe: ['types'],
  health: ['health'],
  heartbeat: [],
  log: ['record'],
};

const violation = (text: string, stage: ProtocolViolation['stage'] = 'shape'): ProtocolViolation => ({ violation: text, stage });

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const shortString = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;


/**
 * Measures one frame from a child before anything parses it: at most `maxBytes` bytes of UTF-8 and
 * at most `maxDepth` levels of nesting. Returns the violation, or null when the frame may be parsed.
 * Linear in the frame's length, and stops early on a deep one.
 */
export function checkFrame(raw: string, maxBytes: number, maxDepth = MAX_FRAME_DEPTH): ProtocolViolation | null {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: skip the exact count when it cannot matter.
  if (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes) {
    return violation(`message of ${Buffer.byteLength(raw, 'utf8')} bytes exceeds the limit of ${maxBytes}`, 'frame');
  }
  if (scanJsonDepth(raw, maxDepth).exceeded) return violation(`message nested more than ${maxDepth} levels deep`, 'frame');
  return null;
}

/**
 * Parses and validates one message from a child: size and depth first ({@link checkFrame}, before
 * parsing), then JSON, then shape (a known type, exactly its fields, each of the right kind).
 * Never throws. The protocol state (which messages are allowed when) is the session's business.
 */
export function parseChildMessage(raw: string, maxBytes: number, maxDepth = MAX_FRAME_DEPTH): ChildMessage | ProtocolViolation {
  // The SDK writes `t` first, so its log lines get their smaller limit before parsing.
  const logFrame = raw.startsWith('{"t":"log"');
  const refused = checkFrame(raw, logFrame ? Math.min(maxBytes, MAX_LOG_BYTES) : maxBytes, maxDepth);
  if (refused !== null) return refused;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return violation(`malformed message: not JSON (${describeValue(raw.slice(0, 40))})`, 'json');
  }
  const message = validateChildMessage(value);
  if (!logFrame && !isViolation(message) && message.t === 'log') return checkFrame(raw, MAX_LOG_BYTES, maxDepth) ?? message;
  return message;
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
      if (value['name'] !== undefined && !shortString(value['name'], 128)) return bad('name', 'an error class name');
      if (value['stack'] !== undefined && (typeof value['stack'] !== 'string' || value['stack'].length > MAX_STACK_CHARS)) {
        return bad('stack', `a string of at most ${MAX_STACK_CHARS} characters`);
      }
      break;
    case 'log': {
      const record = value['record'];
      if (!isRecord(record) || typeof record['level'] !== 'number' || LOG_LEVELS[record['level']] === undefined) {
        return bad('record', 'a pino record with a level of 10, 20, 30, 40, 50 or 60');
      }
      if (record['msg'] !== undefined && typeof record['msg'] !== 'string') return violation(`log.record.msg: expected a string, got ${describeValue(record['msg'])}`);
      break;
    }
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
