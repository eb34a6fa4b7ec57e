/**
 * Check combinators: small run-time validators for event payloads (and any other untrusted value),
 * each a {@link Check} whose admitted type is inferred, so that a schema built from them is checked
 * against the catalogue's payload types at compile time.
 *
 * They are built for the publish hot path: a value that passes allocates nothing (no closures,
 * arrays or strings are made per call; paths and messages are built only for issues). Objects are
 * strict: a payload with a field its schema does not name is rejected, because a catalogue is a
 * trust boundary and a misspelt optional field (`timeoutSecs`) must not pass silently.
 *
 * @example
 * ```ts
 * const checkPing = object({ target: nonEmptyString, count: nonNegativeInteger, note: optional(string) });
 * const issues: ValidationIssue[] = [];
 * checkPing({ target: 'a', count: -1 }, 'payload', issues);
 * // issues: [{ path: 'payload.count', message: 'expected a non-negative safe integer, got number -1' }]
 * ```
 */
import type { ValidationIssue } from '../kernel/errors.js';
import type { Check } from './catalogue.js';

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

const MAX_QUOTED = 40;

/**
 * Describes a received value for "expected X, got Y" messages: its type and, for scalars, its
 * value (strings JSON-quoted and cut at 40 characters, so control characters cannot reach a log).
 */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'string':
      return value.length > MAX_QUOTED
        ? `string ${JSON.stringify(value.slice(0, MAX_QUOTED))}... (length ${value.length})`
        : `string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'bigint':
      return `bigint ${String(value)}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return isPlainObject(value) ? 'an object' : `an instance of ${constructorName(value)}`;
  }
}

function constructorName(value: object): string {
  const ctor: unknown = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor;
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'a class';
}

/** True for `{...}` literals, `JSON.parse` results and `Object.create(null)`; false for arrays, class instances, dates. */
export function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Makes a described check from a predicate (the predicate must not allocate). */
function leaf<T>(expected: string, accepts: (value: unknown) => boolean): DescribedCheck<T> {
  const check = (value: unknown, path: string, issues: ValidationIssue[]): void => {
    if (!accepts(value)) issues.push({ path, message: `expected ${expected}, got ${describeReceived(value)}` });
  };
  return Object.assign(check, { expected });
}

/** Any string, the empty string included. */
export const string: DescribedCheck<string> = leaf('a string', (v) => typeof v === 'string');

/** A string of at least one character. */
export const nonEmptyString: DescribedCheck<string> = leaf('a non-empty string', (v) => typeof v === 'string' && v.length > 0);

/** A 64-character lowercase hexadecimal string (a block or transaction hash). */
export const hex64: DescribedCheck<string> = leaf('a 64-character lowercase hex string', isHex64);

function isHex64(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    // 0-9 or a-f
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** A safe integer >= 0 (counts, heights, sizes, seconds). */
export const nonNegativeInteger: DescribedCheck<number> = leaf(
  'a non-negative safe integer',
  (v) => Number.isSafeInteger(v) && (v as number) >= 0,
);

/** Any number except `NaN` and the infinities. */
export const finiteNumber: DescribedCheck<number> = leaf('a finite number', (v) => Number.isFinite(v));

/** A finite number >= 0 (durations, amounts that may be fractional). */
export const nonNegativeNumber: DescribedCheck<number> = leaf(
  'a finite number >= 0',
  (v) => Number.isFinite(v) && (v as number) >= 0,
);

/** A finite number from 0 to 100 inclusive. */
export const percent: DescribedCheck<number> = leaf(
  'a percentage from 0 to 100',
  (v) => Number.isFinite(v) && (v as number) >= 0 && (v as number) <= 100,
);

/** `true` or `false`. */
export const boolean: DescribedCheck<boolean> = leaf('a boolean', (v) => typeof v === 'boolean');

/** A string, a finite number or a boolean: a JSON scalar other than `null`. */
export const scalar: DescribedCheck<string | number | boolean> = leaf(
  'a string, a finite number or a boolean',
  (v) => typeof v === 'string' || typeof v === 'boolean' || Number.isFinite(v),
);

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
  return Object.assign(
    leaf<T[number]>(expected, (v) => (allowed as readonly unknown[]).includes(v)),
    { values: allowed },
  );
}

/**
 * An optional field of an {@link object}: when absent, nothing is checked; when present, its value
 * must pass `check`, and a field present with the value `undefined` is rejected (the payload types
 * are written under `exactOptionalPropertyTypes`, and a field set to `undefined` is almost always a
 * bug; over JSON it would vanish anyway). Used on its own, outside an object, it admits `undefined`.
 */
export function optional<T>(check: Check<T>): OptionalCheck<T> {
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): void => {
    if (value !== undefined) check(value, path, issues);
  };
  return Object.assign(fn, { optionalOf: check, expected: `${expectedOf(check)} or nothing` });
}

/**
 * An array whose every element passes `check`.
 *
 * @example
 * ```ts
 * arrayOf(nonEmptyString) // DescribedCheck<readonly string[]>; issues at `path[3]`
 * ```
 */
