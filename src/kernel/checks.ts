/**
 * The validation vocabulary: small parsers ("parse, don't validate") for event payloads,
 * definitions, options and any other untrusted value. Each is a {@link Check} whose result type is
 * inferred, so a schema built from them is checked against the type it stands for at compile time.
 *
 * A check returns what it checked as fresh plain data: scalars as they are, objects, arrays and
 * records as NEW deep-frozen plain objects with exactly the admitted keys, each field read exactly
 * once (a getter or a proxy is asked once, and what it answered is what the copy holds). Nothing
 * the caller keeps can change the result afterwards, and the result shares no object with the input.
 *
 * Checks never throw, whatever they are given (proxies whose traps throw, getters that throw,
 * revoked proxies, cycles, BigInt, symbols, class instances): every problem is an issue pushed to
 * `issues`, `{ path, expected, got, message }`. On failure a check's return value is meaningless;
 * callers look at whether `issues` grew.
 *
 * They are built for the publish hot path: a value that passes builds no closures, paths or
 * messages (a child check is called with its parent's path, and the issues it reports are moved
 * to the child's path afterwards); the only allocations are the copies themselves.
 *
 * Limits, so that no input can make a check work or report without bound: containers nest at most
 * {@link MAX_DEPTH} deep, an array or record holds at most {@link MAX_ENTRIES} entries unless its
 * check says otherwise, {@link jsonValue} visits at most {@link MAX_JSON_NODES} values, and one
 * container reports at most {@link MAX_ISSUES} issues.
 *
 * @example
 * ```ts
 * const checkPing = object({ target: nonEmptyString, count: nonNegativeInteger, note: optional(string) });
 * const issues: ValidationIssue[] = [];
 * const ping = checkPing({ target: 'a', count: 1 }, 'payload', issues); // frozen { target: 'a', count: 1 }
 * checkPing({ target: 'a', count: -1 }, 'payload', issues);
 * // issues: [{ path: 'payload.count', expected: 'a non-negative safe integer', got: 'number -1',
 * //            message: 'expected a non-negative safe integer, got number -1' }]
 * parse(checkPing, JSON.parse(text), { code: 'invalid-argument', what: 'ping' }); // or throws ModactorError
 * ```
 */
import { ModactorError, type ModactorErrorCode, type ValidationIssue } from './errors.js';
import { generated } from './generated-code.js';
import {
  arrayWriter,
  type CodeMode,
  literalWriter,
  notCompiled,
  objectWriter,
  quoteSafe,
  quoteString,
  recordWriter,
  withWriter,
  writeBoolean,
  writeNumber,
  writeScalar,
  writerOf,
  type JsonWriter,
} from './json-writer.js';

/**
 * A run-time parser of one value. Returns the parsed value (fresh frozen plain data) when valid;
 * otherwise pushes one issue per problem into `issues`, each with a path that starts with `path`
 * (`payload`, `payload.height`, ...), and returns anything.
 *
 * `T` is the type the check admits and returns, so any plain function of this signature is a
 * `Check<T>`; the combinators infer it, which lets a catalogue reject a schema whose check does
 * not match the payload type of its event. A hand-written check must never throw, must read each
 * field of its input once, and must return data that shares nothing mutable with the input.
 */
export type Check<T = unknown> = (value: unknown, path: string, issues: ValidationIssue[]) => T;

/** A check that can say in words what it expects (`a non-negative safe integer`). */
export interface DescribedCheck<T> extends Check<T> {
  /** What the check expects, as the object of "expected ...". */
  readonly expected: string;
}

/** A check made by {@link optional}: absent (or `undefined` on its own) or what `optionalOf` admits. */
export interface OptionalCheck<T> extends DescribedCheck<T | undefined> {
  /** The check a present value must pass. */
  readonly optionalOf: Check<T>;
}

/** A check made by {@link oneOf}, exposing the literals it admits. */
export interface OneOfCheck<T> extends DescribedCheck<T> {
  readonly values: readonly T[];
}

/** A check made by {@link object}, exposing its shape (field name → check) in declaration order. */
export interface ObjectCheck<T, S extends Shape = Shape> extends DescribedCheck<T> {
  readonly shape: S;
}

/** The fields of an {@link object} check. */
export type Shape = { readonly [field: string]: Check<unknown> };

/** The type a check admits. */
export type Infer<C> = C extends Check<infer T> ? T : never;

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalCheck<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The type an {@link object} check admits: readonly fields, optional ones (made with
 * {@link optional}) written `field?: T`, which under `exactOptionalPropertyTypes` means absent,
 * never `undefined`.
 */
export type ObjectType<S extends Shape> = Simplify<
  { readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    readonly [K in OptionalKeys<S>]?: S[K] extends OptionalCheck<infer T> ? T : never;
  }
