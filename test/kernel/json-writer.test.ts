import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrayOf,
  boolean,
  finiteNumber,
  hex64,
  jsonValue,
  nonEmptyString,
  nonNegativeInteger,
  object,
  oneOf,
  optional,
  recordOf,
  refine,
  scalar,
  string,
  type Check,
  type Shape,
} from '../../src/kernel/checks.js';
import { jsonWriterOf, objectWriter, timeJson, writerOf } from '../../src/kernel/json-writer.js';
import type { ValidationIssue } from '../../src/kernel/errors.js';
import { nodeCatalogue } from '../../src/events/node-catalogue.js';
import { ownPayloadWriter } from '../../src/events/catalogue.js';
import { acceptedEvents, acceptedPayloadJson } from '../../src/node/payload-json.js';
import { nodeEventArbitrary, nodeEventTypes } from '../events/arbitraries.js';

/**
 * A check's JSON writer must give, for every value the check returned, exactly the text
 * `JSON.stringify` gives: the store, process modules and the bus write events with it, and replay
 * parses them back.
 */

function parsed(check: Check<unknown>, value: unknown): { readonly ok: boolean; readonly value: unknown } {
  const issues: ValidationIssue[] = [];
  const result = check(value, '', issues);
  return { ok: issues.length === 0, value: result };
}

/** Any string: escapes, control characters, quotes, lone and paired surrogates, U+2028. */
const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800', '\udc00x', '😀', 'é'));

const LEAVES: readonly { readonly check: Check<unknown>; readonly value: fc.Arbitrary<unknown> }[] = [
  { check: string, value: anyString },
  { check: nonEmptyString, value: anyString },
  { check: hex64, value: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')) },
  { check: nonNegativeInteger, value: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constant(-0)) },
  { check: finiteNumber, value: fc.double({ noNaN: true }) },
  { check: boolean, value: fc.boolean() },
  { check: scalar, value: fc.oneof(anyString, fc.double(), fc.boolean()) },
  { check: oneOf('a', 'b"c', 1.5, 0, true), value: fc.constantFrom('a', 'b"c', 1.5, 0, -0, true) },
  { check: arrayOf(string, { maxLength: 3 }), value: fc.array(anyString, { maxLength: 3 }) },
  { check: recordOf(finiteNumber, { maxKeys: 4 }), value: fc.dictionary(fc.oneof(anyString, fc.constantFrom('1', '0', '__proto__', '10')), fc.double({ noNaN: true }), { maxKeys: 4 }) },
  { check: refine(nonNegativeInteger, () => undefined), value: fc.nat() },
];

/**
 * Field names: odd characters, and names an object orders ahead of the others (array indexes,
 * `0` to `4294967294`) next to names that only look like one (`4294967295`, `07`, `-1`, `1.5`).
 */
const KEYS = ['a', 'height', 'constructor', 'a b', '"q"', 'line\u2028sep', 'new\nline', '0', '7', '10', 'é', '4294967294', '4294967295', '07', '-1', '1.5'];

