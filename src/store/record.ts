/**
 * The on-disk framing of the store: one line per record, `<crc32 as 8 hex digits> <json>\n`, where
 * the checksum covers the JSON bytes. JSON never holds a raw newline, so a line is a record; a line
 * without its newline was cut by a crash. Segments start with a header line in the same framing,
 * and the state file is one such line.
 *
 * An event record's JSON is the event itself, its metadata first, so that a scan can read the seq
 * and time without parsing the rest:
 * `{"meta":{"seq":42,"time":1718000000000,"source":"node"},"type":"NewBlock","payload":{...}}`.
 */
import { crc32 } from 'node:zlib';
import { issue } from '../kernel/checks.js';
import { quoteString, splitTime, stringifyPayload, timeJson, type PayloadJson } from '../kernel/json-writer.js';
import { crc32Of } from './crc32.js';
import { ModactorError, describeValue } from '../kernel/errors.js';

/** The format version written in every segment header. A reader refuses any other. */
export const FORMAT_VERSION = 1;

/** The `format` field of a segment header. */
export const SEGMENT_FORMAT = 'modactor-event-log';

/** An event as the log keeps it: type, payload and the metadata the node stamped. */
export interface LoggedEvent {
  readonly type: string;
  readonly payload: unknown;
  readonly meta: {
    /** Node-wide, strictly increasing. */
    readonly seq: number;
    /** The publishing module's name, or `node`. */
    readonly source: string;
    /** Publish time on the node's scheduler clock, in ms. */
    readonly time: number;
  };
}