>;

/**
 * Most issues one array, object or record check reports, so that a hostile value (a million bad
 * elements or unknown keys) cannot make validation produce unbounded output. Checking stops there.
 */
export const MAX_ISSUES = 20;

/** Deepest nesting of objects, arrays and records a check descends into; deeper is an issue. */
export const MAX_DEPTH = 64;

/**
 * Most elements of an array, or keys of a record, unless its check sets its own bound
 * (`arrayOf(check, { maxLength })`, `recordOf(check, { maxKeys })`).
 */
export const MAX_ENTRIES = 10_000;

/** Most values {@link jsonValue} visits in one value (a shared sub-object counts each time it is reached). */
export const MAX_JSON_NODES = 100_000;

const MAX_QUOTED = 40;

/** What a value that threw while being read is described as. */
const THREW = 'a value that threw when read';

// ---- issues ---------------------------------------------------------------------------------

/**
 * An issue at `path`: `expected` and `got` as words (`got` is usually {@link describeReceived} of
 * the value), and the message `expected ${expected}, got ${got}` for people.
 */
export function issue(path: string, expected: string, got: string): ValidationIssue {
  return { path, expected, got, message: `expected ${expected}, got ${got}` };
}

/** `path: message` of the first issue, and how many more there are; `path` left out at the root. */
export function summarizeIssues(issues: readonly ValidationIssue[]): string {
  const first = issues[0];
  if (first === undefined) return 'no issues';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${first.path === '' ? '' : `${first.path}: `}${first.message}${more}`;
}

/**
 * Runs `check` and throws a {@link ModactorError} with `code` and every issue when the value does
 * not pass; otherwise returns the parsed value. Never throws anything else, even when a
 * hand-written check does.
 *
 * @example
 * ```ts
 * const options = parse(object({ port: nonNegativeInteger }), raw, { code: 'invalid-argument', what: 'server options' });
 * // throws ModactorError('invalid-argument', 'Invalid server options: port: expected a non-negative safe integer, got string "80"')
 * ```
 */
export function parse<T>(
  check: Check<T>,
  value: unknown,
  options: { readonly code: ModactorErrorCode; readonly what: string; readonly path?: string },
): T {
  const issues: ValidationIssue[] = [];
  const parsed = runCheck(check, value, options.path ?? '', issues);
  if (issues.length > 0) {
    throw new ModactorError(options.code, `Invalid ${options.what}: ${summarizeIssues(issues)}`, { issues });
  }
  return parsed;
}

/**
 * Calls `check`, turning anything it throws into an issue at `path` (for hand-written checks: the
 * combinators never throw). @internal
 */
export function runCheck<T>(check: Check<T>, value: unknown, path: string, issues: ValidationIssue[]): T {
  try {
    return check(value, path, issues);
  } catch {
    issues.push(issue(path, expectedOf(check), THREW));
    return undefined as T;
  }
}

// ---- describing values ----------------------------------------------------------------------

/**
 * Describes a received value for "expected X, got Y" messages: its type and, for scalars, its
 * value (strings JSON-quoted and cut at 40 characters, so control characters cannot reach a log).
 * Never throws, whatever the value (a revoked proxy is `an unreadable object`).
 */
export function describeReceived(value: unknown): string {
  try {
    return describe(value);
  } catch {
    return 'an unreadable object';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value.length > MAX_QUOTED
        ? `string ${JSON.stringify(value.slice(0, MAX_QUOTED))}... (length ${value.length})`
        : `string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'bigint':
      return value >= -(10n ** 20n) && value <= 10n ** 20n ? `bigint ${String(value)}n` : 'a bigint';
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      if (Array.isArray(value)) {
        const length: unknown = value.length;
        return typeof length === 'number' ? `an array of length ${length}` : 'an array';
      }
      return isPlainObject(value) ? 'an object' : `an instance of ${constructorName(value)}`;
    }
  }
}

function constructorName(value: object): string {
  const ctor: unknown = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor !== 'function') return 'a class';
  const name: unknown = ctor.name;
  return typeof name === 'string' && /^[\w$]{1,40}$/.test(name) ? name : 'a class';
}

/**
 * True for `{...}` literals, `JSON.parse` results and `Object.create(null)`; false for arrays,
 * class instances, dates. Never throws (a proxy whose traps throw is not a plain object).
 */
