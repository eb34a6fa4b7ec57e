import { issue } from '../kernel/checks.js';
import { describeValue, type ValidationIssue } from '../kernel/errors.js';
import { nodeCatalogue } from '../events/node-catalogue.js';

/**
 * The options an actor's factory takes, declared by the actor next to its factory so that a
 * scenario's `options` are checked before anything runs: an unknown key (a typo) or a value of the
 * wrong kind is an `invalid-scenario` issue naming `modules[i].options.<key>`. Every option is
 * optional (the factory has a default for each); `name` is never an option (a scenario module's
 * `name` is passed to the factory).
 *
 * An actor file exports the schema of its default factory as `optionsSchema`, and that of a
 * named factory `x` as `xOptionsSchema`:
 *
 * @example
 * ```ts
 * export const optionsSchema = { mailboxCapacity: 'positive integer', workMs: 'non-negative number' } as const;
 * export default function myModule(options: { name?: string; mailboxCapacity?: number; workMs?: number } = {}) { ... }
 * ```
 */
export type ActorOptionsSchema = Readonly<Record<string, OptionType>>;

/** What one option takes. */
export type OptionType =
  /** A non-empty string. */
  | 'string'
  | 'boolean'
  | 'positive integer'
  | 'non-negative integer'
  | 'positive number'
  | 'non-negative number'
  /** An array of strings. */
  | 'strings'
  /** An array of event types of the node catalogue. */
  | 'event types'
  /** A plain object passed on as it is, for the factory's own checks (a restart policy, checked by `defineModule`). */
  | 'object'
  /** One of the given strings. */
  | { readonly oneOf: readonly string[] }
  /** An object with these (optional) fields, checked in turn. */
  | { readonly fields: ActorOptionsSchema };

/** The name of the export that holds the options schema of the factory exported as `exportName`. */
export function schemaExportOf(exportName: string): string {
  return exportName === 'default' ? 'optionsSchema' : `${exportName}OptionsSchema`;
}

const LEAVES: Readonly<Record<Exclude<OptionType, object>, { readonly expected: string; readonly accepts: (v: unknown) => boolean }>> = {
  string: { expected: 'a non-empty string', accepts: (v) => typeof v === 'string' && v.length > 0 },
  boolean: { expected: 'a boolean', accepts: (v) => typeof v === 'boolean' },
  'positive integer': { expected: 'a positive integer', accepts: (v) => Number.isSafeInteger(v) && (v as number) >= 1 },
  'non-negative integer': { expected: 'a non-negative integer', accepts: (v) => Number.isSafeInteger(v) && (v as number) >= 0 },
  'positive number': { expected: 'a positive number', accepts: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 },
  'non-negative number': { expected: 'a non-negative number', accepts: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 },
  strings: { expected: 'an array of strings', accepts: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string') },
  'event types': {
    expected: 'an array of event types of the node catalogue',
    accepts: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string' && nodeCatalogue.has(s)),
  },
  object: { expected: 'an object', accepts: isPlainObject },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a schema an actor file exported (it is foreign data too): an issue at `path` when it is
 * not one, else null.
 */
export function schemaProblem(schema: unknown, path: string): ValidationIssue | null {
  const bad = (where: string, got: unknown): ValidationIssue =>
    issue(path, `an options schema (option name to ${Object.keys(LEAVES).join(', ')}, { oneOf }, or { fields })`, `${describeValue(got)} at ${where}`);
  const walk = (value: unknown, where: string): ValidationIssue | null => {
    if (!isPlainObject(value)) return bad(where, value);
    for (const [key, type] of Object.entries(value)) {
      const at = `${where}.${key}`;
      if (typeof type === 'string') {
        if (!(type in LEAVES)) return bad(at, type);
      } else if (isPlainObject(type) && Array.isArray(type.oneOf) && Object.keys(type).length === 1) {
        if (!type.oneOf.every((s) => typeof s === 'string')) return bad(at, type.oneOf);
      } else if (isPlainObject(type) && Object.keys(type).length === 1 && 'fields' in type) {
        const inner = walk(type.fields, `${at}.fields`);
        if (inner !== null) return inner;
      } else {
        return bad(at, type);
      }
    }
    return null;
  };
  return walk(schema, 'optionsSchema');
}

/**
 * Checks a scenario module's `options` against its actor's schema (one {@link schemaProblem}
 * found no fault with), pushing one issue per unknown key or bad value, each at its own path
 * (`modules[3].options.mailboxCapacty: expected one of the options workMs, mailboxCapacity,
 * subscribe, got an unknown option`).
 */
export function checkActorOptions(schema: ActorOptionsSchema, options: unknown, path: string, issues: ValidationIssue[]): void {
  if (!isPlainObject(options)) {
    issues.push(issue(path, 'an object', describeValue(options)));
    return;
  }
  const known = Object.keys(schema);
  for (const [key, value] of Object.entries(options)) {
    const at = `${path}.${key}`;
    const type = schema[key];
    if (type === undefined) {
      issues.push(issue(at, known.length === 0 ? 'no options' : `one of the options ${known.join(', ')}`, 'an unknown option'));
    } else if (typeof type === 'string') {
      const leaf = LEAVES[type];
      if (!leaf.accepts(value)) issues.push(issue(at, leaf.expected, describeValue(value)));
    } else if ('oneOf' in type) {
      if (typeof value !== 'string' || !type.oneOf.includes(value)) {
        issues.push(issue(at, `one of ${type.oneOf.join(', ')}`, describeValue(value)));
      }
    } else {
      checkActorOptions(type.fields, value, at, issues);
    }
  }
}
