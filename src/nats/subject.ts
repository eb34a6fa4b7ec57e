/**
 * NATS subject tokens and the bus's subject names.
 *
 * Node ids, module names and event types are free strings; a NATS subject token cannot hold `.`
 * (the separator), whitespace, or `*` / `>` (wildcards), and a JetStream KV key allows only
 * `[-/=.\w]`. So every such string travels as an escaped token over the alphabet `[A-Za-z0-9_=-]`:
 * letters, digits, `_` and `-` stand for themselves; any other UTF-16 code unit below 0x80 becomes
 * `=HH` and any other above becomes `=uHHHH` (upper-case hex); the empty string is `=`. The escape
 * is a bijection between all strings (lone surrogates included) and the canonical tokens, so a
 * name is never narrowed and {@link unescapeToken} refuses anything {@link escapeToken} would not
 * have produced.
 */
import { ModactorError, describeValue } from '../kernel/errors.js';

const HEX = '0123456789ABCDEF';

function isPlain(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2d // -
  );
}

function hex(code: number, digits: number): string {
  let out = '';
  for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += HEX[(code >> shift) & 0xf];
  return out;
}

/**
 * Escapes any string into one NATS subject token (also a valid KV key token).
 *
 * @example
 * ```ts
 * escapeToken('indexer');      // 'indexer'
 * escapeToken('eu.west 1');    // 'eu=2Ewest=201'
 * escapeToken('*');            // '=2A'
 * escapeToken('');             // '='
 * ```
 */
export function escapeToken(text: string): string {
  if (text.length === 0) return '=';
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isPlain(code)) continue;
    out += text.slice(plainFrom, i) + (code < 0x80 ? `=${hex(code, 2)}` : `=u${hex(code, 4)}`);
    plainFrom = i + 1;
  }
  return plainFrom === 0 ? text : out + text.slice(plainFrom);
}

