/**
 * JSON text of values that passed a check, written without `JSON.stringify` where the check tells
 * enough about the value: a `NewBlock` payload is `'{"blockHash":"' + hash + '","height":' + n + '}'`.
 * On Node 20 `JSON.stringify` costs a few hundred nanoseconds per call whatever the value, which is
 * most of what a store, a process module or a bus spends per event.
 *
 * The contract: for every value a check returned, its writer gives exactly the text
 * `JSON.stringify(value)` gives. Checks whose results it cannot write (hand-written ones, `func`,
 * `jsonValue`, shapes with a `__proto__` field) have no writer, and {@link jsonWriterOf} answers
 * `JSON.stringify` for them.
 *
 * @internal
 */
import { generated } from './generated-code.js';

/**
 * Writes the JSON text of an event's payload: exactly what `JSON.stringify(payload)` gives
 * (undefined when it is not JSON), by a faster route where the caller knows one (a node writes the
 * payloads its catalogue checked with the checks' own writers).
 */
export type PayloadJson = (type: string, payload: unknown) => string | undefined;

/** Writes the JSON text of a value its check returned. */
export type JsonWriter = (value: never) => string;

/** How a check or a writer runs: generated code with the loop as fallback, the loop, or generated code only (for tests). @internal */
export type CodeMode = 'compiled' | 'interpreted' | 'compiled-only';

const writers = new WeakMap<object, JsonWriter>();

/** Registers `writer` as the JSON writer of the values `check` returns; returns the check. */
export function withWriter<C extends object>(check: C, writer: JsonWriter): C {
  writers.set(check, writer);
  return check;
}

/** The writer of what `check` returns, or null when it has none. */
export function writerOf(check: object): JsonWriter | null {
  return writers.get(check) ?? null;
}

/** The writer of what `check` returns: its own, or `JSON.stringify`. */
export function jsonWriterOf(check: object): (value: unknown) => string {
  return (writerOf(check) as ((value: unknown) => string) | null) ?? stringify;
}

/** `JSON.stringify` as a writer: for values no check wrote. */
const stringify = (value: unknown): string => JSON.stringify(value);

/** `JSON.stringify` as a {@link PayloadJson}: the default where no faster writer is given. */
export const stringifyPayload: PayloadJson = (_type, payload) => JSON.stringify(payload);

/** What `JSON.stringify` escapes in a string (lone surrogates included: any surrogate goes the slow way). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(s)` for a string: quoted as it is when nothing in it needs an escape. */
export function quoteString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A string known to need no escape (a check admitted only such characters). */
export function quoteSafe(s: string): string {
  return `"${s}"`;
}

/** A finite number (a check refused the others): its text is `String`'s. */
export function writeNumber(n: number): string {
  return String(n);
}

/** 2^37 ms (1974): from there up, a double's fraction is a whole number of 2^-15. */
const EXACT_FROM = 2 ** 37;
const FRACTION_SCALE = 2 ** 15;
/** Powers of five: m/2^n written in decimal is m·5^n over 10^n. */
const FIVES = Array.from({ length: 16 }, (_, n) => 5 ** n);
const ZEROS = '000000000000000';

/** A time split for writing (see {@link timeJson}); one object, reused by every call. */
export interface TimeSplit {
  /** The whole milliseconds. */
  whole: number;
  /** The fraction's decimal digits as a number (the fraction is `fraction / 10^digits`). */
  fraction: number;
  /** How many decimal digits the fraction has, leading zeros included; 0 when there is none. */
  digits: number;
}
const split: TimeSplit = { whole: 0, fraction: 0, digits: 0 };

/**
 * Splits `t` into its whole part and the exact decimal digits of its fraction, or answers null
 * outside [2^37, 2^53) (and for NaN): from 2^37 up a double's fraction is m/2^15 for a whole m,
 * whose decimal, m·5^15 / 10^15 with the trailing zeros dropped, has at most 15 digits. The
 * result is overwritten by the next call.
 */
export function splitTime(t: number): TimeSplit | null {
  if (!(t >= EXACT_FROM && t < Number.MAX_SAFE_INTEGER)) return null;
  const whole = Math.floor(t);
  let m = (t - whole) * FRACTION_SCALE;
  let n = 15;
  if (m === 0) n = 0;
  else {
    while ((m & 1) === 0) {
      m >>>= 1;
      n--;
    }
  }
  split.whole = whole;
  split.fraction = m * (FIVES[n] as number);
  split.digits = n;
  return split;
}

/**
 * A JSON number that reads back as exactly `t`, a finite time in ms (an event's `meta.time`),
 * cheaper than `String(t)`: a clock reading is a fractional double, and finding its shortest
 * digits costs a few hundred nanoseconds on Node 20, where whole numbers cost a few. Within the
 * range of {@link splitTime}: the whole part, then a point and the fraction's exact digits when
 * there is a fraction; `JSON.parse` gives back the same double. It may be longer than `String(t)`
 * (`1718000000000.123046875` for `1718000000000.123`). Outside that range it is `String(t)`.
 */
export function timeJson(t: number): string {
  const s = splitTime(t);
  if (s === null) return String(t);
  if (s.digits === 0) return `${s.whole}`;
  const digits = `${s.fraction}`;
  return `${s.whole}.${ZEROS.slice(0, s.digits - digits.length)}${digits}`;
}

export function writeBoolean(b: boolean): string {
  return b ? 'true' : 'false';
}

/** A string, a finite number or a boolean. */
export function writeScalar(value: string | number | boolean): string {
  return typeof value === 'string' ? quoteString(value) : String(value);
}

