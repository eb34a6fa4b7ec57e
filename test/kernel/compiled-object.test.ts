import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrayOf,
  compiledObject,
  hex64,
  interpretedObject,
  nonNegativeInteger,
  object,
  optional,
  string,
  type Check,
  type Shape,
} from '../../src/kernel/checks.js';
import type { ValidationIssue } from '../../src/kernel/errors.js';
import { generated } from '../../src/kernel/generated-code.js';
import { jsonWriterOf, objectWriter } from '../../src/kernel/json-writer.js';

/**
 * `object()` writes its field loop out as code per shape (a call site per field, the copy built by
 * a literal). Its contract is the interpreted loop's: these properties hold the two to the same
 * results, issues and key order over random shapes (odd keys included) and random inputs.
 */

/** Keys that would break naive code generation: quotes, escapes, line separators, `__proto__`. */
const KEYS = ['a', 'height', '__proto__', 'constructor', 'a b', '"q"', "it's", 'back\\slash', 'line\u2028sep', 'new\nline', '0', '$x', 'é'];

const LEAVES: readonly Check<unknown>[] = [string, nonNegativeInteger, hex64, arrayOf(string, { maxLength: 2 })];

const shapeArb = fc
  .uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), leaf: fc.nat(LEAVES.length - 1), optional: fc.boolean() }), {
    minLength: 1,
    maxLength: 6,
    selector: (f) => f.key,
  })
  .map((fields) => fields);

/** A value each leaf accepts, by index in {@link LEAVES}. */
const VALID: readonly fc.Arbitrary<unknown>[] = [fc.string({ maxLength: 3 }), fc.nat(9), fc.constant('cd'.repeat(32)), fc.array(fc.string({ maxLength: 2 }), { maxLength: 2 })];

const valueArb = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.constant('ab'.repeat(32)),
  fc.nat(5),
  fc.constant(-1),
  fc.constant(undefined),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 }),
);

function run(check: Check<unknown>, value: unknown): { readonly result: unknown; readonly keys: string[] | null; readonly issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const result = check(value, 'payload', issues);
  return { result: issues.length > 0 ? null : result, keys: issues.length > 0 ? null : Reflect.ownKeys(result as object).map(String), issues };
}