describe('JSON writers of checks', () => {
  it('write every value a leaf, array or record check returns as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.nat(LEAVES.length - 1).chain((i) => fc.tuple(fc.constant(i), (LEAVES[i] as (typeof LEAVES)[number]).value)), ([i, value]) => {
        const { check } = LEAVES[i] as (typeof LEAVES)[number];
        const result = parsed(check, value);
        fc.pre(result.ok);
        // Its own writer, not JSON.stringify as a fallback.
        expect(writerOf(check)).toBeTypeOf('function');
        expect(jsonWriterOf(check)(result.value)).toBe(JSON.stringify(result.value));
      }),
      { numRuns: 3000 },
    );
  });

  it('write objects of any shape, optional fields present or not, compiled or interpreted, as JSON.stringify does', () => {
    const fieldArb = fc.record({ key: fc.constantFrom(...KEYS), leaf: fc.nat(LEAVES.length - 1), optional: fc.boolean(), present: fc.boolean() });
    fc.assert(
      fc.property(
        fc.uniqueArray(fieldArb, { minLength: 1, maxLength: 6, selector: (f) => f.key }).chain((fields) =>
          fc.tuple(fc.constant(fields), fc.tuple(...fields.map((f) => (LEAVES[f.leaf] as (typeof LEAVES)[number]).value))),
        ),
        fc.boolean(),
        ([fields, values], nested) => {
          const shape: Record<string, Check<unknown>> = {};
          const input: Record<string, unknown> = {};
          fields.forEach((f, i) => {
            const leaf = (LEAVES[f.leaf] as (typeof LEAVES)[number]).check;
            shape[f.key] = f.optional ? optional(leaf) : leaf;
            if (!f.optional || f.present) input[f.key] = values[i];
          });
          const inner = object(shape as Shape);
          const check = nested ? object({ outer: inner, list: arrayOf(inner, { maxLength: 2 }) }) : inner;
          const result = parsed(check, nested ? { outer: input, list: [input, input] } : input);
          fc.pre(result.ok);
          expect(jsonWriterOf(check)(result.value)).toBe(JSON.stringify(result.value));
          const fieldsOf = fields.map((f) => ({ key: f.key, check: (LEAVES[f.leaf] as (typeof LEAVES)[number]).check, optional: f.optional }));
          const plain = parsed(inner, input).value;
          // Both forms on their own: the generated code (no fallback to hide it) and the loop.
          for (const mode of ['compiled-only', 'interpreted'] as const) {
            const write = objectWriter(fieldsOf, mode) as unknown as (value: unknown) => string;
            expect(write(plain)).toBe(JSON.stringify(plain));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('write a whole accepted event only with the stamp a router gives, and leave any other to JSON.stringify', () => {
    const events = acceptedEvents(nodeCatalogue);
    const { type, payload } = nodeCatalogue.validate({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 7 } });
    const meta = { source: 'node', seq: 3, time: 1718000000000.5 };
    expect(events.writes('NewBlock')).toBe(true);
    expect(JSON.parse(events.json({ type, payload, meta }) as string)).toEqual({ type, payload, meta });
    expect(events.writes('ModuleLoaded')).toBe(false);
    expect(events.json({ type: 'ModuleLoaded', payload: {}, meta })).toBeNull();
    for (const odd of [undefined, { ...meta, source: 5 }, { ...meta, seq: 1.5 }, { ...meta, time: Number.NaN }]) {
      expect(events.json({ type, payload, meta: odd })).toBeNull();
    }
  });

  it('write every node event payload as JSON.stringify does, most of them without it', () => {
    fc.assert(
      fc.property(nodeEventArbitrary, (raw) => {
        const event = nodeCatalogue.validate(raw);
        expect(acceptedPayloadJson(nodeCatalogue)(event.type, event.payload)).toBe(JSON.stringify(event.payload));
      }),
      { numRuns: 3000 },
    );
    expect(ownPayloadWriter(nodeCatalogue, 'NoSuchType')).toBeNull();
    const written = nodeEventTypes.filter((type) => ownPayloadWriter(nodeCatalogue, type) !== null);
    expect(written).toContain('NewBlock');
    expect(written.length).toBeGreaterThan(nodeEventTypes.length / 2);
  });

  it('give each check its own writer when it is made', () => {
    // Made inside the test: a mutation run credits what a check's construction runs to the test
    // that makes it, and the LEAVES above are made at import.
    const made: readonly [Check<unknown>, unknown][] = [
      [oneOf('a', 1, true), 'a'],
      [recordOf(finiteNumber), { x: 1.5, '0': -2 }],
      [refine(nonNegativeInteger, () => undefined), 7],
      [arrayOf(boolean), [true, false]],
      [object({ a: string, b: optional(finiteNumber) }), { a: 'q"', b: 2 }],
    ];
    for (const [check, value] of made) {
      expect(writerOf(check)).toBeTypeOf('function');
      const result = parsed(check, value);
      expect(result.ok).toBe(true);
      expect(jsonWriterOf(check)(result.value)).toBe(JSON.stringify(result.value));
    }
  });

  it('refuse to make an object writer of generated code only where none can be generated', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, check: string, optional: false }));
    expect(() => objectWriter(fields(33), 'compiled-only')).toThrow('Expected an object writer to be generated code');
    expect(() => objectWriter(fields(0), 'compiled-only')).toThrow('Expected an object writer to be generated code');
    // Otherwise the loop writes what the generated code would not.
    expect((objectWriter(fields(33)) as unknown as (v: unknown) => string)(Object.fromEntries(fields(33).map((f) => [f.key, 'v'])))).toBe(
      JSON.stringify(Object.fromEntries(fields(33).map((f) => [f.key, 'v']))),
    );
  });

  it('have no writer where the check cannot tell enough: jsonValue, hand-written checks, a __proto__ field', () => {
    expect(writerOf(recordOf(jsonValue))).toBeNull();
    expect(writerOf(refine(jsonValue, () => undefined))).toBeNull();
    expect(jsonWriterOf(recordOf(jsonValue))({ a: [1] })).toBe('{"a":[1]}');
    expect(writerOf(jsonValue)).toBeNull();
    expect(writerOf((value: unknown) => value)).toBeNull();
    expect(writerOf(object({ ['__proto__']: string }))).toBeNull();
    expect(writerOf(object({ a: string, b: jsonValue }))).toBeNull();
    expect(jsonWriterOf(jsonValue)({ a: [1, null] })).toBe('{"a":[1,null]}');
  });
});

describe('timeJson: a time written exactly, cheaply', () => {
  /** Doubles around today's clock readings, fractional ones first, and edges of the exact range. */
  const times = fc.oneof(
    fc.double({ min: 2 ** 37, max: 2 ** 53, noNaN: true }),
    fc.integer({ min: 0, max: 2 ** 20 }).map((k) => 1_718_000_000_000 + k / 4096),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 2 ** 37, 2 ** 37 - 0.5, 2 ** 37 + 2 ** -15, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1.5, 1e21, -1.5, 5e-324),
  );

  it('gives a JSON number that parses back to the same double, for any finite time', () => {
    fc.assert(
      fc.property(times, (t) => {
        const text = timeJson(t);
        expect(text).toMatch(/^-?\d+(\.\d+)?(e[+-]\d+)?$/);
        expect(Object.is(JSON.parse(text), t === 0 ? 0 : t)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it("writes a fraction's exact digits without trailing zeros, and whole and out-of-range times as String does", () => {
    expect(timeJson(1_718_000_000_000.123)).toBe('1718000000000.123046875');
    expect(timeJson(1_718_000_000_000.5)).toBe('1718000000000.5');
    expect(timeJson(1_718_000_000_000 + 2 ** -12)).toBe('1718000000000.000244140625');
    expect(timeJson(2 ** 37 + 2 ** -15)).toBe('137438953472.000030517578125');
    expect(timeJson(1_718_000_000_000)).toBe('1718000000000');
    for (const t of [0, 12.25, 2 ** 37 - 0.5, -3.5, 1e21, Number.MAX_SAFE_INTEGER]) expect(timeJson(t)).toBe(String(t));
  });
});