/** The writer of one of a few literals: each one's text, looked up. */
export function literalWriter(values: readonly (string | number | boolean)[]): JsonWriter {
  const texts = new Map<unknown, string>(values.map((v) => [v, JSON.stringify(v)]));
  return ((value: unknown) => texts.get(value) as string);
}

/** An array whose every element has `item`'s writer (a parsed array holds no holes). */
export function arrayWriter(item: JsonWriter): JsonWriter {
  const write = item as (value: unknown) => string;
  return ((items: readonly unknown[]) => {
    let out = '[';
    for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + write(items[i]);
    return `${out}]`;
  });
}

/** A plain object used as a record, every value with `value`'s writer, in own-key order. */
export function recordWriter(value: JsonWriter): JsonWriter {
  const write = value as (value: unknown) => string;
  return ((record: Readonly<Record<string, unknown>>) => {
    let out = '{';
    let first = true;
    for (const key of Object.keys(record)) {
      out += `${first ? '' : ','}${quoteString(key)}:${write(record[key])}`;
      first = false;
    }
    return `${out}}`;
  });
}

/** A field of an object check, as its writer needs it. */
export interface WrittenField {
  readonly key: string;
  readonly check: object;
  readonly optional: boolean;
}

/**
 * The writer of an object check's results, or null when a field's check has none (or a field is
 * named `__proto__`, which reading by name would not find). Fields in the order of the copy's own
 * keys; an optional one only when present. For tests: `'interpreted'` keeps the loop,
 * `'compiled-only'` generates the code at once and throws where it cannot (instead of falling
 * back to the loop).
 */
export function objectWriter(fields: readonly WrittenField[], mode: CodeMode = 'compiled'): JsonWriter | null {
  const parts: Part[] = [];
  for (const field of fields) {
    const write = writerOf(field.check);
    if (write === null || field.key === '__proto__') return null;
    parts.push({
      key: field.key,
      prefix: `${JSON.stringify(field.key)}:`,
      write: write as (value: unknown) => string,
      optional: field.optional,
      inherited: field.key in Object.prototype,
    });
  }
  // The engine's order of own keys, which JSON.stringify follows: array indexes ascending, then
  // the other keys as they were added (the check adds them in declaration order).
  const indexes = parts.filter((part) => isArrayIndex(part.key)).sort((a, b) => Number(a.key) - Number(b.key));
  parts.splice(0, parts.length, ...indexes, ...parts.filter((part) => !isArrayIndex(part.key)));
  // Written out on first use: most shapes (options, manifests) are never written.
  if (mode === 'compiled-only') return compileObjectWriter(parts) ?? notCompiled('an object writer');
  let write: JsonWriter | null = null;
  return (object: never) => (write ??= (mode === 'compiled' ? compileObjectWriter(parts) : null) ?? interpretedObjectWriter(parts))(object);
}

/** Where a test asked for generated code only and there is none (see {@link objectWriter}). @internal */
export function notCompiled(what: string): never {
  throw new Error(`Expected ${what} to be generated code, got none (no fields, more than 32, or code generation failed)`);
}

/** A canonical array index ("0", "7", "10", not "07"), which objects keep ahead of other keys. */
function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 2 ** 32 - 1 && String(n) === key;
}

interface Part {
  readonly key: string;
  /** `"key":` */
  readonly prefix: string;
  readonly write: (value: unknown) => string;
  readonly optional: boolean;
  /** Named like a property of `Object.prototype` (`constructor`): present only if its own. */
  readonly inherited: boolean;
}

/**
 * Whether an optional field is in the copy: a present one is never `undefined` (the check refuses
 * that), and an absent one named like a property of `Object.prototype` must not be read through it.
 */
function present(object: Readonly<Record<string, unknown>>, part: Part): boolean {
  return part.inherited ? Object.hasOwn(object, part.key) : object[part.key] !== undefined;
}

function interpretedObjectWriter(parts: readonly Part[]): JsonWriter {
  return ((object: Readonly<Record<string, unknown>>) => {
    let out = '{';
    let first = true;
    for (const part of parts) {
      if (part.optional && !present(object, part)) continue;
      const value = object[part.key];
      out += (first ? '' : ',') + part.prefix + part.write(value);
      first = false;
    }
    return `${out}}`;
  });
}

/**
 * {@link interpretedObjectWriter} written out for one shape: a call site per field, and for a shape
 * without optional fields a single concatenation. Null where code cannot be generated.
 */
function compileObjectWriter(parts: readonly Part[]): JsonWriter | null {
  if (parts.length === 0 || parts.length > 32) return null;
  // Names and prefixes are written as JSON string literals (valid JavaScript ones too).
  const read = (i: number): string => `o[${JSON.stringify((parts[i] as Part).key)}]`;
  const text = (s: string): string => JSON.stringify(s);
  const lines = ['const hasOwn = Object.hasOwn;'];
  parts.forEach((_, i) => lines.push(`const w${i} = parts[${i}].write;`));
  lines.push('return function write(o) {');
  if (parts.every((part) => !part.optional)) {
    const pieces = parts.map((part, i) => `${text(`${i === 0 ? '{' : ','}${part.prefix}`)} + w${i}(${read(i)})`);
    lines.push(`  return ${pieces.join(' + ')} + '}';`);
  } else {
    lines.push("  let out = '{', sep = '';");
    parts.forEach((part, i) => {
      const add = `{ out += sep + ${text(part.prefix)} + w${i}(${read(i)}); sep = ','; }`;
      const test = part.inherited ? `hasOwn(o, ${JSON.stringify(part.key)})` : `${read(i)} !== undefined`;
      lines.push(part.optional ? `  if (${test}) ${add}` : `  ${add}`);
    });
    lines.push("  return out + '}';");
  }
  lines.push('};');
  return generated<readonly Part[], JsonWriter>('parts', lines, parts);
}
