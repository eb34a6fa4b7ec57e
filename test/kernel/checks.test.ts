import { describe, expect, it } from 'vitest';
import {
  MAX_DEPTH,
  MAX_ENTRIES,
  MAX_ISSUES,
  MAX_JSON_NODES,
  arrayOf,
  boolean,
  describeReceived,
  expectedOf,
  fieldPath,
  finiteNumber,
  fraction,
  func,
  hex64,
  interpretedObject,
  isPlainObject,
  issue,
  jsonValue,
  nestIssue,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  compiledObject,
  object,
  oneOf,
  optional,
  parse,
  percent,
  positiveInteger,
  positiveNumber,
  predicate,
  recordOf,
  refine,
  scalar,
  string,
  summarizeIssues,
  type Check,
} from '../../src/kernel/checks.js';
import { isModactorError, type ValidationIssue } from '../../src/kernel/errors.js';
import { refusal } from './support.js';

function run(check: Check<unknown>, value: unknown, path = 'payload'): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  check(value, path, issues);
  return issues;
}

/** Parses a value that must pass, and returns the result. */
function ok<T>(check: Check<T>, value: unknown): T {
  const issues: ValidationIssue[] = [];
  const parsed = check(value, 'payload', issues);
  expect(issues, describeReceived(value)).toEqual([]);
  return parsed;
}

function accepts(check: Check<unknown>, values: readonly unknown[]): void {
  for (const value of values) expect(run(check, value), describeReceived(value)).toEqual([]);
}

function rejects(check: Check<unknown>, values: readonly unknown[]): void {
  for (const value of values) expect(run(check, value), describeReceived(value)).toHaveLength(1);
}

/** The issue the combinators make, written out. */
const at = (path: string, expected: string, got: string): ValidationIssue => ({ path, expected, got, message: `expected ${expected}, got ${got}` });

const hash = 'ab'.repeat(32);

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
    accepts(hex64, ['0'.repeat(64), hash, '0123456789abcdef'.repeat(4)]);
    rejects(hex64, ['AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'g'.repeat(64), ` ${'a'.repeat(63)}`, 64, null]);
  });

  it('nonNegativeInteger accepts safe integers >= 0 only', () => {
    accepts(nonNegativeInteger, [0, 1, Number.MAX_SAFE_INTEGER]);
    rejects(nonNegativeInteger, [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1', 1n, null]);
  });

  it('positiveInteger, positiveNumber and fraction have their bounds', () => {
    accepts(positiveInteger, [1, Number.MAX_SAFE_INTEGER]);
    rejects(positiveInteger, [0, -1, 1.5, Number.NaN, '1']);
    accepts(positiveNumber, [0.001, 1, 1e300]);
    rejects(positiveNumber, [0, -0, -1, Number.POSITIVE_INFINITY, Number.NaN]);
    accepts(fraction, [0, 0.5, 1]);
    rejects(fraction, [-0.01, 1.01, Number.NaN]);
  });

  it('finiteNumber and nonNegativeNumber reject NaN and the infinities', () => {
    accepts(finiteNumber, [0, -1.5, Number.MAX_VALUE]);
    rejects(finiteNumber, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1']);
    accepts(nonNegativeNumber, [0, 0.25, 1e300]);
    rejects(nonNegativeNumber, [-0.001, Number.NaN, Number.POSITIVE_INFINITY]);
  });

  it('number checks return -0 as 0, so the result survives JSON unchanged', () => {
    expect(Object.is(ok(nonNegativeInteger, -0), 0)).toBe(true);
    expect(Object.is(ok(finiteNumber, -0), 0)).toBe(true);
    expect(Object.is(ok(scalar, -0), 0)).toBe(true);
    expect(ok(finiteNumber, -2.5)).toBe(-2.5);
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

  it('func returns the very function (code is kept, not copied)', () => {
    const handler = (): void => undefined;
    expect(ok(func, handler)).toBe(handler);
    rejects(func, [{}, 'f', null]);
  });

  it('predicate makes a described leaf that returns its value', () => {
    const even = predicate<number>('an even safe integer', (v) => Number.isSafeInteger(v) && (v as number) % 2 === 0);
    expect(ok(even, 4)).toBe(4);
    expect(run(even, 3)).toEqual([at('payload', 'an even safe integer', 'number 3')]);
    expect(even.expected).toBe('an even safe integer');
  });
});

describe('issues', () => {
  it('say what was expected and what came, in separate fields and as a message', () => {
    expect(run(nonNegativeInteger, 'x', 'payload.height')).toEqual([
      {
        path: 'payload.height',
        expected: 'a non-negative safe integer',
        got: 'string "x"',
        message: 'expected a non-negative safe integer, got string "x"',
      },
    ]);
    expect(issue('a', 'b', 'c')).toEqual(at('a', 'b', 'c'));
  });

  it('describe received values briefly and safely', () => {
    expect(describeReceived(null)).toBe('null');
    expect(describeReceived(undefined)).toBe('undefined');
    expect(describeReceived([1, 2])).toBe('an array of length 2');
    expect(describeReceived({ a: 1 })).toBe('an object');
    expect(describeReceived(new Date(0))).toBe('an instance of Date');
    expect(describeReceived(Number.NaN)).toBe('number NaN');
    expect(describeReceived(5n)).toBe('bigint 5n');
    expect(describeReceived(10n ** 400n)).toBe('a bigint');
    expect(describeReceived(Symbol('s'))).toBe('a symbol');
    expect(describeReceived('line\nbreak')).toBe('string "line\\nbreak"');
    expect(describeReceived('x'.repeat(100))).toBe(`string "${'x'.repeat(40)}"... (length 100)`);
  });

  it('describing never throws, whatever the value', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeReceived(proxy)).toBe('an unreadable object');
    const hostile = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } });
    expect(describeReceived(hostile)).toBe('an unreadable object');
    const weirdClass = Object.create({ constructor: { name: 'x'.repeat(100) } }) as object;
    expect(describeReceived(weirdClass)).toBe('an instance of a class');
  });

  it('summarize the first issue and count the rest; nest under a parent path', () => {
    const found = [at('payload.a', 'x', 'y'), at('payload.b', 'x', 'z')];
    expect(summarizeIssues(found)).toBe('payload.a: expected x, got y (and 1 more)');
    expect(summarizeIssues([at('', 'x', 'y')])).toBe('expected x, got y');
    expect(nestIssue('script[0].event', at('payload.h', 'x', 'y')).path).toBe('script[0].event.payload.h');
    expect(nestIssue('script[0].event', at('', 'x', 'y')).path).toBe('script[0].event');
    expect(nestIssue('', at('[2]', 'x', 'y')).path).toBe('[2]');
    expect(fieldPath('', 'name')).toBe('name');
    expect(fieldPath('a', 'two words')).toBe('a["two words"]');
  });
});