/** Builds an input from entries with `defineProperty`, so a `__proto__` entry is an own field. */
function input(entries: readonly (readonly [string, unknown])[]): object {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

describe('compiled object checks', () => {
  it('give the interpreted loop’s result, key order and issues for any shape and input', () => {
    fc.assert(
      fc.property(
        // Mostly valid inputs (each field of the shape, with a value its leaf accepts, in any
        // order, or left out), spiced with random entries: valid, missing, extra, wrong, undefined.
        shapeArb.chain((fields) =>
          fc.tuple(
            fc.constant(fields),
            fc
              .tuple(
                fc.tuple(...fields.map((f) => fc.option(fc.tuple(fc.constant(f.key), VALID[f.leaf] as fc.Arbitrary<unknown>), { freq: 4 }))),
                fc.array(fc.tuple(fc.constantFrom(...KEYS, 'extra'), valueArb), { maxLength: 3 }),
                fc.boolean(),
              )
              .map(([valid, noise, reverse]) => {
                const entries = valid.filter((e): e is [string, unknown] => e !== null);
                return [...(reverse ? entries.reverse() : entries), ...noise.slice(0, noise.length % 2 === 0 ? 0 : noise.length)];
              }),
          ),
        ),
        ([fields, entries]) => {
          const shape: Record<string, Check<unknown>> = {};
          for (const f of fields) {
            const leaf = LEAVES[f.leaf] as Check<unknown>;
            Object.defineProperty(shape, f.key, { value: f.optional ? optional(leaf) : leaf, enumerable: true, writable: true, configurable: true });
          }
          // The generated code alone (object() would fall back to the loop and hide a broken one).
          const compiled = compiledObject(shape as Shape);
          const interpreted = interpretedObject(shape as Shape);
          const value = input(entries);
          const a = run(compiled, value);
          const b = run(interpreted, value);
          expect(a).toEqual(b);
          expect(run(object(shape as Shape), value)).toEqual(b);
          if (a.result !== null) {
            expect(Object.isFrozen(a.result)).toBe(true);
            expect(Object.getPrototypeOf(a.result)).toBe(Object.prototype);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('generate the code of shapes of 1 to 32 fields, and leave the loop to none or more', () => {
    const shapeOf = (count: number): Shape => Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, nonNegativeInteger]));
    const valueOf = (count: number): Record<string, number> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, i]));
    for (const count of [1, 2, 31, 32]) {
      const issues: ValidationIssue[] = [];
      const parsed = compiledObject(shapeOf(count))(valueOf(count), 'payload', issues);
      expect(issues).toEqual([]);
      expect(parsed).toEqual(valueOf(count));
      const write = objectWriter(
        Object.keys(shapeOf(count)).map((key) => ({ key, check: nonNegativeInteger, optional: false })),
        'compiled-only',
      ) as unknown as (value: unknown) => string;
      expect(write(parsed)).toBe(JSON.stringify(valueOf(count)));
    }
    for (const count of [0, 33]) {
      expect(() => compiledObject(shapeOf(count))).toThrow(/an object check to be generated code/);
      // object() takes the loop there, with the same results.
      const issues: ValidationIssue[] = [];
      const check = object(shapeOf(count));
      const parsed = check(valueOf(count), 'payload', issues);
      expect(issues).toEqual([]);
      expect(parsed).toEqual(valueOf(count));
      expect(jsonWriterOf(check)(parsed)).toBe(JSON.stringify(valueOf(count)));
    }
    const fields = Array.from({ length: 33 }, (_, i) => ({ key: `f${i}`, check: nonNegativeInteger, optional: false }));
    expect(() => objectWriter(fields, 'compiled-only')).toThrow(/generated code/);
    expect(() => objectWriter([], 'compiled-only')).toThrow(/generated code/);
  });

  it('make generated code from a function body, or null where it does not compile', () => {
    expect(generated<number, number>('x', ['return x + 1;'], 41)).toBe(42);
    expect(generated<number, () => number>('x', ['const y = x * 2;', 'return () => y;'], 21)?.()).toBe(42);
    // Strict code: no implicit global, no `this`.
    expect(generated<number, unknown>('x', ['return this;'], 0)).toBeUndefined();
    expect(generated<number, unknown>('x', ['undeclared = x;', 'return 1;'], 0)).toBeNull();
    expect(generated<number, unknown>('x', ['return (;'], 0)).toBeNull();
  });

  it('copy every field of a shape whose keys are all present through the literal, prototype untouched', () => {
    const odd = object({ ['__proto__']: string, 'a"b': nonNegativeInteger, 'line\u2028sep': string });
    const issues: ValidationIssue[] = [];
    const parsed = odd(JSON.parse('{"__proto__":"x","a\\"b":1,"line\\u2028sep":"y"}'), 'payload', issues) as Record<string, unknown>;
    expect(issues).toEqual([]);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a"b', 'line\u2028sep']);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toBe('x');
  });

  it('read each field once, through getters, as the loop does', () => {
    let reads = 0;
    const value = {
      get height(): number {
        reads++;
        return 7;
      },
    };
    const issues: ValidationIssue[] = [];
    expect(object({ height: nonNegativeInteger })(value, 'payload', issues)).toEqual({ height: 7 });
    expect(reads).toBe(1);
  });

  it('fall back to the loop where generating code is forbidden, with the same results and writers', async () => {
    // A child Node with --disallow-code-generation-from-strings: new Function throws there.
    const url = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
    const script = [
      `const { nodeCatalogue } = await import(${url('../../src/events/node-catalogue.ts')});`,
      `const { ownPayloadWriter } = await import(${url('../../src/events/catalogue.ts')});`,
      "let generated = true; try { new Function('return 1'); } catch { generated = false; }",
      "const event = nodeCatalogue.validate({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 3 } });",
      "const refused = nodeCatalogue.check({ type: 'NewBlock', payload: { blockHash: 'x', height: 1, extra: 2 } });",
      "console.log(JSON.stringify({ generated, frozen: Object.isFrozen(event.payload), written: ownPayloadWriter(nodeCatalogue, 'NewBlock')(event.payload), issues: refused.issues.map((i) => i.path) }));",
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual({
      generated: false,
      frozen: true,
      written: JSON.stringify({ blockHash: 'ab'.repeat(32), height: 1 + 2 }),
      issues: ['payload.blockHash', 'payload.extra'],
    });
  });
});