export function arrayOf<T>(check: Check<T>, options: { readonly maxLength?: number } = {}): DescribedCheck<readonly T[]> {
  const maxLength = options.maxLength ?? Number.POSITIVE_INFINITY;
  const expected =
    maxLength === Number.POSITIVE_INFINITY
      ? `an array of ${expectedOf(check)}`
      : `an array of at most ${maxLength} ${expectedOf(check)}`;
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): void => {
    if (!Array.isArray(value) || value.length > maxLength) {
      issues.push({ path, message: `expected ${expected}, got ${describeReceived(value)}` });
      return;
    }
    const start = issues.length;
    for (let i = 0; i < value.length; i++) {
      const before = issues.length;
      check(value[i], path, issues);
      if (issues.length > before) {
        relocate(issues, before, path, `[${i}]`);
        if (issues.length - start >= MAX_ISSUES) return;
      }
    }
  };
  return Object.assign(fn, { expected });
}

/**
 * A plain object with exactly the fields of `shape`: each required field present and passing its
 * check, each {@link optional} field absent or passing, and no other own field (an unknown field
 * is an issue at its own path). Arrays, `null`, class instances and other non-plain objects are
 * rejected. The admitted type is inferred from the shape.
 *
 * @example
 * ```ts
 * const newBlock = object({ blockHash: hex64, height: nonNegativeInteger });
 * // ObjectCheck<{ readonly blockHash: string; readonly height: number }>
 * ```
 */
export function object<const S extends Shape>(shape: S): ObjectCheck<ObjectType<S>, S> {
  const keys = Object.keys(shape);
  const fields = keys.map((key) => {
    const check = shape[key] as Check<unknown>;
    const optionalOf = (check as Partial<OptionalCheck<unknown>>).optionalOf;
    return { key, check: optionalOf ?? check, optional: optionalOf !== undefined, segment: segmentOf(key) };
  });
  const known = new Set(keys);
  const fieldList = keys.length === 0 ? 'no fields' : `only ${keys.join(', ')}`;
  const expected = keys.length === 0 ? 'an empty object' : `an object { ${keys.join(', ')} }`;
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): void => {
    if (!isPlainObject(value)) {
      issues.push({ path, message: `expected ${expected}, got ${describeReceived(value)}` });
      return;
    }
    const record = value as Record<string, unknown>;
    const start = issues.length;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as (typeof fields)[number];
      if (!Object.hasOwn(record, field.key)) {
        if (!field.optional) {
          issues.push({ path: path + field.segment, message: `required field missing, expected ${expectedOf(field.check)}` });
        }
        continue;
      }
      const fieldValue = record[field.key];
      if (fieldValue === undefined && field.optional) {
        issues.push({
          path: path + field.segment,
          message: `expected ${expectedOf(field.check)} or no field at all, got undefined (omit optional fields instead)`,
        });
        continue;
      }
      const before = issues.length;
      field.check(fieldValue, path, issues);
      if (issues.length > before) relocate(issues, before, path, field.segment);
    }
    for (const key in record) {
      if (issues.length - start >= MAX_ISSUES) return;
      if (!known.has(key) && Object.hasOwn(record, key)) {
        issues.push({ path: path + segmentOf(key), message: `unknown field, expected ${fieldList}` });
      }
    }
  };
  return Object.assign(fn, { expected, shape });
}

/**
 * A plain object used as a dictionary: any keys, every value passing `check`.
 *
 * @example
 * ```ts
 * recordOf(string)  // DescribedCheck<Readonly<Record<string, string>>>
 * recordOf(scalar)  // statistics such as { deleted: 42, vacuumed: true }
 * ```
 */
export function recordOf<T>(check: Check<T>): DescribedCheck<Readonly<Record<string, T>>> {
  const expected = `an object whose values are each ${expectedOf(check)}`;
  const fn = (value: unknown, path: string, issues: ValidationIssue[]): void => {
    if (!isPlainObject(value)) {
      issues.push({ path, message: `expected ${expected}, got ${describeReceived(value)}` });
      return;
    }
    const record = value as Record<string, unknown>;
    const start = issues.length;
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const before = issues.length;
      check(record[key], path, issues);
      if (issues.length > before) {
        relocate(issues, before, path, segmentOf(key));
        if (issues.length - start >= MAX_ISSUES) return;
      }
    }
  };
  return Object.assign(fn, { expected });
}

/** What a check expects, for messages; `a valid value` for a check that cannot say. */
export function expectedOf(check: Check<unknown>): string {
  const expected = (check as Partial<DescribedCheck<unknown>>).expected;
  return typeof expected === 'string' ? expected : 'a valid value';
}

/**
 * Inserts `segment` after `path` in the paths of the issues from index `from` on. A child check is
 * called with its parent's path, so that success builds no path string; on failure its issues are
 * moved to the child's path here.
 */
function relocate(issues: ValidationIssue[], from: number, path: string, segment: string): void {
  for (let i = from; i < issues.length; i++) {
    const issue = issues[i] as ValidationIssue;
    const rest = issue.path.startsWith(path) ? issue.path.slice(path.length) : '';
    issues[i] = { path: path + segment + rest, message: issue.message };
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `.field` for identifier keys, `["odd key"]` otherwise (cut at 40 characters). */
function segmentOf(key: string): string {
  if (IDENTIFIER.test(key)) return key.length > MAX_QUOTED ? `.${key.slice(0, MAX_QUOTED)}...` : `.${key}`;
  return `[${JSON.stringify(key.length > MAX_QUOTED ? `${key.slice(0, MAX_QUOTED)}...` : key)}]`;
}