describe('object', () => {
  const block = object({ blockHash: hex64, height: nonNegativeInteger, note: optional(string) });

  it('returns a new frozen plain object with exactly the admitted fields', () => {
    const input = { blockHash: hash, height: 1 };
    const parsed = ok(block, input);
    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(ok(block, { blockHash: hash, height: 1, note: '' }))).toEqual(['blockHash', 'height', 'note']);
    expect('note' in parsed).toBe(false);
  });

  it('accepts null-prototype objects, as made by Object.create(null), and copies them to plain ones', () => {
    const value = Object.assign(Object.create(null) as object, { blockHash: hash, height: 1 });
    expect(Object.getPrototypeOf(ok(block, value))).toBe(Object.prototype);
  });

  it('reads each field once: a getter is asked once and its answer is what the copy holds', () => {
    let reads = 0;
    const value = {
      blockHash: hash,
      get height(): number {
        reads++;
        return reads === 1 ? 7 : -1;
      },
    };
    const parsed = ok(block, value);
    expect(reads).toBe(1);
    expect(parsed.height).toBe(7);
    expect(Object.getOwnPropertyDescriptor(parsed, 'height')).toMatchObject({ value: 7, writable: false });
  });

  it('reads a proxy once per field through its get trap', () => {
    const gets: string[] = [];
    const proxy = new Proxy({ blockHash: hash, height: 1 }, {
      get(target, key, receiver) {
        gets.push(String(key));
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(ok(block, proxy)).toEqual({ blockHash: hash, height: 1 });
    expect(gets).toEqual(['blockHash', 'height']);
  });

  it('is unaffected by later changes to the input', () => {
    const input = { blockHash: hash, height: 1 };
    const parsed = ok(block, input);
    input.height = 99;
    expect(parsed.height).toBe(1);
  });

  it('rejects non-objects, arrays and class instances at its own path', () => {
    for (const value of [null, undefined, 'x', 1, [], [hash, 1], new Date(0), new Map(), new Uint8Array(2)]) {
      const issues = run(block, value);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe('payload');
      expect(issues[0]?.expected).toBe('an object { blockHash, height, note }');
    }
  });

  it('reports each bad field at its path', () => {
    expect(run(block, { blockHash: 'nope', height: -1 })).toEqual([
      at('payload.blockHash', 'a 64-character lowercase hex string', 'string "nope"'),
      at('payload.height', 'a non-negative safe integer', 'number -1'),
    ]);
  });

  it('reports a missing required field', () => {
    expect(run(block, { blockHash: hash })).toEqual([at('payload.height', 'a non-negative safe integer', 'nothing (required field missing)')]);
  });

  it('rejects unknown fields, so that a misspelt optional field does not pass silently, without reading them', () => {
    let read = false;
    const value = {
      blockHash: hash,
      height: 1,
      note: 'a',
      notes: 'b',
      'odd key': 1,
      get sneaky(): number {
        read = true;
        return 1;
      },
    };
    expect(run(block, value)).toEqual([
      at('payload.notes', 'only the fields blockHash, height, note', 'an unknown field'),
      at('payload["odd key"]', 'only the fields blockHash, height, note', 'an unknown field'),
      at('payload.sneaky', 'only the fields blockHash, height, note', 'an unknown field'),
    ]);
    expect(read).toBe(false);
  });

  it('sees an own __proto__ key, as JSON.parse makes it', () => {
    const parsed: unknown = JSON.parse(`{"blockHash":"${hash}","height":1,"__proto__":{"x":1}}`);
    expect(run(block, parsed).map((found) => found.path)).toEqual(['payload.__proto__']);
  });

  it('copies a __proto__ field of its shape as an own field, never as the prototype', () => {
    const odd = object({ ['__proto__']: string });
    const parsed = ok(odd, JSON.parse('{"__proto__":"x"}'));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('x');
  });

  it('ignores fields inherited from a polluted prototype', () => {
    const proto = { height: 5 };
    const value = Object.assign(Object.create(proto) as object, { blockHash: hash });
    // Not a plain object at all (its prototype is not Object.prototype or null).
    expect(run(block, value)).toHaveLength(1);
  });

  it('rejects an optional field present with the value undefined', () => {
    expect(run(block, { blockHash: hash, height: 1, note: undefined })).toEqual([
      at('payload.note', 'a string or no field at all', 'undefined (omit optional fields instead)'),
    ]);
  });

  it('nests paths through objects, arrays and records, also from the root', () => {
    const outer = object({
      blocks: arrayOf(object({ height: nonNegativeInteger })),
      tags: recordOf(object({ level: oneOf('a', 'b') })),
    });
    const bad = { blocks: [{ height: 1 }, { height: 'x' }], tags: { first: { level: 'a' }, 'two words': { level: 'c' } } };
    expect(run(outer, bad).map((found) => found.path)).toEqual(['payload.blocks[1].height', 'payload.tags["two words"].level']);
    expect(run(outer, bad, '').map((found) => found.path)).toEqual(['blocks[1].height', 'tags["two words"].level']);
    expect(run(outer, { blocks: [{}], tags: {} }, '').map((found) => found.path)).toEqual(['blocks[0].height']);
  });

  it('deep-freezes nested copies', () => {
    const outer = object({ inner: object({ list: arrayOf(string) }) });
    const parsed = ok(outer, { inner: { list: ['a'] } });
    expect(Object.isFrozen(parsed.inner)).toBe(true);
    expect(Object.isFrozen(parsed.inner.list)).toBe(true);
  });

  it('exposes its shape in declaration order', () => {
    expect(Object.keys(block.shape)).toEqual(['blockHash', 'height', 'note']);
    expect(block.shape.height).toBe(nonNegativeInteger);
    // Built here too, so that a per-test coverage run sees this test reach object().
    expect(Object.keys(object({ b: boolean, a: string }).shape)).toEqual(['b', 'a']);
  });

  it('caps the issues a hostile value can produce', () => {
    const hostile: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) hostile[`k${i}`] = i;
    expect(run(block, hostile).length).toBeLessThanOrEqual(MAX_ISSUES + 2);
  });
});

describe('hostile values never make a check throw', () => {
  const block = object({ blockHash: hex64, height: nonNegativeInteger });
  const threw = 'a value that threw when read';

  it('a getter that throws is an issue at its field', () => {
    const value = {
      blockHash: hash,
      get height(): number {
        throw new Error('boom');
      },
    };
    expect(run(block, value)).toEqual([at('payload.height', 'a non-negative safe integer', threw)]);
  });

  it('a proxy whose traps throw is an issue at its own path', () => {
    for (const trap of ['get', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf'] as const) {
      const proxy = new Proxy({ blockHash: hash, height: 1 }, { [trap]: () => { throw new Error(trap); } });
      const issues = run(block, proxy);
      expect(issues.length, trap).toBeGreaterThan(0);
      expect(issues[0]?.path.startsWith('payload'), trap).toBe(true);
    }
  });

  it('a revoked proxy is an issue', () => {
    const { proxy, revoke } = Proxy.revocable({ blockHash: hash, height: 1 }, {});
    revoke();
    expect(run(block, proxy)).toHaveLength(1);
    expect(run(arrayOf(string), proxy)).toHaveLength(1);
    expect(run(recordOf(string), proxy)).toHaveLength(1);
  });

  it('an array whose length getter throws is an issue', () => {
    const proxy = new Proxy([1, 2], {
      get(target, key): unknown {
        if (key === 'length') throw new Error('len');
        return Reflect.get(target, key);
      },
    });
    expect(run(arrayOf(nonNegativeInteger), proxy)).toEqual([at('payload', 'an array of at most 10000 items, each a non-negative safe integer', threw)]);
  });

  it('a hand-written check that throws is an issue at the nearest container, or at the root in parse', () => {
    const throwing: Check<number> = () => {
      throw new Error('bug');
    };
    const error = refusal(() => parse(object({ n: throwing }), { n: 1 }, { code: 'invalid-argument', what: 'thing' }));
    expect(error.code).toBe('invalid-argument');
    expect(error.issues).toEqual([at('', 'an object { n }', threw)]);
    const alone = refusal(() => parse(throwing, 1, { code: 'invalid-argument', what: 'thing' }));
    expect(alone.issues).toEqual([at('', 'a valid value', threw)]);
  });

  it('nesting deeper than MAX_DEPTH is an issue, not a stack overflow', () => {
    type Tree = { readonly child?: Tree };
    const tree: Check<Tree> = (value, path, issues) => node(value, path, issues);
    const node: Check<Tree> = object({ child: optional(tree) });
    let deep: Tree = {};
    for (let i = 0; i < 1000; i++) deep = { child: deep };
    const issues = run(tree, deep);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.got).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    expect(issues[0]?.path).toBe(`payload${'.child'.repeat(MAX_DEPTH)}`);
    // a cycle through a recursive check ends the same way
    const cyclic: { child?: unknown } = {};
    cyclic.child = cyclic;
    expect(run(tree, cyclic)[0]?.got).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    // and the depth count is back to zero afterwards
    expect(run(tree, { child: { child: {} } })).toEqual([]);
  });
});

describe('arrayOf and recordOf', () => {
  it('arrayOf returns a new frozen array of the parsed elements and reports bad indexes', () => {
    const names = arrayOf(nonEmptyString);
    const input = ['a', 'b'];
    const parsed = ok(names, input);
    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(run(names, ['a', '', 'c', 3])).toEqual([
      at('payload[1]', 'a non-empty string', 'string ""'),
      at('payload[3]', 'a non-empty string', 'number 3'),
    ]);
    expect(run(names, 'a')).toEqual([at('payload', `an array of at most ${MAX_ENTRIES} items, each a non-empty string`, 'string "a"')]);
  });

  it('arrayOf reads each element once', () => {
    let reads = 0;
    const input = ['a'];
    Object.defineProperty(input, 1, { enumerable: true, get: () => (++reads === 1 ? 'b' : '') });
    expect(ok(arrayOf(nonEmptyString), input)).toEqual(['a', 'b']);
    expect(reads).toBe(1);
  });

  it('arrayOf enforces its length bound before reading any element, and caps issues', () => {
    rejects(arrayOf(boolean, { maxLength: 2 }), [[true, false, true]]);
    const huge = new Array<unknown>(MAX_ENTRIES + 1);
    expect(run(arrayOf(boolean), huge)).toEqual([at('payload', `an array of at most ${MAX_ENTRIES} items, each a boolean`, `an array of length ${MAX_ENTRIES + 1}`)]);
    expect(run(arrayOf(boolean), Array.from({ length: 1_000 }, () => 'x'))).toHaveLength(MAX_ISSUES);
  });

  it('arrayOf with unique drops repeats, keeping the first', () => {
    expect(ok(arrayOf(nonEmptyString, { unique: true }), ['b', 'a', 'b'])).toEqual(['b', 'a']);
  });

  it('recordOf copies every own value into a new frozen plain object', () => {
    const stats = recordOf(scalar);
    const input = { a: 1, b: 'x', c: true };
    const parsed = ok(stats, input);
    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(run(stats, { a: 1, b: null })).toEqual([at('payload.b', 'a string, a finite number or a boolean', 'null')]);
    rejects(stats, [[], new Map(), null, 'x']);
  });

  it('recordOf copies a __proto__ key as an own field, never as the prototype', () => {
    const parsed = ok(recordOf(scalar), JSON.parse('{"__proto__":1,"constructor":"c"}'));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
  });

  it('recordOf bounds its number of keys', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 11; i++) many[`k${i}`] = i;
    expect(run(recordOf(scalar, { maxKeys: 10 }), many)).toEqual([
      at('payload', 'an object of at most 10 keys whose values are each a string, a finite number or a boolean', 'an object of more than 10 keys'),
    ]);
  });

  it('optional on its own admits undefined', () => {
    accepts(optional(nonNegativeInteger), [undefined, 3]);
    rejects(optional(nonNegativeInteger), [null, -3]);
  });
});