/** The first line of a segment. */
export interface SegmentHeader {
  readonly format: typeof SEGMENT_FORMAT;
  readonly version: number;
  /** The seq of the segment's first record (also in its file name). */
  readonly firstSeq: number;
  /** The last seq written to the log before this segment: seqs in (prevSeq, firstSeq) never existed. */
  readonly prevSeq: number;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** Eight hex digits and a space. */
const PREFIX = 9;

/** Frames a JSON text as one line: checksum, space, JSON, newline. */
export function frame(json: string): string {
  return `${(crc32(json) >>> 0).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Why a line is not a valid record. */
export type LineFault = 'framing' | 'checksum' | 'json' | 'shape';

/**
 * The JSON text of a framed line `bytes[start, end)` (without its newline) when its checksum
 * holds, else the fault.
 */
export function unframe(bytes: Uint8Array, start: number, end: number): { json: Uint8Array } | { fault: LineFault } {
  if (end - start < PREFIX + 2 || bytes[start + PREFIX - 1] !== SPACE) return { fault: 'framing' };
  let expected = 0;
  for (let i = start; i < start + 8; i++) {
    const digit = hexValue(bytes[i] as number);
    if (digit < 0) return { fault: 'framing' };
    expected = expected * 16 + digit;
  }
  const json = bytes.subarray(start + PREFIX, end);
  return (crc32(json) >>> 0) === expected ? { json } : { fault: 'checksum' };
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The UTF-8 text of `bytes`. */
function text(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
}

/** Parses the JSON of a checked line; undefined when it is not JSON. */
export function parseJson(json: Uint8Array): unknown {
  try {
    return JSON.parse(text(json)) as unknown;
  } catch {
    return undefined;
  }
}

function refuse(field: string, expected: string, got: unknown): never {
  throw new ModactorError('invalid-argument', `Expected ${field} to be ${expected}, got ${describeValue(got)}`, {
    issues: [issue(field, expected, describeValue(got))],
  });
}

/**
 * Checks that the log can keep `event` and answers its payload's JSON (what
 * {@link RecordBuffer.append} takes): throws `invalid-argument` for an event with no string type
 * or source, a seq that is not a non-negative safe integer, a time that is not finite, or a
 * payload JSON cannot represent.
 */
export function eventBody(event: LoggedEvent, payloadJson: PayloadJson = stringifyPayload): string {
  const { type, payload, meta } = event;
  if (typeof type !== 'string' || type.length === 0) refuse('type', 'a non-empty string', type);
  if (meta === null || typeof meta !== 'object') refuse('meta', 'an object { seq, source, time }', meta);
  if (!Number.isSafeInteger(meta.seq) || meta.seq < 0) refuse('meta.seq', 'a non-negative safe integer', meta.seq);
  if (typeof meta.source !== 'string') refuse('meta.source', 'a string', meta.source);
  if (!Number.isFinite(meta.time)) refuse('meta.time', 'a finite number', meta.time);
  let body: string | undefined;
  try {
    body = payloadJson(type, payload);
  } catch (error) {
    throw new ModactorError('invalid-argument', `Expected a payload JSON can represent, got one that JSON.stringify rejects (${String(error)})`, {
      cause: error,
    });
  }
  if (body === undefined) refuse('payload', 'a JSON value', payload);
  return body;
}

/**
 * The JSON of an event record (see the module documentation); `meta.time` is written by
 * {@link timeJson} (its exact value, cheaper than its shortest digits). Throws `invalid-argument`
 * for an event the log cannot keep (no string type or source, a seq that is not a non-negative
 * safe integer, a time that is not finite, or a payload JSON cannot represent).
 */
export function eventJson(event: LoggedEvent, payloadJson: PayloadJson = stringifyPayload): string {
  const body = eventBody(event, payloadJson);
  const { type, meta } = event;
  return `{"meta":{"seq":${meta.seq},"time":${timeJson(meta.time)},"source":${quoteString(meta.source)}},"type":${quoteString(type)},"payload":${body}}`;
}

export type { PayloadJson };

/** Encodes an event as a framed line; throws like {@link eventJson}. */
export function encodeEvent(event: LoggedEvent): string {
  return frame(eventJson(event));
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const SEQ_OPEN = Buffer.from('{"meta":{"seq":');
const TIME_KEY = Buffer.from(',"time":');
/** The fixed bytes of a record (keys, braces, checksum, space, newline) and room for a seq and a time. */
const RECORD_OVERHEAD = SEQ_OPEN.length + TIME_KEY.length + 2 + PREFIX + 64;

/**
 * The bytes between a record's time and its payload, `,"source":"node"},"type":"NewBlock","payload":`,
 * by source and type: a node writes the same few pairs again and again. Forgotten all at once when
 * they are too many.
 */
const middles = new Map<string, Map<string, Buffer>>();
let middleCount = 0;
const MIDDLES_MAX = 4096;

function middleBytes(source: string, type: string): Buffer {
  let byType = middles.get(source);
  let bytes = byType?.get(type);
  if (bytes !== undefined) return bytes;
  if (middleCount >= MIDDLES_MAX) {
    middles.clear();
    middleCount = 0;
    byType = undefined;
  }
  if (byType === undefined) middles.set(source, (byType = new Map<string, Buffer>()));
  bytes = Buffer.from(`,"source":${quoteString(source)}},"type":${quoteString(type)},"payload":`, 'utf8');
  byType.set(type, bytes);
  middleCount++;
  return bytes;
}

/**
 * Writes `s` as UTF-8 at `at` (room checked by the caller); answers the byte count. Node's
 * `buffer.utf8Write` where there is one: `buffer.write` checks and normalizes its arguments first,
 * which costs more than the encoding of a short record.
 */
const writeUtf8: (buffer: Buffer, s: string, at: number) => number =
  typeof (Buffer.prototype as { utf8Write?: unknown }).utf8Write === 'function'
    ? (buffer, s, at) => (buffer as unknown as { utf8Write(s: string, at: number): number }).utf8Write(s, at)
    : (buffer, s, at) => buffer.write(s, at, 'utf8');

function put(buffer: Buffer, at: number, bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; i++) buffer[at + i] = bytes[i] as number;
  return at + n;
}

/** Writes the decimal digits of a non-negative safe integer, padded with zeros to `width`. */
function putDigits(buffer: Buffer, at: number, n: number, width = 1): number {
  // Eight digits at a time, each group a small integer (cheap arithmetic where the whole is not).
  if (n >= 1e8 || width > 8) {
    const high = Math.floor(n / 1e8);
    at = putDigits(buffer, at, high, width - 8);
    return putGroup(buffer, at, n - high * 1e8, 8);
  }
  let count = 1;
  for (let p = 10; n >= p; p *= 10) count++;
  return putGroup(buffer, at, n, count < width ? width : count);
}

/** The two ASCII digits of 0 to 99, at 2n and 2n + 1. */
const DIGIT_PAIRS = Buffer.from(Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')).join(''), 'latin1');

/** Writes `n` (below 10^8) as exactly `count` digits, two at a time. */
function putGroup(buffer: Buffer, at: number, n: number, count: number): number {
  const end = at + count;
  let i = end;
  while (i - at >= 2) {
    const q = (n / 100) | 0;
    const pair = (n - q * 100) * 2;
    buffer[--i] = DIGIT_PAIRS[pair + 1] as number;
    buffer[--i] = DIGIT_PAIRS[pair] as number;
    n = q;
  }
  if (i > at) buffer[at] = 48 + n;
  return end;
}

/** Writes an ASCII string (a number's text). */
function putAscii(buffer: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buffer[at + i] = s.charCodeAt(i);
  return at + s.length;
}

/** Writes the text {@link timeJson} gives for `t`. */
function putTime(buffer: Buffer, at: number, t: number): number {
  const s = splitTime(t);
  if (s === null) return putAscii(buffer, at, String(t));
  at = putDigits(buffer, at, s.whole);
  if (s.digits === 0) return at;
  buffer[at] = 0x2e; // .
  return putDigits(buffer, at + 1, s.fraction, s.digits);
}

/**
 * Framed event records written straight into one growing byte buffer (a batch of the log): each
 * record's bytes are written into their place (no record string, no join, no second copy, and off
 * the JS heap), the checksum is taken from those bytes. The same bytes as
 * `frame(eventJson(event))`. Reusable after {@link clear}.
 */
export class RecordBuffer {
  private buffer: Buffer;
  private used = 0;
  /** Records in the buffer. */
  count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Appends the record of `event`, checked by {@link eventBody}, which gave `body`. */
  append(event: LoggedEvent, body: string): void {
    const { meta } = event;
    const middle = middleBytes(meta.source, event.type);
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2; JSON.stringify
    // escapes lone surrogates).
    this.reserve(this.used + RECORD_OVERHEAD + middle.length + body.length * 3);
    const buffer = this.buffer;
    const start = this.used + PREFIX;
    let at = put(buffer, start, SEQ_OPEN);
    at = putDigits(buffer, at, meta.seq);
    at = put(buffer, at, TIME_KEY);
    at = putTime(buffer, at, meta.time);
    buffer.set(middle, at);
    at += middle.length;
    at += writeUtf8(buffer, body, at);
    buffer[at] = 0x7d; // }
    const end = at + 1;
    let crc = crc32Of(buffer, start, end);
    for (let i = start - 2; i >= this.used; i--) {
      buffer[i] = HEX_DIGITS[crc & 15] as number;
      crc >>>= 4;
    }
    buffer[start - 1] = SPACE;
    buffer[end] = NEWLINE;
    this.used = end + 1;
    this.count++;
  }

  /** The records' bytes (a view: valid until the next append or clear). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  clear(): void {
    this.used = 0;
    this.count = 0;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(bytes, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}

/** Decodes the JSON of an event record (parsed as it is: no copy), or undefined when it is not one. */
export function decodeEvent(json: Uint8Array): LoggedEvent | undefined {
  const value = parseJson(json) as { meta?: { seq?: unknown; time?: unknown; source?: unknown }; type?: unknown; payload?: unknown } | undefined;
  if (value === null || typeof value !== 'object') return undefined;
  const { meta, type, payload } = value;
  if (meta === null || typeof meta !== 'object') return undefined;
  if (!Number.isSafeInteger(meta.seq) || (meta.seq as number) < 0 || !Number.isFinite(meta.time) || typeof meta.source !== 'string') return undefined;
  if (typeof type !== 'string' || type.length === 0 || payload === undefined) return undefined;
  return value as LoggedEvent;
}

const SEQ_PREFIX = Buffer.from('{"meta":{"seq":');
const TIME_PREFIX = Buffer.from(',"time":');

/** Where a scan leaves the seq and time it peeked (one object, reused: read them at once). */
export interface Peeked {
  seq: number;
  time: number;
}

/**
 * The seq and time of an event record's JSON, read from its start without parsing the rest
 * (`{"meta":{"seq":N,"time":T,`) into `into`; false when the record does not start that way.
 */
export function peekSeqTime(json: Uint8Array, into: Peeked): boolean {
  if (!startsWith(json, SEQ_PREFIX, 0)) return false;
  let i = SEQ_PREFIX.length;
  const { value: seq, length: seqDigits } = digits(json, i);
  i += seqDigits;
  if (seqDigits === 0 || seqDigits > 16 || !Number.isSafeInteger(seq) || !startsWith(json, TIME_PREFIX, i)) return false;
  i += TIME_PREFIX.length;
  const timeStart = i;
  while (i < json.length && json[i] !== 0x2c /* , */) i++;
  if (i === timeStart) return false;
  // An integer time (the usual case) is read in place; anything else through Number.
  const whole = digits(json, timeStart);
  const time = whole.length === i - timeStart && whole.length <= 15 ? whole.value : Number(text(json.subarray(timeStart, i)));
  if (!Number.isFinite(time)) return false;
  into.seq = seq;
  into.time = time;
  return true;
}

/** The decimal digits of `bytes` from `at`: their value and how many. Reused result object. */
function digits(bytes: Uint8Array, at: number): { value: number; length: number } {
  let value = 0;
  let i = at;
  for (; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  scratchDigits.value = value;
  scratchDigits.length = i - at;
  return scratchDigits;
}
const scratchDigits = { value: 0, length: 0 };

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** The header line of a segment. */
export function encodeHeader(header: Omit<SegmentHeader, 'format' | 'version'>): string {
  return frame(JSON.stringify({ format: SEGMENT_FORMAT, version: FORMAT_VERSION, firstSeq: header.firstSeq, prevSeq: header.prevSeq }));
}

/** Decodes a header's JSON; the version is returned as found (the caller refuses unknown ones). */
export function decodeHeader(json: Uint8Array): SegmentHeader | undefined {
  const value = parseJson(json) as Partial<Record<keyof SegmentHeader, unknown>> | undefined;
  if (value === null || typeof value !== 'object' || value.format !== SEGMENT_FORMAT) return undefined;
  const { version, firstSeq, prevSeq } = value;
  if (!Number.isSafeInteger(version) || !Number.isSafeInteger(firstSeq) || !Number.isSafeInteger(prevSeq)) return undefined;
  return { format: SEGMENT_FORMAT, version: version as number, firstSeq: firstSeq as number, prevSeq: prevSeq as number };
}

/** Digits of the seq in a segment's file name: every safe integer fits. */
const NAME_DIGITS = 16;
const SEGMENT_NAME = /^segment-(\d{16})\.log$/;

/** The file name of the segment whose first record has `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `segment-${String(firstSeq).padStart(NAME_DIGITS, '0')}.log`;
}

/** The first seq named by a segment file name, or undefined when `name` is not a segment's. */
export function segmentFirstSeq(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match === null ? undefined : Number(match[1]);
}

export { NEWLINE };