export function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  try {
    if (Array.isArray(value)) return false;
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

/** What a check expects, for messages; `a valid value` for a check that cannot say. */
export function expectedOf(check: Check<unknown>): string {
  const expected = (check as Partial<DescribedCheck<unknown>>).expected;
  return typeof expected === 'string' ? expected : 'a valid value';
}

// ---- leaves ---------------------------------------------------------------------------------

/**
 * A check of a single value by a predicate: the value passes when `accepts(value)` is true and is
 * returned as it is. Use it for scalars and for opaque references a definition keeps (a function,
 * a state machine); the predicate must not throw and should not allocate.
 *
 * @example
 * ```ts
 * const even = predicate<number>('an even safe integer', (v) => Number.isSafeInteger(v) && (v as number) % 2 === 0);
 * ```
 */
export function predicate<T>(expected: string, accepts: (value: unknown) => boolean): DescribedCheck<T> {
  const check = (value: unknown, path: string, issues: ValidationIssue[]): T => {
    if (!accepts(value)) issues.push(issue(path, expected, describeReceived(value)));
    return value as T;
  };
  return Object.assign(check, { expected });
}

/** Like {@link predicate} for numbers, returning `-0` as `0` (JSON cannot carry `-0`). */
function numeric(expected: string, accepts: (value: unknown) => boolean): DescribedCheck<number> {
  const check = (value: unknown, path: string, issues: ValidationIssue[]): number => {
    if (!accepts(value)) {
      issues.push(issue(path, expected, describeReceived(value)));
      return 0;
    }
    return (value as number) + 0;
  };
  return withWriter(Object.assign(check, { expected }), writeNumber as JsonWriter);
}

/** Any string, the empty string included. */
export const string: DescribedCheck<string> = withWriter(predicate('a string', (v) => typeof v === 'string'), quoteString as JsonWriter);

/** A string of at least one character. */
export const nonEmptyString: DescribedCheck<string> = withWriter(
  predicate('a non-empty string', (v) => typeof v === 'string' && v.length > 0),
  quoteString as JsonWriter,
);

/** A 64-character lowercase hexadecimal string (a block or transaction hash). */
export const hex64: DescribedCheck<string> = withWriter(predicate('a 64-character lowercase hex string', isHex64), quoteSafe as JsonWriter);

// A regular expression: compiled to machine code, it beats a charCodeAt loop by about 30%.
const HEX64 = /^[0-9a-f]{64}$/;

function isHex64(value: unknown): boolean {
  return typeof value === 'string' && value.length === 64 && HEX64.test(value);
}

/** A safe integer >= 0 (counts, heights, sizes, seconds). */
export const nonNegativeInteger: DescribedCheck<number> = numeric(
  'a non-negative safe integer',
  (v) => Number.isSafeInteger(v) && (v as number) >= 0,
);

/** A safe integer >= 1 (capacities). */
export const positiveInteger: DescribedCheck<number> = numeric('a positive safe integer', (v) => Number.isSafeInteger(v) && (v as number) >= 1);

/** Any number except `NaN` and the infinities. */
export const finiteNumber: DescribedCheck<number> = numeric('a finite number', (v) => Number.isFinite(v));

/** A finite number >= 0 (durations, amounts that may be fractional). */
export const nonNegativeNumber: DescribedCheck<number> = numeric(
  'a finite number >= 0',
  (v) => Number.isFinite(v) && (v as number) >= 0,
);

/** A finite number > 0 (windows, periods). */
export const positiveNumber: DescribedCheck<number> = numeric('a finite number > 0', (v) => Number.isFinite(v) && (v as number) > 0);

/** A finite number from 0 to 100 inclusive. */
export const percent: DescribedCheck<number> = numeric(
  'a percentage from 0 to 100',
  (v) => Number.isFinite(v) && (v as number) >= 0 && (v as number) <= 100,
);

/** A finite number from 0 to 1 inclusive (fractions, jitter). */
export const fraction: DescribedCheck<number> = numeric(
  'a number from 0 to 1',
  (v) => Number.isFinite(v) && (v as number) >= 0 && (v as number) <= 1,
);

/** `true` or `false`. */
export const boolean: DescribedCheck<boolean> = withWriter(predicate('a boolean', (v) => typeof v === 'boolean'), writeBoolean as JsonWriter);

const anyScalar = predicate<string | number | boolean>(
  'a string, a finite number or a boolean',
  (v) => typeof v === 'string' || typeof v === 'boolean' || Number.isFinite(v),
);

/** A string, a finite number or a boolean: a JSON scalar other than `null` (`-0` returned as `0`, as JSON carries it). */
export const scalar: DescribedCheck<string | number | boolean> = withWriter(
  Object.assign(
    (value: unknown, path: string, issues: ValidationIssue[]): string | number | boolean => {
      const parsed = anyScalar(value, path, issues);
      return typeof parsed === 'number' ? parsed + 0 : parsed;
    },
    { expected: anyScalar.expected },
  ),
  writeScalar as JsonWriter,
);

/**
 * A function, returned as it is (definitions keep their callbacks; the function itself is code,
 * not data, and is neither copied nor frozen).
 */
export const func: DescribedCheck<(...args: never[]) => unknown> = predicate('a function', (v) => typeof v === 'function');

/**
 * Exactly one of the given literals (compared with `===`).
 *
 * @example
 * ```ts
 * const urgency = oneOf('low', 'medium', 'high'); // OneOfCheck<'low' | 'medium' | 'high'>
 * urgency.values; // ['low', 'medium', 'high']
 * ```
 */
export function oneOf<const T extends readonly [string | number | boolean, ...(string | number | boolean)[]]>(
  ...values: T
): OneOfCheck<T[number]> {
  const allowed: readonly T[number][] = Object.freeze([...values]);
  const expected = `one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  return withWriter(
    Object.assign(
      predicate<T[number]>(expected, (v) => (allowed as readonly unknown[]).includes(v)),
      { values: allowed },
    ),
    literalWriter(allowed),
  );
}

// ---- wrappers -------------------------------------------------------------------------------

/**
 * An optional field of an {@link object}: when absent, nothing is checked and the copy has no such
 * key; when present, its value must pass `check`, and a field present with the value `undefined`
 * is rejected (the payload types are written under `exactOptionalPropertyTypes`, and a field set to
 * `undefined` is almost always a bug; over JSON it would vanish anyway). Used on its own, outside
 * an object, it admits `undefined`.
 */
export function optional<T>(check: Check<T>): OptionalCheck<T> {
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): T | undefined =>
    value === undefined ? undefined : check(value, path, issues);
  return Object.assign(fn, { optionalOf: check, expected: `${expectedOf(check)} or nothing` });
}

/** A rule over a value that passed its check: undefined when it holds, else what went wrong. */
export interface Refinement {
  /** The field the issue is at, relative to the checked value; the value itself when absent. */
  readonly field?: string;
  readonly expected: string;
  /** The offending value (described with {@link describeReceived}). */
  readonly got: unknown;
}

/**
 * `check`, then a rule across its result (for constraints between fields: `maxMs >= minMs`, exactly
 * one of `handle`, `create`, `machine`). The rule sees only parsed, frozen data, so it reads
 * nothing of the input; it runs only when `check` passed, and it may report several issues.
 *
 * @example
 * ```ts
 * const range = refine(object({ min: finiteNumber, max: finiteNumber }), (r) =>
 *   r.max >= r.min ? undefined : { field: 'max', expected: `a number >= min (${r.min})`, got: r.max });
 * ```
 */
export function refine<T>(
  check: Check<T>,
  rule: (value: T) => Refinement | readonly Refinement[] | undefined,
): DescribedCheck<T> {
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): T => {
    const before = issues.length;
    const parsed = check(value, path, issues);
    if (issues.length > before) return parsed;
    const found = rule(parsed);
    if (found === undefined) return parsed;
    for (const r of Array.isArray(found) ? (found as readonly Refinement[]) : [found as Refinement]) {
      issues.push(issue(r.field === undefined ? path : fieldPath(path, r.field), r.expected, describeReceived(r.got)));
    }
    return parsed;
  };
  return inheritWriter(Object.assign(fn, { expected: expectedOf(check) }), check);
}

/**
 * `derived` returns what `check` returns (or, with `wrap`, a container of such values): it writes
 * it with `check`'s writer (wrapped), if `check` has one.
 */
function inheritWriter<C extends object>(derived: C, check: object, wrap: (write: JsonWriter) => JsonWriter = (write) => write): C {
  const write = writerOf(check);
  return write === null ? derived : withWriter(derived, wrap(write));
}

// ---- containers -----------------------------------------------------------------------------

/** Nesting depth of the containers being checked right now (checks are synchronous). */
let depth = 0;

/** What a failed container check returns (callers look at the issues, never at this). */
const NOTHING = Object.freeze({}) as never;

/**
 * Makes a container check from its body: the depth limit, and anything the body did not expect
 * (a proxy trap or getter that throws outside a field read) as an issue at `path`, never a throw.
 */
function container<T>(expected: string, body: (value: unknown, path: string, issues: ValidationIssue[]) => T): DescribedCheck<T> {
  const check = (value: unknown, path: string, issues: ValidationIssue[]): T => {
    if (depth >= MAX_DEPTH) {
      issues.push(issue(path, expected, `nesting deeper than ${MAX_DEPTH} levels`));
      return NOTHING;
    }
    depth++;
    try {
      return body(value, path, issues);
    } catch {
      issues.push(issue(path, expected, THREW));
      return NOTHING;
    } finally {
      depth--;
    }
  };
  return Object.assign(check, { expected });
}

/** True for a plain object; otherwise pushes the issue that `value` is not the expected one. */
function plainOr(value: unknown, path: string, expected: string, issues: ValidationIssue[]): value is Record<string, unknown> {
  if (isPlainObject(value)) return true;
  issues.push(issue(path, expected, describeReceived(value)));
  return false;
}

/**
 * Reads `source[key]` once; a getter or trap that throws is an issue at the key's path inside
 * `path` (built only then) and gives {@link UNREADABLE}.
 */
function read(source: object, key: string | number, path: string, check: Check<unknown>, issues: ValidationIssue[]): unknown {
  try {
    return (source as Record<string | number, unknown>)[key];
  } catch {
    issues.push(issue(joinPath(path, typeof key === 'number' ? `[${key}]` : segmentOf(key)), expectedOf(check), THREW));
    return UNREADABLE;
  }
}

const UNREADABLE: unique symbol = Symbol('unreadable');

/**
 * An array whose every element passes `check`; returns a new frozen array of the parsed elements.
 * At most `maxLength` elements ({@link MAX_ENTRIES} by default); with `unique`, repeated elements
 * (by `===`) are dropped from the copy, the first one kept.
 *
 * @example
 * ```ts
 * arrayOf(nonEmptyString) // DescribedCheck<readonly string[]>; issues at `path[3]`
 * ```
 */
export function arrayOf<T>(
  check: Check<T>,
  options: { readonly maxLength?: number; readonly unique?: boolean } = {},
): DescribedCheck<readonly T[]> {
  const maxLength = options.maxLength ?? MAX_ENTRIES;
  const unique = options.unique === true;
  const expected = `an array of at most ${maxLength} items, each ${expectedOf(check)}`;
  const checkContainer = container(expected, (value, path, issues): readonly T[] => {
    if (!Array.isArray(value)) {
      issues.push(issue(path, expected, describeReceived(value)));
      return NOTHING;
    }
    const items = value as unknown[];
    const length = items.length;
    if (!(length <= maxLength)) {
      issues.push(issue(path, expected, `an array of length ${String(length)}`));
      return NOTHING;
    }
    const start = issues.length;
    const out: T[] = new Array<T>(length);
    for (let i = 0; i < length; i++) {
      const before = issues.length;
      const raw = read(items, i, path, check, issues);
      if (raw === UNREADABLE) continue;
      const parsed = check(raw, path, issues);
      if (issues.length > before) {
        relocate(issues, before, path, `[${i}]`);
        if (issues.length - start >= MAX_ISSUES) return NOTHING;
      } else {
        out[i] = parsed;
      }
    }
    if (issues.length > start) return NOTHING;
    return Object.freeze(unique ? [...new Set(out)] : out);
  });
  return inheritWriter(checkContainer, check, arrayWriter);
}

/** One field of an {@link object} check, resolved once when the check is built. */
interface Field {
  readonly key: string;
  readonly check: Check<unknown>;
  readonly optional: boolean;
  /** `.key` or `["odd key"]`, appended to the parent's path for issues. */
  readonly segment: string;
}

/**
 * A plain object with exactly the fields of `shape`: each required field present and passing its
 * check, each {@link optional} field absent or passing, and no other own field (an unknown field
 * is an issue at its own path, and its value is never read). Arrays, `null`, class instances and
 * other non-plain objects are rejected. Returns a new frozen object with the parsed fields in
 * declaration order; the admitted type is inferred from the shape.
 *
 * @example
 * ```ts
 * const newBlock = object({ blockHash: hex64, height: nonNegativeInteger });
 * // ObjectCheck<{ readonly blockHash: string; readonly height: number }>
 * ```
 */
export function object<const S extends Shape>(shape: S): ObjectCheck<ObjectType<S>, S> {
  return objectCheck(shape, 'compiled');
}

/**
 * {@link object} without generated code: the loop its compiled form is checked against. @internal
 */
export function interpretedObject<const S extends Shape>(shape: S): ObjectCheck<ObjectType<S>, S> {
  return objectCheck(shape, 'interpreted');
}

/**
 * {@link object} whose field loop and writer must be generated code, made at once: throws where
 * the code cannot be made (no fields, more than 32, code generation
 * forbidden, or generated text that does not compile), where {@link object} falls back to the
 * loop. For tests, which must see the generated code itself, not the fallback. @internal
 */
export function compiledObject<const S extends Shape>(shape: S): ObjectCheck<ObjectType<S>, S> {
  return objectCheck(shape, 'compiled-only');
}

function objectCheck<const S extends Shape>(shape: S, mode: CodeMode): ObjectCheck<ObjectType<S>, S> {
  const keys = Object.keys(shape);
  const fields: readonly Field[] = keys.map((key) => {
    const check = shape[key] as Check<unknown>;
    const optionalOf = (check as Partial<OptionalCheck<unknown>>).optionalOf;
    return { key, check: optionalOf ?? check, optional: optionalOf !== undefined, segment: segmentOf(key) };
  });
  const known = new Set(keys);
  const fieldList = keys.length === 0 ? 'no fields' : `only the fields ${keys.join(', ')}`;
  const expected = keys.length === 0 ? 'an empty object' : `an object { ${keys.join(', ')} }`;
  const unknownFields = (value: object, path: string, issues: ValidationIssue[], start: number): void => {
    for (const key in value) {
      if (issues.length - start >= MAX_ISSUES) break;
      if (!known.has(key) && Object.hasOwn(value, key)) issues.push(issue(fieldPath(path, key), fieldList, 'an unknown field'));
    }
  };
  // Written out on first use: most shapes (options, manifests) are checked a few times at most.
  let fieldsOf: FieldsOf | null = mode === 'compiled-only' ? (compileFields(fields, unknownFields) ?? notCompiled('an object check')) : null;
  const checkObject = Object.assign(
    container(expected, (value, path, issues): ObjectType<S> => {
      if (!plainOr(value, path, expected, issues)) return NOTHING;
      fieldsOf ??= (mode === 'compiled' ? compileFields(fields, unknownFields) : null) ?? genericFields(fields, unknownFields);
      return fieldsOf(value, path, issues) as ObjectType<S>;
    }),
    { shape },
  );
  const write = objectWriter(fields, mode);
  return write === null ? checkObject : withWriter(checkObject, write);
}

/** Reads, checks and copies the fields of a plain object (see {@link object}); NOTHING when an issue was found. */
type FieldsOf = (value: object, path: string, issues: ValidationIssue[]) => object;

/** Pushes an issue for each own key of `value` that is not a field (from `start` on, at most {@link MAX_ISSUES}). */
type UnknownFields = (value: object, path: string, issues: ValidationIssue[], start: number) => void;

function missingField(issues: ValidationIssue[], path: string, field: Field): void {
  issues.push(issue(joinPath(path, field.segment), expectedOf(field.check), 'nothing (required field missing)'));
}

function undefinedField(issues: ValidationIssue[], path: string, field: Field): void {
  issues.push(issue(joinPath(path, field.segment), `${expectedOf(field.check)} or no field at all`, 'undefined (omit optional fields instead)'));
}

/** The fields, one by one in a loop: what {@link compileFields} does where code cannot be generated. */
function genericFields(fields: readonly Field[], unknownFields: UnknownFields): FieldsOf {
  const count = fields.length;
  return (value, path, issues) => {
    const start = issues.length;
    const out: Record<string, unknown> = {};
    let present = 0;
    for (let i = 0; i < count; i++) {
      const field = fields[i] as Field;
      if (!Object.hasOwn(value, field.key)) {
        if (!field.optional) missingField(issues, path, field);
        continue;
      }
      present++;
      const before = issues.length;
      const raw = read(value, field.key, path, field.check, issues);
      if (raw === UNREADABLE) continue;
      if (raw === undefined && field.optional) {
        undefinedField(issues, path, field);
        continue;
      }
      const parsed = field.check(raw, path, issues);
      if (issues.length > before) relocate(issues, before, path, field.segment);
      else setField(out, field.key, parsed);
    }
    // Unknown fields: the common case (every own key is a field) is told by counting alone.
    let own = 0;
    for (const key in value) if (Object.hasOwn(value, key)) own++;
    if (own !== present) unknownFields(value, path, issues, start);
    if (issues.length > start) return NOTHING;
    return Object.freeze(out);
  };
}

/** Stands for a field not (validly) present while {@link compileFields}' code reads an object. */
const ABSENT: unique symbol = Symbol('absent');

/**
 * {@link genericFields} written out for one shape: the same reads, checks and issues in the same
 * order, with a variable per field, a call site per field check (each learns its own callee, where
 * the loop's one call site sees every check of every shape) and the copy built by an object literal
 * when every field is present (one allocation of a fixed shape, where field-by-field stores under
 * variable keys cost a lookup each). Null when code cannot be generated (a runtime that forbids
 * it, or more fields than are worth writing out).
 */
function compileFields(fields: readonly Field[], unknownFields: UnknownFields): FieldsOf | null {
  const count = fields.length;
  if (count === 0 || count > 32) return null;
  const key = (i: number): string => JSON.stringify((fields[i] as Field).key);
  // The shape's keys are written as JSON string literals: nothing else of the input.
  const lines: string[] = [
    'const { fields, hasOwn, read, UNREADABLE, relocate, missingField, undefinedField, unknownFields, setField, freeze, NOTHING, ABSENT } = h;',
  ];
  for (let i = 0; i < count; i++) lines.push(`const f${i} = fields[${i}], c${i} = f${i}.check;`);
  lines.push('return function fieldsOf(value, path, issues) {');
  lines.push('  const start = issues.length;');
  lines.push('  let present = 0, before = 0, raw, parsed;');
  lines.push(`  let ${fields.map((_, i) => `v${i} = ABSENT`).join(', ')};`);
  for (let i = 0; i < count; i++) {
    const optional = (fields[i] as Field).optional;
    lines.push(`  if (hasOwn(value, ${key(i)})) {`);
    lines.push('    present++;');
    lines.push('    before = issues.length;');
    lines.push(`    raw = read(value, ${key(i)}, path, c${i}, issues);`);
    if (optional) lines.push(`    if (raw === undefined) undefinedField(issues, path, f${i});`);
    lines.push(`    ${optional ? 'else ' : ''}if (raw !== UNREADABLE) {`);
    lines.push(`      parsed = c${i}(raw, path, issues);`);
    lines.push(`      if (issues.length > before) relocate(issues, before, path, f${i}.segment);`);
    lines.push(`      else v${i} = parsed;`);
    lines.push('    }');
    lines.push(optional ? '  }' : `  } else missingField(issues, path, f${i});`);
  }
  lines.push('  let own = 0;');
  lines.push('  for (const key in value) if (hasOwn(value, key)) own++;');
  lines.push('  if (own !== present) unknownFields(value, path, issues, start);');
  lines.push('  if (issues.length > start) return NOTHING;');
  // A quoted `__proto__` key in a literal sets the prototype; a computed one makes an own field.
  const literal = fields.map((field, i) => `${field.key === '__proto__' ? `[${key(i)}]` : key(i)}: v${i}`).join(', ');
  lines.push(`  if (${fields.map((_, i) => `v${i} !== ABSENT`).join(' && ')}) return freeze({ ${literal} });`);
  lines.push('  const out = {};');
  for (let i = 0; i < count; i++) lines.push(`  if (v${i} !== ABSENT) setField(out, ${key(i)}, v${i});`);
  lines.push('  return freeze(out);');
  lines.push('};');
  const helpers = {
    fields,
    hasOwn: Object.hasOwn,
    read,
    UNREADABLE,
    relocate,
    missingField,
    undefinedField,
    unknownFields,
    setField,
    freeze: Object.freeze,
    NOTHING,
    ABSENT,
  };
  return generated<typeof helpers, FieldsOf>('h', lines, helpers);
}

/**
 * A plain object used as a dictionary: any keys (at most `maxKeys`, {@link MAX_ENTRIES} by
 * default), every value passing `check`. Returns a new frozen object (with `Object.prototype`,
 * whatever the input's: a `__proto__` key is copied as an own field, never as a prototype).
 *
 * @example
 * ```ts
 * recordOf(string)  // DescribedCheck<Readonly<Record<string, string>>>
 * recordOf(scalar)  // statistics such as { deleted: 42, vacuumed: true }
 * ```
 */
export function recordOf<T>(check: Check<T>, options: { readonly maxKeys?: number } = {}): DescribedCheck<Readonly<Record<string, T>>> {
  const maxKeys = options.maxKeys ?? MAX_ENTRIES;
  const expected = `an object of at most ${maxKeys} keys whose values are each ${expectedOf(check)}`;
  const checkContainer = container(expected, (value, path, issues): Readonly<Record<string, T>> => {
    if (!plainOr(value, path, expected, issues)) return NOTHING;
    const start = issues.length;
    const out: Record<string, T> = {};
    let keys = 0;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (++keys > maxKeys) {
        issues.push(issue(path, expected, `an object of more than ${maxKeys} keys`));
        return NOTHING;
      }
      const before = issues.length;
      const raw = read(value, key, path, check, issues);
      if (raw === UNREADABLE) continue;
      const parsed = check(raw, path, issues);
      if (issues.length > before) {
        relocate(issues, before, path, segmentOf(key));
        if (issues.length - start >= MAX_ISSUES) return NOTHING;
      } else {
        setField(out, key, parsed);
      }
    }
    if (issues.length > start) return NOTHING;
    return Object.freeze(out);
  });
  return inheritWriter(checkContainer, check, recordWriter);
}

/** Any JSON value, as the result type of {@link jsonValue}. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Any value that survives a JSON round trip unchanged: `null`, booleans, finite numbers, strings,
 * and arrays and plain objects of those, returned as a deep-frozen copy. Refused: `undefined`,
 * NaN and the infinities, BigInt, symbols, functions, class instances (Date, Map, typed arrays),
 * nesting deeper than {@link MAX_DEPTH} (so cycles too), more than {@link MAX_JSON_NODES} values in
 * all, more than {@link MAX_ENTRIES} entries in one array or object. One issue at most, at the
 * first offending place. For free-form data such as options passed through to a factory.
 */
export const jsonValue: DescribedCheck<JsonValue> = Object.assign(
  (value: unknown, path: string, issues: ValidationIssue[]): JsonValue => {
    const walk: JsonWalk = { budget: MAX_JSON_NODES, failure: null };
    const parsed = copyJson(value, depth, walk);
    if (walk.failure !== null) {
      issues.push(issue(joinPath(path, walk.failure.at), JSON_EXPECTED, walk.failure.got));
      return null;
    }
    return parsed;
  },
  { expected: 'a JSON value' },
);

const JSON_EXPECTED = 'a JSON value';

interface JsonWalk {
  budget: number;
  failure: { at: string; got: string } | null;
}

/** Copies a JSON value; on failure records where (a path relative to the root) and what. */
function copyJson(value: unknown, level: number, walk: JsonWalk): JsonValue {
  const fail = (got: string, at = ''): null => {
    walk.failure = { at, got };
    return null;
  };
  if (--walk.budget < 0) return fail(`more than ${MAX_JSON_NODES} values`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : fail(describeReceived(value));
    case 'object':
      break;
    default:
      return fail(describeReceived(value));
  }
  if (value === null) return null;
  if (level >= MAX_DEPTH) return fail(`nesting deeper than ${MAX_DEPTH} levels`);
  let at = '';
  try {
    if (Array.isArray(value)) {
      const items = value as unknown[];
      const length = items.length;
      if (!(length <= MAX_ENTRIES)) return fail(`an array of length ${String(length)}`);
      const out: JsonValue[] = new Array<JsonValue>(length);
      for (let i = 0; i < length; i++) {
        at = `[${i}]`;
        out[i] = copyJson(items[i], level + 1, walk);
        if (walk.failure !== null) return prefixFailure(walk, at);
      }
      return Object.freeze(out);
    }
    if (!isPlainObject(value)) return fail(describeReceived(value));
    const record = value as Record<string, unknown>;
    const out: Record<string, JsonValue> = {};
    let keys = 0;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (++keys > MAX_ENTRIES) return fail(`an object of more than ${MAX_ENTRIES} keys`);
      at = segmentOf(key);
      setField(out, key, copyJson(record[key], level + 1, walk));
      if (walk.failure !== null) return prefixFailure(walk, at);
    }
    return Object.freeze(out);
  } catch {
    return fail(THREW, at);
  }
}

function prefixFailure(walk: JsonWalk, segment: string): null {
  const failure = walk.failure as { at: string; got: string };
  failure.at = segment + failure.at;
  return null;
}

// ---- paths ----------------------------------------------------------------------------------

/** Sets an own enumerable field; `__proto__` through defineProperty, so no prototype changes. */
function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Inserts `segment` after `path` in the paths of the issues from index `from` on. A child check is
 * called with its parent's path, so that success builds no path string; on failure its issues are
 * moved to the child's path here.
 */
function relocate(issues: ValidationIssue[], from: number, path: string, segment: string): void {
  const base = joinPath(path, segment);
  for (let i = from; i < issues.length; i++) {
    const found = issues[i] as ValidationIssue;
    const rest = found.path.startsWith(path) ? found.path.slice(path.length) : '';
    // At the root a child's field path has no leading dot (`name`): put it back before nesting it.
    const tail = path === '' && rest !== '' && !rest.startsWith('[') ? `.${rest}` : rest;
    issues[i] = { path: base + tail, expected: found.expected, got: found.got, message: found.message };
  }
}

/**
 * The path of field `key` inside the value at `path`: `payload.height`, `payload["odd key"]`,
 * `name` at the root (`''`).
 */
export function fieldPath(path: string, key: string): string {
  return joinPath(path, segmentOf(key));
}

/**
 * An issue found in a value nested at `path` (whose paths start at that value's root), as seen
 * from the outer value: `nestIssue('script[0].event', { path: 'payload.height', ... })` is at
 * `script[0].event.payload.height`.
 */
export function nestIssue(path: string, found: ValidationIssue): ValidationIssue {
  const inner = found.path;
  const tail = inner === '' || inner.startsWith('[') ? inner : `.${inner}`;
  return { path: joinPath(path, tail), expected: found.expected, got: found.got, message: found.message };
}

/** `path` followed by `segment`; at the root (`''`), a field segment loses its leading dot. */
function joinPath(path: string, segment: string): string {
  if (path === '' && segment.startsWith('.')) return segment.slice(1);
  return path + segment;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `.field` for identifier keys, `["odd key"]` otherwise (cut at 40 characters). */
function segmentOf(key: string): string {
  if (IDENTIFIER.test(key)) return key.length > MAX_QUOTED ? `.${key.slice(0, MAX_QUOTED)}...` : `.${key}`;
  return `[${JSON.stringify(key.length > MAX_QUOTED ? `${key.slice(0, MAX_QUOTED)}...` : key)}]`;
}