describe('refine', () => {
  const range = refine(object({ min: finiteNumber, max: finiteNumber }), (r) =>
    r.max >= r.min ? undefined : { field: 'max', expected: `a number >= min (${r.min})`, got: r.max },
  );

  it('runs its rule over the parsed value and reports at the named field', () => {
    expect(ok(range, { min: 1, max: 2 })).toEqual({ min: 1, max: 2 });
    expect(run(range, { min: 3, max: 2 }, 'backoff')).toEqual([at('backoff.max', 'a number >= min (3)', 'number 2')]);
  });

  it('does not run its rule when the check failed', () => {
    expect(run(range, { min: 'x', max: 2 })).toHaveLength(1);
  });

  it('reports a refinement without a field at the value’s own path, and each of several', () => {
    const pair = refine(object({ a: finiteNumber, b: finiteNumber }), (p) => [
      { expected: 'a pair that sums to 10', got: p.a + p.b },
      { field: 'b', expected: 'b > a', got: p.b },
    ]);
    expect(run(pair, { a: 5, b: 1 }, 'pair')).toEqual([at('pair', 'a pair that sums to 10', 'number 6'), at('pair.b', 'b > a', 'number 1')]);
  });
});

describe('jsonValue', () => {
  it('copies any JSON value deeply and freezes it', () => {
    const input = { a: [1, 'x', null, { b: true }], c: {} };
    const parsed = ok(jsonValue, input) as { a: unknown[] };
    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed.a[3])).toBe(true);
  });

  it('refuses what JSON cannot carry, at the first offending path', () => {
    const cases: [unknown, string, string][] = [
      [{ a: [1, 10n] }, 'payload.a[1]', 'bigint 10n'],
      [{ a: undefined }, 'payload.a', 'undefined'],
      [{ d: new Date(0) }, 'payload.d', 'an instance of Date'],
      [{ n: Number.NaN }, 'payload.n', 'number NaN'],
      [{ f: () => 1 }, 'payload.f', 'a function'],
      [[Symbol('s')], 'payload[0]', 'a symbol'],
    ];
    for (const [value, path, got] of cases) expect(run(jsonValue, value)).toEqual([at(path, 'a JSON value', got)]);
  });

  it('refuses cycles and deep nesting by depth, and shared sub-objects by its node budget', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(run(jsonValue, cyclic)[0]?.got).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    // 2^40 paths through 40 shared levels: refused by the budget, quickly
    let shared: unknown = 1;
    for (let i = 0; i < 40; i++) shared = { a: shared, b: shared };
    expect(run(jsonValue, shared)[0]?.got).toBe('more than 100000 values');
  });
});

