/**
 * The declarative filter of a process or worker module's manifest: conditions on payload fields,
 * per event type, evaluated by the node before it offers an event to the module. An event the
 * filter declines is counted `filtered` in the module's delivery statistics and never crosses the
 * boundary. Being data, not code, it runs in the node without running anything of the module's.
 */
import { issue } from '../kernel/checks.js';
import { describeValue, type ValidationIssue } from '../kernel/errors.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';

/** A JSON primitive a condition compares with. */
export type FilterValue = string | number | boolean | null;

/**
 * A condition on one payload field. A bare value means `{ eq: value }`; an object holds one or more
 * operators, all of which must hold:
 *
 * | operator | holds when the field's value |
 * |---|---|
 * | `eq`, `ne` | is (is not) this primitive (`===`) |
 * | `in` | is one of these primitives (1 to {@link MAX_FILTER_LIST} of them) |
 * | `gt`, `gte`, `lt`, `lte` | is a number, above / at least / below / at most this finite number |
 * | `prefix` | is a string starting with this string |
 *
 * A field the payload does not have fails every condition.
 */
export type FieldCondition =
  | FilterValue
  | {
      readonly eq?: FilterValue;
      readonly ne?: FilterValue;
      readonly in?: readonly FilterValue[];
      readonly gt?: number;
      readonly gte?: number;
      readonly lt?: number;
      readonly lte?: number;
      readonly prefix?: string;
    };

/**
 * Per event type, conditions on that type's payload fields (top-level fields), all of which must
 * hold for the module to receive the event. Types not listed are not filtered.
 *
 * @example
 * ```ts
 * filter: {
 *   NewBlock: { height: { gte: 800_000 } },
 *   PeerConnected: { transportType: { in: ['tcp', 'quic'] }, peerAddr: { prefix: '10.' } },
 *   HealthCheck: { nodeHealthy: false },
 * }
 * ```
 */
export type EventFilterSpec<Map extends EventMap> = {
  readonly [T in EventTypeOf<Map>]?: { readonly [F in keyof Map[T] & string]?: FieldCondition };
};

/** Most values in one `in` list. */
export const MAX_FILTER_LIST = 1024;
/** Most field conditions for one event type. */
export const MAX_FILTER_FIELDS = 64;

type Test = (value: unknown) => boolean;
const OPERATORS = ['eq', 'ne', 'in', 'gt', 'gte', 'lt', 'lte', 'prefix'] as const;
type Operator = (typeof OPERATORS)[number];

const isPrimitive = (v: unknown): v is FilterValue =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function isRecord(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** One operator's test, or undefined (an issue pushed) when its operand is not of the right kind. */
function operatorTest(op: Operator, operand: unknown, path: string, issues: ValidationIssue[]): Test | undefined {
  const bad = (expected: string): undefined => {
    issues.push(issue(path, expected, describeValue(operand)));
    return undefined;
  };
  switch (op) {
    case 'eq':
    case 'ne': {
      if (!isPrimitive(operand)) return bad('a string, finite number, boolean or null');
      return op === 'eq' ? (v) => v === operand : (v) => v !== operand;
    }
    case 'in': {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > MAX_FILTER_LIST || !operand.every(isPrimitive)) {
        return bad(`an array of 1 to ${MAX_FILTER_LIST} strings, finite numbers, booleans or nulls`);
      }
      const set = new Set<unknown>(operand);
      return (v) => set.has(v);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof operand !== 'number' || !Number.isFinite(operand)) return bad('a finite number');
      const bound = operand;
      if (op === 'gt') return (v) => typeof v === 'number' && v > bound;
      if (op === 'gte') return (v) => typeof v === 'number' && v >= bound;
      if (op === 'lt') return (v) => typeof v === 'number' && v < bound;
      return (v) => typeof v === 'number' && v <= bound;
    }
    case 'prefix': {
      if (typeof operand !== 'string') return bad('a string');
      return (v) => typeof v === 'string' && v.startsWith(operand);
    }
  }
}

/** The test of one field condition, or undefined with issues. */
function conditionTest(condition: unknown, path: string, issues: ValidationIssue[]): Test | undefined {
  if (isPrimitive(condition)) return (v) => v === condition;
  if (!isRecord(condition)) {
    issues.push(issue(path, `a value or an object of operators (${OPERATORS.join(', ')})`, describeValue(condition)));
    return undefined;
  }
  const keys = Object.keys(condition);
  if (keys.length === 0) {
    issues.push(issue(path, `at least one operator (${OPERATORS.join(', ')})`, 'an empty object'));
    return undefined;
  }
  const tests: Test[] = [];
  for (const key of keys) {
    if (!(OPERATORS as readonly string[]).includes(key)) {
      issues.push(issue(`${path}.${key}`, `one of ${OPERATORS.join(', ')}`, 'an unknown operator'));
      continue;
    }
    const test = operatorTest(key as Operator, condition[key], `${path}.${key}`, issues);
    if (test !== undefined) tests.push(test);
  }
  if (tests.length !== keys.length) return undefined;
  return tests.length === 1 ? tests[0] : (v) => tests.every((test) => test(v));
}

/**
 * Validates a manifest's `filter` (issues pushed under `filter.<Type>.<field>...`) and compiles it
 * into the predicate the node calls before offering an event. Returns undefined when there is no
 * filter or it has issues. The predicate never throws: a payload that cannot be read is declined.
 */
export function compileEventFilter<Map extends EventMap>(
  spec: unknown,
  subscribed: readonly string[],
  issues: ValidationIssue[],
): ((event: EventOf<Map>) => boolean) | undefined {
  if (spec === undefined) return undefined;
  if (!isRecord(spec)) {
    issues.push(issue('filter', 'an object { EventType: { field: condition } }', describeValue(spec)));
    return undefined;
  }
  const before = issues.length;
  const byType = new Map<string, readonly (readonly [string, Test])[]>();
  for (const [type, fields] of Object.entries(spec)) {
    const path = `filter.${type}`;
    if (!subscribed.includes(type)) {
      issues.push(issue(path, `an event type the module subscribes to (${subscribed.join(', ') || 'none'})`, JSON.stringify(type)));
      continue;
    }
    if (!isRecord(fields)) {
      issues.push(issue(path, 'an object { field: condition }', describeValue(fields)));
      continue;
    }
    const names = Object.keys(fields);
    if (names.length === 0 || names.length > MAX_FILTER_FIELDS) {
      issues.push(issue(path, `1 to ${MAX_FILTER_FIELDS} field conditions`, String(names.length)));
      continue;
    }
    const tests: (readonly [string, Test])[] = [];
    for (const field of names) {
      const test = conditionTest(fields[field], `${path}.${field}`, issues);
      if (test !== undefined) tests.push([field, test]);
    }
    byType.set(type, tests);
  }
  if (issues.length > before || byType.size === 0) return undefined;
  return (event) => {
    const tests = byType.get(event.type);
    if (tests === undefined) return true;
    try {
      const payload = event.payload as Record<string, unknown>;
      for (const [field, test] of tests) {
        if (!Object.hasOwn(payload, field) || !test(payload[field])) return false;
      }
      return true;
    } catch {
      return false;
    }
  };
}
