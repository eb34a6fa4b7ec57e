/**
 * The bus's message format, and the trust boundary for what arrives.
 *
 * One message carries one or more events of one origin node, numbered consecutively on their
 * path (core or durable) within the origin's incarnation (`epoch`):
 *
 * ```json
 * {"e":"<epoch>","n":41,"events":[{"m":"indexer","s":1207,"type":"NewBlock","payload":{...}}]}
 * ```
 *
 * `n` numbers the first event; the receiver uses the numbers to drop duplicates and count gaps.
 * `m` is the publishing module and `s` its event's node-wide `seq` on the origin node.
 *
 * Another node is a trust boundary, like a process module: {@link decodeMessage} checks the size
 * before decoding, the nesting depth before `JSON.parse`, then the envelope's exact shape, and
 * the caller then checks each event against the catalogue. It never throws. @internal
 */
import type { StampedEvent } from './port.js';

/** Largest message accepted, in bytes (NATS's default `max_payload` is 1 MiB too). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Deepest nesting of arrays and objects in a message: the envelope's 3 levels plus a payload's 64. */
export const MAX_MESSAGE_DEPTH = 3 + 64;

/** Most events in one message. */
export const MAX_EVENTS_PER_MESSAGE = 1000;

/** Longest epoch and module name accepted. */
const MAX_NAME_CHARS = 256;

/** One event as it travels. */
export interface WireEvent {
  readonly module: string;
  readonly seq: number;
  /** `{ type, payload }`, not yet checked against the catalogue. */
  readonly event: { readonly type: unknown; readonly payload: unknown };
}

/** A decoded message. */
export interface WireMessage {
  readonly epoch: string;
  /** The number of the first event. */
  readonly first: number;
  readonly events: readonly WireEvent[];
}

/** Why a message was refused. */
export type GarbageReason = 'oversize' | 'too-deep' | 'not-json' | 'bad-envelope';

/** A refused message. */
export interface Garbage {
  readonly garbage: GarbageReason;
  readonly detail: string;
}

/** The JSON of one event inside a message. */
function encodeEvent(event: StampedEvent): string {
  return `{"m":${JSON.stringify(event.meta.source)},"s":${event.meta.seq},"type":${JSON.stringify(event.type)},"payload":${JSON.stringify(event.payload)}}`;
}

/**
 * Encodes `events[from .. from+count)` as one message. `epochJson` is the epoch already as JSON
 * (a quoted string), computed once per bus.
 */
export function encodeMessage(epochJson: string, first: number, events: readonly StampedEvent[], from = 0, count = events.length - from): string {
  let body = `{"e":${epochJson},"n":${first},"events":[`;
  for (let i = from; i < from + count; i++) {
    if (i > from) body += ',';
    body += encodeEvent(events[i] as StampedEvent);
  }
  return `${body}]}`;
}

/**
 * The nesting depth of JSON text is at most `max`, measured without parsing (brackets inside
 * strings do not count). Malformed text may pass: `JSON.parse` refuses it next.
 */
export function depthWithin(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return true;
}

const decoder = new TextDecoder();

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}

function hasOnlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  let count = 0;
  for (const key in value) {
    if (!keys.includes(key)) return false;
    count++;
  }
  return count === keys.length;
}

const ENVELOPE_KEYS = ['e', 'n', 'events'] as const;
const EVENT_KEYS = ['m', 's', 'type', 'payload'] as const;

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

const garbage = (reason: GarbageReason, detail: string): Garbage => ({ garbage: reason, detail });

/** Decodes and checks one message from the bus: a {@link WireMessage} or why it is {@link Garbage}. */
export function decodeMessage(data: Uint8Array, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): WireMessage | Garbage {
  if (data.length > maxBytes) return garbage('oversize', `${data.length} bytes, over the limit of ${maxBytes}`);
  const text = decoder.decode(data);
  if (!depthWithin(text, MAX_MESSAGE_DEPTH)) return garbage('too-deep', `nesting deeper than ${MAX_MESSAGE_DEPTH}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return garbage('not-json', `${data.length} bytes that are not JSON`);
  }
  if (!isRecord(value) || !hasOnlyKeys(value, ENVELOPE_KEYS)) return garbage('bad-envelope', 'expected an object { e, n, events }');
  const { e, n, events } = value;
  if (!isName(e)) return garbage('bad-envelope', 'expected e to be an epoch string');
  if (!isCount(n) || n === 0) return garbage('bad-envelope', 'expected n to be a positive integer');
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_MESSAGE) {
    return garbage('bad-envelope', `expected events to be an array of 1 to ${MAX_EVENTS_PER_MESSAGE} events`);
  }
  if (!Number.isSafeInteger(n + events.length)) return garbage('bad-envelope', 'expected n + events.length to be a safe integer');
  const out: WireEvent[] = new Array<WireEvent>(events.length);
  for (let i = 0; i < events.length; i++) {
    const item: unknown = events[i];
    if (!isRecord(item) || !hasOnlyKeys(item, EVENT_KEYS) || !isName(item['m']) || !isCount(item['s'])) {
      return garbage('bad-envelope', `expected events[${i}] to be { m: module, s: seq, type, payload }`);
    }
    out[i] = { module: item['m'], seq: item['s'], event: { type: item['type'], payload: item['payload'] } };
  }
  return { epoch: e, first: n, events: out };
}

/** True when `result` is a refused message. */
export function isGarbage(result: WireMessage | Garbage): result is Garbage {
  return 'garbage' in result;
}