describe('parse', () => {
  it('returns the parsed value or throws a ModactorError with every issue', () => {
    const check = object({ port: nonNegativeInteger, host: nonEmptyString });
    expect(parse(check, { port: 80, host: 'h' }, { code: 'invalid-argument', what: 'server options' })).toEqual({ port: 80, host: 'h' });
    const error = refusal(() => parse(check, { port: '80', host: '' }, { code: 'invalid-argument', what: 'server options' }));
    expect(isModactorError(error, 'invalid-argument')).toBe(true);
    expect(error.message).toBe('Invalid server options: port: expected a non-negative safe integer, got string "80" (and 1 more)');
    expect(error.issues.map((found) => found.path)).toEqual(['port', 'host']);
  });

  it('starts paths at the given root', () => {
    const error = refusal(() => parse(nonNegativeInteger, -1, { code: 'invalid-argument', what: 'window', path: 'maxRestarts' }));
    expect(error.issues).toEqual([at('maxRestarts', 'a non-negative safe integer', 'number -1')]);
  });
});

describe('helpers', () => {
  it('isPlainObject is true for literals, JSON and null-prototype objects only, and never throws', () => {
    expect([{}, JSON.parse('{"a":1}'), Object.create(null)].map(isPlainObject)).toEqual([true, true, true]);
    expect([[], null, new Date(0), new (class Payload {})(), 'x'].map(isPlainObject)).toEqual([false, false, false, false, false]);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(isPlainObject(proxy)).toBe(false);
  });

  it('expectedOf falls back for hand-written checks', () => {
    expect(expectedOf(percent)).toBe('a percentage from 0 to 100');
    expect(expectedOf(() => undefined)).toBe('a valid value');
  });

  it('a hand-written check nests like a built-in one', () => {
    const even: Check<number> = (value, path, issues) => {
      if (typeof value !== 'number' || value % 2 !== 0) issues.push(issue(path, 'an even number', describeReceived(value)));
      return value as number;
    };
    expect(run(object({ n: even }), { n: 3 })).toEqual([at('payload.n', 'an even number', 'number 3')]);
    expect(ok(object({ n: even }), { n: 4 })).toEqual({ n: 4 });
  });
});