function hexValue(token: string, from: number, digits: number): number {
  if (from + digits > token.length) return -1;
  let value = 0;
  for (let i = from; i < from + digits; i++) {
    const digit = HEX.indexOf(token[i] as string);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * The string a token stands for, or `undefined` when the token is not one {@link escapeToken}
 * produces (a character outside the alphabet, a malformed or needless escape).
 */
export function unescapeToken(token: string): string | undefined {
  if (token === '=') return '';
  let out = '';
  let i = 0;
  while (i < token.length) {
    const code = token.charCodeAt(i);
    if (isPlain(code)) {
      out += token[i];
      i++;
      continue;
    }
    if (code !== 0x3d) return undefined; // not '='
    let value: number;
    if (token[i + 1] === 'u') {
      value = hexValue(token, i + 2, 4);
      if (value < 0x80) return undefined; // malformed, or would have been =HH
      i += 6;
    } else {
      value = hexValue(token, i + 1, 2);
      if (value < 0 || value >= 0x80 || isPlain(value)) return undefined;
      i += 3;
    }
    out += String.fromCharCode(value);
  }
  return out.length === 0 ? undefined : out;
}

/** A bus prefix: one subject token of `[A-Za-z0-9_-]`, used for subjects, the stream and the bucket. */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** The default prefix: subjects `modactor.ev.…`, `modactor.dur.…`, `modactor.hb.…`. */
export const DEFAULT_PREFIX = 'modactor';

/** The subject names, stream and bucket of one bus (one prefix). */
export interface BusSubjects {
  readonly prefix: string;
  /** Core NATS, one event per message: `<prefix>.ev.<node>.<EventType>`. */
  event(nodeId: string, type: string): string;
  /** Core NATS, a batch of events of any types, in order: `<prefix>.ev.<node>`. */
  eventBatch(nodeId: string): string;
  /** JetStream, one event per message: `<prefix>.dur.<node>.<EventType>`. */
  durable(nodeId: string, type: string): string;
  /** JetStream, a batch of durable events of any types, in order: `<prefix>.dur.<node>`. */
  durableBatch(nodeId: string): string;
  /** Liveness: `<prefix>.hb.<node>`. */
  heartbeat(nodeId: string): string;
  /** The membership key of a module: `<node>.<module>`. */
  membershipKey(nodeId: string, module: string): string;
  /** Wildcards to subscribe to. */
  readonly allEvents: string;
  readonly allDurable: string;
  readonly allHeartbeats: string;
  /** The JetStream stream over {@link BusSubjects.allDurable}. */
  readonly stream: string;
  /** The JetStream KV bucket of membership. */
  readonly bucket: string;
}

/** The subjects of the bus with `prefix` (default {@link DEFAULT_PREFIX}). */
export function busSubjects(prefix: string = DEFAULT_PREFIX): BusSubjects {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ModactorError('invalid-argument', `Expected a bus prefix of 1 to 32 characters [A-Za-z0-9_-], got ${describeValue(prefix)}`);
  }
  return {
    prefix,
    event: (nodeId, type) => `${prefix}.ev.${escapeToken(nodeId)}.${escapeToken(type)}`,
    eventBatch: (nodeId) => `${prefix}.ev.${escapeToken(nodeId)}`,
    durable: (nodeId, type) => `${prefix}.dur.${escapeToken(nodeId)}.${escapeToken(type)}`,
    durableBatch: (nodeId) => `${prefix}.dur.${escapeToken(nodeId)}`,
    heartbeat: (nodeId) => `${prefix}.hb.${escapeToken(nodeId)}`,
    membershipKey: (nodeId, module) => `${escapeToken(nodeId)}.${escapeToken(module)}`,
    allEvents: `${prefix}.ev.>`,
    allDurable: `${prefix}.dur.>`,
    allHeartbeats: `${prefix}.hb.*`,
    stream: `${prefix}-durable`,
    bucket: `${prefix}-membership`,
  };
}

/** What a received subject says: its kind, origin node and, for single events, the event type. */
export interface ParsedSubject {
  readonly kind: 'ev' | 'dur' | 'hb';
  readonly nodeId: string;
  /** The event type of a one-event message; absent for a batch and a heartbeat. */
  readonly type?: string;
}

/**
 * Parses a subject of the bus with `prefix`, or `undefined` for anything else (a subject this bus
 * does not produce, or a token that is not canonically escaped).
 */
export function parseSubject(prefix: string, subject: string): ParsedSubject | undefined {
  const parts = subject.split('.');
  if (parts[0] !== prefix || parts.length < 3 || parts.length > 4) return undefined;
  const kind = parts[1];
  const nodeId = unescapeToken(parts[2] as string);
  if (nodeId === undefined) return undefined;
  if (kind === 'hb') return parts.length === 3 ? { kind, nodeId } : undefined;
  if ((kind === 'dur' || kind === 'ev') && parts.length === 3) return { kind, nodeId };
  if ((kind !== 'ev' && kind !== 'dur') || parts.length !== 4) return undefined;
  const type = unescapeToken(parts[3] as string);
  return type === undefined ? undefined : { kind, nodeId, type };
}

/** Parses a membership key `<node>.<module>`, or `undefined` when it is not one. */
export function parseMembershipKey(key: string): { nodeId: string; module: string } | undefined {
  const dot = key.indexOf('.');
  if (dot < 0 || key.indexOf('.', dot + 1) >= 0) return undefined;
  const nodeId = unescapeToken(key.slice(0, dot));
  const module = unescapeToken(key.slice(dot + 1));
  return nodeId === undefined || module === undefined ? undefined : { nodeId, module };
}

/**
 * Memoizes a function of a string (subject names by event type, parsed subjects by subject), up
 * to `max` entries; then it starts over, so garbage subjects cannot grow it without bound.
 */
export function memoize<T>(fn: (key: string) => T, max = 4096): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as T;
    if (cache.size >= max) cache.clear();
    const value = fn(key);
    cache.set(key, value);
    return value;
  };
}
