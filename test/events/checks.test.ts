import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/events/catalogue.js';
import {
  MAX_ISSUES,
  arrayOf,
  boolean,
  describeReceived,
  expectedOf,
  finiteNumber,
  hex64,
  isPlainObject,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  percent,
  recordOf,
  scalar,
  string,
} from '../../src/events/checks.js';
import type { ValidationIssue } from '../../src/kernel/errors.js';

function run(check: Check<unknown>, value: unknown, path = 'payload'): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  check(value, path, issues);
  return issues;
}

function accepts(check: Check<unknown>, values: readonly unknown[]): void {
  for (const value of values) expect(run(check, value), describeReceived(value)).toEqual([]);
}

function rejects(check: Check<unknown>, values: readonly unknown[]): void {
  for (const value of values) expect(run(check, value), describeReceived(value)).toHaveLength(1);
}

describe('leaf checks', () => {
  it('string accepts any string, the empty one included', () => {
    accepts(string, ['', 'x', 'ü'.repeat(100)]);
    rejects(string, [1, null, undefined, ['x'], { x: 1 }, true]);
  });

  it('nonEmptyString rejects the empty string', () => {
    accepts(nonEmptyString, ['x', ' ']);
    rejects(nonEmptyString, ['', 0, null]);
  });

  it('hex64 accepts exactly 64 lowercase hex characters', () => {
    accepts(hex64, ['0'.repeat(64), 'ab'.repeat(32), '0123456789abcdef'.repeat(4)]);
    rejects(hex64, ['AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'g'.repeat(64), ` ${'a'.repeat(63)}`, 64, null]);
  });

  it('nonNegativeInteger accepts safe integers >= 0 only', () => {
    accepts(nonNegativeInteger, [0, 1, Number.MAX_SAFE_INTEGER]);
    rejects(nonNegativeInteger, [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1', 1n, null]);
  });

  it('finiteNumber and nonNegativeNumber reject NaN and the infinities', () => {
    accepts(finiteNumber, [0, -1.5, Number.MAX_VALUE]);
    rejects(finiteNumber, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1']);
    accepts(nonNegativeNumber, [0, 0.25, 1e300]);
    rejects(nonNegativeNumber, [-0.001, Number.NaN, Number.POSITIVE_INFINITY]);
  });

  it('percent accepts 0..100 inclusive', () => {
    accepts(percent, [0, 12.5, 100]);
    rejects(percent, [-0.1, 100.0001, Number.NaN, '50']);
  });

  it('boolean accepts only true and false', () => {
    accepts(boolean, [true, false]);
    rejects(boolean, ['true', 0, 1, null]);
  });

  it('scalar accepts strings, finite numbers and booleans', () => {
    accepts(scalar, ['', 1.5, false]);
    rejects(scalar, [null, Number.NaN, {}, []]);
  });

  it('oneOf accepts its literals only and exposes them', () => {
    const urgency = oneOf('low', 'medium', 'high');
    expect(urgency.values).toEqual(['low', 'medium', 'high']);
    accepts(urgency, ['low', 'high']);
    rejects(urgency, ['LOW', 'urgent', '', 0, null]);
    expect(run(urgency, 'urgent')[0]?.message).toBe('expected one of "low", "medium", "high", got string "urgent"');
  });
});

describe('messages', () => {
  it('say what was expected and what came', () => {
    expect(run(nonNegativeInteger, 'x', 'payload.height')).toEqual([
      { path: 'payload.height', message: 'expected a non-negative safe integer, got string "x"' },
    ]);
    expect(run(hex64, 42)[0]?.message).toBe('expected a 64-character lowercase hex string, got number 42');
  });

  it('describe received values briefly and safely', () => {
    expect(describeReceived(null)).toBe('null');
    expect(describeReceived(undefined)).toBe('undefined');
    expect(describeReceived([1, 2])).toBe('an array of length 2');
    expect(describeReceived({ a: 1 })).toBe('an object');
    expect(describeReceived(new Date(0))).toBe('an instance of Date');
    expect(describeReceived(Number.NaN)).toBe('number NaN');
    expect(describeReceived(5n)).toBe('bigint 5n');
    expect(describeReceived(Symbol('s'))).toBe('a symbol');
    expect(describeReceived('line\nbreak')).toBe('string "line\\nbreak"');
    expect(describeReceived('x'.repeat(100))).toBe(`string "${'x'.repeat(40)}"... (length 100)`);
  });
});

describe('object', () => {
  const block = object({ blockHash: hex64, height: nonNegativeInteger, note: optional(string) });
  const hash = 'ab'.repeat(32);

  it('accepts the shape, with optional fields present or absent', () => {
    accepts(block, [{ blockHash: hash, height: 1 }, { blockHash: hash, height: 1, note: '' }]);
  });

  it('accepts null-prototype objects, as made by Object.create(null)', () => {
    const value = Object.assign(Object.create(null) as object, { blockHash: hash, height: 1 });
    accepts(block, [value]);
  });

  it('rejects non-objects, arrays and class instances at its own path', () => {
    for (const value of [null, undefined, 'x', 1, [], [hash, 1], new Date(0), new Map()]) {
      const issues = run(block, value);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe('payload');
      expect(issues[0]?.message).toMatch(/^expected an object \{ blockHash, height, note \}, got /);
    }
  });

  it('reports each bad field at its path', () => {
    expect(run(block, { blockHash: 'nope', height: -1 })).toEqual([
      { path: 'payload.blockHash', message: 'expected a 64-character lowercase hex string, got string "nope"' },
      { path: 'payload.height', message: 'expected a non-negative safe integer, got number -1' },
    ]);
  });

  it('reports a missing required field', () => {
    expect(run(block, { blockHash: hash })).toEqual([
      { path: 'payload.height', message: 'required field missing, expected a non-negative safe integer' },
    ]);
  });

  it('rejects unknown fields, so that a misspelt optional field does not pass silently', () => {
    expect(run(block, { blockHash: hash, height: 1, note: 'a', notes: 'b', 'odd key': 1 })).toEqual([
      { path: 'payload.notes', message: 'unknown field, expected only blockHash, height, note' },
      { path: 'payload["odd key"]', message: 'unknown field, expected only blockHash, height, note' },
    ]);
  });

  it('sees an own __proto__ key, as JSON.parse makes it', () => {
    const parsed: unknown = JSON.parse(`{"blockHash":"${hash}","height":1,"__proto__":{"x":1}}`);
    expect(run(block, parsed).map((issue) => issue.path)).toEqual(['payload.__proto__']);
  });

  it('rejects an optional field present with the value undefined', () => {
    expect(run(block, { blockHash: hash, height: 1, note: undefined })).toEqual([
      {
        path: 'payload.note',
        message: 'expected a string or no field at all, got undefined (omit optional fields instead)',
      },
    ]);
  });

  it('nests paths through objects, arrays and records', () => {
    const outer = object({
      blocks: arrayOf(object({ height: nonNegativeInteger })),
      tags: recordOf(object({ level: oneOf('a', 'b') })),
    });
    expect(run(outer, { blocks: [{ height: 1 }, { height: 'x' }], tags: { first: { level: 'a' }, 'two words': { level: 'c' } } })).toEqual([
      { path: 'payload.blocks[1].height', message: 'expected a non-negative safe integer, got string "x"' },
      { path: 'payload.tags["two words"].level', message: 'expected one of "a", "b", got string "c"' },
    ]);
  });

  it('exposes its shape in declaration order', () => {
    expect(Object.keys(block.shape)).toEqual(['blockHash', 'height', 'note']);
    expect(block.shape.height).toBe(nonNegativeInteger);
  });

  it('caps the issues a hostile value can produce', () => {
    const hostile: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) hostile[`k${i}`] = i;
    expect(run(block, hostile).length).toBeLessThanOrEqual(MAX_ISSUES + 2);
  });
});

describe('arrayOf and recordOf', () => {
  it('arrayOf checks every element and reports its index', () => {
    const names = arrayOf(nonEmptyString);
    accepts(names, [[], ['a', 'b']]);
    expect(run(names, ['a', '', 'c', 3])).toEqual([
      { path: 'payload[1]', message: 'expected a non-empty string, got string ""' },
      { path: 'payload[3]', message: 'expected a non-empty string, got number 3' },
    ]);
    expect(run(names, 'a')).toEqual([{ path: 'payload', message: 'expected an array of a non-empty string, got string "a"' }]);
  });

  it('arrayOf enforces maxLength and caps issues', () => {
    const short = arrayOf(boolean, { maxLength: 2 });
    rejects(short, [[true, false, true]]);
    expect(run(arrayOf(boolean), Array.from({ length: 1_000 }, () => 'x'))).toHaveLength(MAX_ISSUES);
  });

  it('recordOf checks every own value and rejects non-plain objects', () => {
    const stats = recordOf(scalar);
    accepts(stats, [{}, { a: 1, b: 'x', c: true }]);
    expect(run(stats, { a: 1, b: null })).toEqual([{ path: 'payload.b', message: 'expected a string, a finite number or a boolean, got null' }]);
    rejects(stats, [[], new Map(), null, 'x']);
  });

  it('optional on its own admits undefined', () => {
    accepts(optional(nonNegativeInteger), [undefined, 3]);
    rejects(optional(nonNegativeInteger), [null, -3]);
  });
});

describe('helpers', () => {
  it('isPlainObject is true for literals, JSON and null-prototype objects only', () => {
    expect([{}, JSON.parse('{"a":1}'), Object.create(null)].map(isPlainObject)).toEqual([true, true, true]);
    expect([[], null, new Date(0), new (class Payload {})(), 'x'].map(isPlainObject)).toEqual([false, false, false, false, false]);
  });

  it('expectedOf falls back for hand-written checks', () => {
    expect(expectedOf(percent)).toBe('a percentage from 0 to 100');
    expect(expectedOf(() => undefined)).toBe('a valid value');
  });

  it('a hand-written check nests like a built-in one', () => {
    const even: Check<number> = (value, path, issues) => {
      if (typeof value !== 'number' || value % 2 !== 0) issues.push({ path, message: `expected an even number, got ${describeReceived(value)}` });
    };
    expect(run(object({ n: even }), { n: 3 })).toEqual([{ path: 'payload.n', message: 'expected an even number, got number 3' }]);
  });
});