describe('describing received values, value by value', () => {
  /** An instance whose constructor is a function named `name` (whatever `name` is). */
  const instanceNamed = (name: unknown): object => {
    const ctor = function (): void {};
    Object.defineProperty(ctor, 'name', { value: name });
    return Object.create(ctor.prototype as object) as object;
  };

  it.each<[string, unknown, string]>([
    ['a string of 40 characters, whole', 'y'.repeat(40), `string "${'y'.repeat(40)}"`],
    ['a boolean', true, 'boolean true'],
    ['a bigint at the upper bound', 10n ** 20n, 'bigint 100000000000000000000n'],
    ['a bigint at the lower bound', -(10n ** 20n), 'bigint -100000000000000000000n'],
    ['a bigint past the upper bound', 10n ** 20n + 1n, 'a bigint'],
    ['a bigint past the lower bound', -(10n ** 20n) - 1n, 'a bigint'],
    ['an array whose length is not a number', new Proxy([], { get: (t, k): unknown => (k === 'length' ? 'many' : Reflect.get(t, k)) }), 'an array'],
    ['an instance of a named class', instanceNamed('Payload'), 'an instance of Payload'],
    ['an instance of a class named with 40 characters', instanceNamed('C'.repeat(40)), `an instance of ${'C'.repeat(40)}`],
    ['an instance of a class named with 41 characters', instanceNamed('C'.repeat(41)), 'an instance of a class'],
    ['an instance of a class whose name is not an identifier', instanceNamed('bad name!'), 'an instance of a class'],
    ['an instance of a class whose name starts badly', instanceNamed('!bad'), 'an instance of a class'],
    ['an instance of a class whose name is not a string', instanceNamed(42), 'an instance of a class'],
    ['an object inheriting from a null-prototype object', Object.create(Object.create(null) as object) as unknown, 'an instance of a class'],
  ])('%s', (_label, value, expected) => {
    expect(describeReceived(value)).toBe(expected);
  });

  it('summarizes no issues as such', () => {
    expect(summarizeIssues([])).toBe('no issues');
  });
});

