/**
 * The bus's message format, and the trust boundary for what arrives.
 *
 * One message carries one or more events of one origin node, numbered consecutively on their
 * path (core or durable) within the origin's incarnation (`epoch`). One event, flat (the usual
 * message, kept small); several, as a batch:
 *
 * ```json
 * {"e":"<epoch>","n":41,"m":"indexer","s":1207,"type":"NewBlock","payload":{...}}
 * {"e":"<epoch>","n":42,"events":[{"m":"indexer","s":1208,"type":"NewBlock","payload":{...}}, ...]}
 * ```
 *
 * `n` numbers the (first) event; the receiver uses the numbers to drop duplicates and count gaps.
 * `m` is the publishing module and `s` its event's node-wide `seq` on the origin node.
 *
 * Another node is a trust boundary, like a process module: {@link decodeMessage} checks the size
 * before decoding, the nesting depth before `JSON.parse`, then the envelope's exact shape, and
 * the caller then checks each event against the catalogue. It never throws. @internal
 */
import { stringifyPayload, type PayloadJson } from '../kernel/json-writer.js';
import type { StampedEvent } from './port.js';
import { memoize } from './subject.js';

/** Largest message accepted, in bytes (NATS's default `max_payload` is 1 MiB too). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Deepest nesting of arrays and objects in a message: a batch's 3 levels plus a payload's 64. */
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

/** Module names and event types as JSON strings: a handful that repeat, quoted once each. */
const quoted = memoize((name) => JSON.stringify(name));

/**
 * One event's fields as JSON, without braces: `"m":…,"s":…,"type":…,"payload":…`; the payload by
 * `payloadJson` (a node's accepted events: its catalogue checks' writers), `JSON.stringify` by default.
 */
export function eventFields(event: StampedEvent, payloadJson: PayloadJson = stringifyPayload): string {
  return `"m":${quoted(event.meta.source)},"s":${event.meta.seq},"type":${quoted(event.type)},"payload":${payloadJson(event.type, event.payload) as string}`;
}

/** One message packed by {@link packMessage}. */
export interface Packed {
  readonly body: string;
  /** Events in it (taken from the front of what was given). */
  readonly count: number;
}

/**
 * Packs the events `events[from ..]` into one message numbered `first`: up to `max` of them, fewer
 * when they would reach `maxChars` characters (the first always goes in: the caller checks a lone
 * event against the message limit). Flat for one event, a batch for several.
 */
export function packMessage(
  epochJson: string,
  first: number,
  events: readonly StampedEvent[],
  from: number,
  max: number,
  maxChars: number,
  payloadJson: PayloadJson = stringifyPayload,
): Packed {
  const limit = Math.min(events.length - from, max);
  const firstFields = eventFields(events[from] as StampedEvent, payloadJson);
  let braced = `{${firstFields}}`;
  let count = 1;
  while (count < limit) {
    const next = `{${eventFields(events[from + count] as StampedEvent, payloadJson)}}`;
    if (braced.length + next.length >= maxChars) break; // it starts the next message
    braced += `,${next}`;
    count++;
  }
  return { body: count === 1 ? singleMessage(epochJson, first, firstFields) : batchMessage(epochJson, first, braced), count };
}

/**
 * A message of one event ({@link eventFields}) numbered `n`. `epochJson` is the epoch as JSON (a
 * quoted string), computed once per bus.
 */
export function singleMessage(epochJson: string, n: number, fields: string): string {
  return `{"e":${epochJson},"n":${n},${fields}}`;
}

/** A message of several events, given as `{fields},{fields},…`, the first numbered `first`. */
export function batchMessage(epochJson: string, first: number, bracedFields: string): string {
  return `{"e":${epochJson},"n":${first},"events":[${bracedFields}]}`;
}

/** One message of `events` (flat when there is one), numbered from `first`. */
export function encodeMessage(epochJson: string, first: number, events: readonly StampedEvent[]): string {
  if (events.length === 1) return singleMessage(epochJson, first, eventFields(events[0] as StampedEvent));
  return batchMessage(epochJson, first, events.map((e) => `{${eventFields(e)}}`).join(','));
}

/** True when `text` takes more than `max` bytes of UTF-8 (counted only when it could). */
export function utf8Over(text: string, max: number): boolean {
  return text.length * 3 > max && Buffer.byteLength(text, 'utf8') > max;
}

/**
 * The nesting depth of JSON text is at most `max`, measured without parsing (brackets inside
 * strings do not count). Malformed text may pass: `JSON.parse` refuses it next. Cheap for the
 * usual message: when the text holds no more than `max` opening brackets at all, no scan is needed.
 */
export function depthWithin(text: string, max: number): boolean {
  let openings = 0;
  for (let i = text.indexOf('{'); i >= 0 && openings <= max; i = text.indexOf('{', i + 1)) openings++;
  for (let i = text.indexOf('['); i >= 0 && openings <= max; i = text.indexOf('[', i + 1)) openings++;
  if (openings <= max) return true;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: one not preceded by an odd number of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return true;
        let slashes = 0;
        while (text.charCodeAt(i - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
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

const BATCH_KEYS = ['e', 'n', 'events'] as const;
const SINGLE_KEYS = ['e', 'n', 'm', 's', 'type', 'payload'] as const;
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
  if (!isRecord(value)) return garbage('bad-envelope', 'expected an object { e, n, ... }');
  const { e, n } = value;
  if (!isName(e)) return garbage('bad-envelope', 'expected e to be an epoch string');
  if (!isCount(n) || n === 0) return garbage('bad-envelope', 'expected n to be a positive integer');
  if (!Object.hasOwn(value, 'events')) {
    if (!hasOnlyKeys(value, SINGLE_KEYS) || !isName(value['m']) || !isCount(value['s'])) {
      return garbage('bad-envelope', 'expected an object { e, n, m: module, s: seq, type, payload }');
    }
    return { epoch: e, first: n, events: [{ module: value['m'], seq: value['s'], event: { type: value['type'], payload: value['payload'] } }] };
  }
  const events = value['events'];
  if (!hasOnlyKeys(value, BATCH_KEYS)) return garbage('bad-envelope', 'expected an object { e, n, events }');
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