describe('paths and limits', () => {
  it('cuts a long key in a path at 40 characters, identifier or not', () => {
    expect(fieldPath('a', 'k'.repeat(41))).toBe(`a.${'k'.repeat(40)}...`);
    expect(fieldPath('a', 'k'.repeat(40))).toBe(`a.${'k'.repeat(40)}`);
    expect(fieldPath('a', ' '.repeat(41))).toBe(`a["${' '.repeat(40)}..."]`);
    expect(fieldPath('a', ' '.repeat(40))).toBe(`a["${' '.repeat(40)}"]`);
    expect(nestIssue('script[0]', at('[2]', 'x', 'y')).path).toBe('script[0][2]');
  });

  it('puts an unreadable element at its index', () => {
    const items = [1, 2];
    Object.defineProperty(items, 1, {
      get: () => {
        throw new Error('no');
      },
    });
    expect(run(arrayOf(nonNegativeInteger), items)).toEqual([at('payload[1]', 'a non-negative safe integer', 'a value that threw when read')]);
  });

  it('an object of no fields says so', () => {
    expect(run(object({}), { x: 1 })).toEqual([at('payload.x', 'no fields', 'an unknown field')]);
    expect(run(object({}), 'x')).toEqual([at('payload', 'an empty object', 'string "x"')]);
  });

  it('moves the issue of a hand-written check that reports elsewhere to the field it checked', () => {
    const elsewhere: Check<number> = (value, _path, issues) => {
      issues.push(issue('somewhere.else', 'a number it likes', describeReceived(value)));
      return value as number;
    };
    expect(run(object({ n: elsewhere }), { n: 3 })).toEqual([at('payload.n', 'a number it likes', 'number 3')]);
  });

  it('jsonValue refuses an array or object past MAX_ENTRIES, and a value that throws when read, at its path', () => {
    expect(run(jsonValue, { list: new Array(MAX_ENTRIES + 1).fill(0) })).toEqual([
      at('payload.list', 'a JSON value', `an array of length ${MAX_ENTRIES + 1}`),
    ]);
    const wide = Object.fromEntries(Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => [`k${i}`, i]));
    expect(run(jsonValue, { wide })).toEqual([at('payload.wide', 'a JSON value', `an object of more than ${MAX_ENTRIES} keys`)]);
    const hostile = {
      get bad(): never {
        throw new Error('no');
      },
    };
    expect(run(jsonValue, { a: [hostile] })).toEqual([at('payload.a[0].bad', 'a JSON value', 'a value that threw when read')]);
  });
});

describe('the caps on issues, counted from where each container starts', () => {
  /** Runs `check` after `earlier` issues of an outer check are already in the list. */
  const after = (earlier: number, check: Check<unknown>, value: unknown): number => {
    const issues: ValidationIssue[] = Array.from({ length: earlier }, (_, i) => at(`earlier${i}`, 'x', 'y'));
    check(value, 'payload', issues);
    return issues.length - earlier;
  };
  const bad = Array.from({ length: 100 }, () => 'x');
  const badRecord = Object.fromEntries(bad.map((v, i) => [`k${i}`, v]));

  it('arrayOf, recordOf and object each add at most MAX_ISSUES', () => {
    for (const earlier of [0, 5]) {
      expect(after(earlier, arrayOf(boolean), bad)).toBe(MAX_ISSUES);
      expect(after(earlier, recordOf(boolean), badRecord)).toBe(MAX_ISSUES);
      expect(after(earlier, object({}), badRecord)).toBe(MAX_ISSUES);
    }
  });

  it('recordOf reports an unreadable value once, at its key, and takes exactly maxKeys keys', () => {
    const value = {
      a: true,
      get b(): boolean {
        throw new Error('no');
      },
    };
    expect(run(recordOf(boolean), value)).toEqual([at('payload.b', 'a boolean', 'a value that threw when read')]);
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    expect(ok(recordOf(scalar, { maxKeys: 10 }), ten)).toEqual(ten);
  });

  it('recordOf copies own keys only, also when Object.prototype is polluted', () => {
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      const parsed = ok(recordOf(scalar), { a: 1 });
      expect(Object.keys(parsed)).toEqual(['a']);
    } finally {
      delete (Object.prototype as Record<string, unknown>)['polluted'];
    }
  });

  it('jsonValue takes exactly MAX_JSON_NODES values, not one more', () => {
    // An outer array, 10 inner arrays and their numbers: 1 + 10 + 99,989 = 100,000 values.
    const inner = (n: number): number[] => new Array<number>(n).fill(0);
    const exact = [...Array.from({ length: 9 }, () => inner(9999)), inner(9998)];
    expect(run(jsonValue, exact)).toEqual([]);
    const over = [...Array.from({ length: 9 }, () => inner(9999)), inner(9999)];
    expect(run(jsonValue, over)[0]?.got).toBe(`more than ${MAX_JSON_NODES} values`);
  });
});

describe('jsonValue at its edges', () => {
  const nested = (levels: number, wrap: (v: unknown) => unknown): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = wrap(value);
    return value;
  };

  it('takes MAX_DEPTH levels of arrays or objects, not one more', () => {
    for (const wrap of [(v: unknown) => [v], (v: unknown) => ({ v })]) {
      expect(run(jsonValue, nested(MAX_DEPTH, wrap))).toEqual([]);
      expect(run(jsonValue, nested(MAX_DEPTH + 1, wrap))[0]?.got).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    }
  });

  it('takes exactly MAX_ENTRIES items or keys', () => {
    expect(run(jsonValue, new Array<number>(MAX_ENTRIES).fill(1))).toEqual([]);
    expect(run(jsonValue, Object.fromEntries(Array.from({ length: MAX_ENTRIES }, (_, i) => [`k${i}`, i])))).toEqual([]);
  });

  it('returns -0 as 0, keeps an own __proto__ key as an enumerable field, and ignores a polluted prototype', () => {
    expect(Object.is((ok(jsonValue, { n: -0 }) as { n: number }).n, 0)).toBe(true);
    const parsed = ok(jsonValue, JSON.parse('{"__proto__": {"x": 1}, "a": 1}')) as object;
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      expect(Object.keys(ok(jsonValue, { a: 1 }) as object)).toEqual(['a']);
    } finally {
      delete (Object.prototype as Record<string, unknown>)['polluted'];
    }
  });

  it('refuses a revoked proxy at its own path', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(run(jsonValue, { a: proxy })).toEqual([at('payload.a', 'a JSON value', 'a value that threw when read')]);
  });
});

describe('what the containers expect, in words', () => {
  it('names the fields of an object, the items of an array, and what optional admits', () => {
    expect(run(object({ a: boolean, b: boolean }), { a: true, b: true, c: 1 })).toEqual([at('payload.c', 'only the fields a, b', 'an unknown field')]);
    expect(run(object({ a: boolean }), 'x')).toEqual([at('payload', 'an object { a }', 'string "x"')]);
    expect(expectedOf(arrayOf(boolean))).toBe(`an array of at most ${MAX_ENTRIES} items, each a boolean`);
    expect(expectedOf(optional(string))).toBe('a string or nothing');
  });

  it('arrayOf keeps repeats unless asked for unique items, and takes exactly maxLength items', () => {
    expect(ok(arrayOf(string), ['a', 'a'])).toEqual(['a', 'a']);
    expect(ok(arrayOf(boolean, { maxLength: 2 }), [true, false])).toEqual([true, false]);
  });

  it('isPlainObject is false for an array without a prototype', () => {
    expect(isPlainObject(Object.setPrototypeOf([], null))).toBe(false);
  });
});

describe('details the mutation campaign found unasserted', () => {
  it('names every field of an object in what it expects, comma-separated', () => {
    expect(run(object({ a: boolean, b: string }), 1)).toEqual([at('payload', 'an object { a, b }', 'number 1')]);
  });

  it('refuses, as hex64, anything that is not a string, even an object that reads as 64 hex digits', () => {
    const lookalike = { length: 64, toString: () => 'ab'.repeat(32) };
    expect(run(hex64, lookalike)).toHaveLength(1);
  });

  it('isPlainObject is false for a function without a prototype', () => {
    expect(isPlainObject(Object.setPrototypeOf(() => undefined, null))).toBe(false);
  });

  it('a refined check expects what its base expects, where a field of it is missing', () => {
    const check = object({ n: refine(nonNegativeInteger, () => undefined) });
    expect(run(check, {})).toEqual([at('payload.n', 'a non-negative safe integer', 'nothing (required field missing)')]);
  });

  it('reports an item or field whose read throws once, at its own path, in every form of the checks', () => {
    const throwingItem = new Proxy(['a', 'b'], {
      get(target, key, receiver) {
        if (key === '1') throw new Error('no');
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(run(arrayOf(string), throwingItem)).toEqual([at('payload[1]', 'a string', 'a value that threw when read')]);
    const throwingField = {
      a: 'x',
      get b(): string {
        throw new Error('no');
      },
    };
    for (const form of [object, interpretedObject, compiledObject]) {
      expect(run(form({ a: string, b: string }), throwingField)).toEqual([at('payload.b', 'a string', 'a value that threw when read')]);
    }
  });
});
