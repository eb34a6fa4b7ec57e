/**
 * Hostile input at the catalogue: whatever is published (cycles, deep nesting, huge strings and
 * arrays, `__proto__` keys, BigInt, symbols, functions, class instances, getters that flip or
 * throw, proxies whose traps throw, revoked proxies), `catalogue.check` never throws; it returns a
 * typed refusal or a deep-frozen event that survives JSON unchanged and shares nothing with what
 * was published.
 */
import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { defineCatalogue, type Catalogue, type CatalogueSchema } from '../../src/events/catalogue.js';
import { nodeCatalogue, nodePayloadChecks, type NodeEventMap } from '../../src/events/node-catalogue.js';
import { isModactorError } from '../../src/kernel/errors.js';
import { HOSTILE_KINDS, hostileEventArbitrary, hostileValue, nodeEventArbitrary } from './arbitraries.js';
import { isDeepFrozen, objectsIn } from './frozen.js';
import { sampleEvent } from './samples.js';
import { runs } from '../../property-tests/kernel/support.js';

const EVENT_CODES: readonly string[] = ['invalid-event', 'unknown-event-type', 'invalid-payload'];

/** At most this many objects and keys per object are walked in a hostile input. */
const WALK_OBJECTS = 5_000;
const WALK_KEYS = 200;

/**
 * Visits the objects reachable from a hostile input through its own data properties, without
 * calling a getter, tolerating traps that throw; stops after {@link WALK_OBJECTS}.
 */
function walkInput(input: unknown, visit: (object: object, key: PropertyKey, descriptor: PropertyDescriptor) => void): Set<object> {
  const seen = new Set<object>();
  const stack: unknown[] = [input];
  while (stack.length > 0 && seen.size < WALK_OBJECTS) {
    const value = stack.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    let keys: PropertyKey[] = [];
    try {
      // Indexes of a (possibly huge) array are not listed: the first ones are enough.
      keys = Array.isArray(value)
        ? Array.from({ length: Math.min(WALK_KEYS, (value as unknown[]).length) }, (_, i) => String(i))
        : Reflect.ownKeys(value).slice(0, WALK_KEYS);
    } catch {
      continue;
    }
    for (const key of keys) {
      try {
        const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
        if (descriptor === undefined || !('value' in descriptor)) continue;
        visit(value, key, descriptor);
        stack.push(descriptor.value);
      } catch {
        // a trap that throws: nothing to walk there
      }
    }
  }
  return seen;
}

/** Changes every writable data field of the input that can be changed (in place). */
function mutateInput(input: unknown): void {
  walkInput(input, (object, key, descriptor) => {
    if (descriptor.writable !== true) return;
    try {
      Reflect.set(object, key, typeof descriptor.value === 'number' ? -1 : 'mutated');
    } catch {
      // a trap that throws
    }
  });
}

/** The property, over any catalogue of the node event types (so broken variants can be tried). */
function parsesSafely(catalogue: Catalogue<NodeEventMap>) {
  return (input: unknown): void => {
    const inputObjects = walkInput(input, () => undefined);
    let result: unknown;
    expect(() => {
      result = catalogue.check(input);
    }).not.toThrow();
    if (isModactorError(result)) {
      expect(EVENT_CODES).toContain(result.code);
      expect(result.issues.length).toBeGreaterThan(0);
      for (const found of result.issues) expect(found.message).toBe(`expected ${found.expected}, got ${found.got}`);
      return;
    }
    expect(isDeepFrozen(result), 'deep-frozen').toBe(true);
    expect(JSON.parse(JSON.stringify(result)) as unknown).toStrictEqual(result);
    for (const object of objectsIn(result)) expect(inputObjects.has(object), 'shares an object with the input').toBe(false);
    const before = JSON.stringify(result);
    mutateInput(input);
    expect(JSON.stringify(result)).toBe(before);
  };
}

/** What is published: a hostile event (built inside the property), a valid one, or anything. */
const anyInput: fc.Arbitrary<() => unknown> = fc.oneof(
  { arbitrary: hostileEventArbitrary.map((c) => Object.assign(c.build, { [fc.toStringMethod]: () => c.describe })), weight: 4 },
  { arbitrary: nodeEventArbitrary.map((event) => Object.assign(() => event, { [fc.toStringMethod]: () => fc.stringify(event) })), weight: 1 },
  { arbitrary: fc.anything().map((value) => Object.assign(() => value, { [fc.toStringMethod]: () => fc.stringify(value) })), weight: 1 },
);

const published = (catalogue: Catalogue<NodeEventMap>) => (build: () => unknown): void => parsesSafely(catalogue)(build());

describe('hostile input at the catalogue', () => {
  prop.prop([anyInput], { numRuns: runs(1_000) })(
    'check never throws; it refuses with an event code or returns deep-frozen JSON data sharing nothing with the input',
    published(nodeCatalogue),
  );

  it.each(HOSTILE_KINDS)('handles %s at every spot of an event without throwing', (kind) => {
    const event = sampleEvent('NodeStartupCompleted');
    const inputs: unknown[] = [
      hostileValue(kind, event),
      { type: hostileValue(kind, event.type), payload: event.payload },
      { type: event.type, payload: hostileValue(kind, event.payload) },
      { type: event.type, payload: { ...event.payload, components: hostileValue(kind, ['a']) } },
      { ...event, meta: hostileValue(kind, { seq: 1 }) },
    ];
    for (const input of inputs) parsesSafely(nodeCatalogue)(input);
  });

  it('refuses a flipping getter\'s second answer: what was checked is what is delivered', () => {
    let reads = 0;
    const payload = {
      blockHash: 'ab'.repeat(32),
      get height(): unknown {
        return ++reads === 1 ? 5 : 10n;
      },
    };
    const result = nodeCatalogue.check({ type: 'NewBlock', payload });
    expect(isModactorError(result)).toBe(false);
    expect(result).toEqual({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 5 } });
  });
});

describe('the hostile-input property catches broken catalogues', () => {
  /** Every payload check replaced by `wrap(original)`. */
  const brokenBy = (wrap: (check: (typeof nodePayloadChecks)[keyof NodeEventMap]) => CatalogueSchema<NodeEventMap>[keyof NodeEventMap]): Catalogue<NodeEventMap> =>
    defineCatalogue<NodeEventMap>(
      Object.fromEntries(Object.entries(nodePayloadChecks).map(([type, check]) => [type, wrap(check)])) as unknown as CatalogueSchema<NodeEventMap>,
    );
  const caught = (catalogue: Catalogue<NodeEventMap>): boolean =>
    fc.check(fc.property(anyInput, published(catalogue)), { numRuns: 1_000, seed: 42 }).failed;

  it('sanity: the real catalogue passes the same runs', () => {
    expect(caught(nodeCatalogue)).toBe(false);
  });

  it('a validate-only catalogue that delivers the publisher\'s own payload', () => {
    expect(caught(brokenBy((check) => (value, path, issues) => (check(value, path, issues), value as never)))).toBe(true);
  });

  it('a catalogue that copies but does not freeze', () => {
    expect(caught(brokenBy((check) => (value, path, issues): never => ({ ...check(value, path, issues) }) as never))).toBe(true);
  });

  it('a catalogue that checks, then reads the fields again for the copy', () => {
    expect(
      caught(
        brokenBy((check) => (value, path, issues) => {
          check(value, path, issues);
          return Object.freeze({ ...(value as object) }) as never;
        }),
      ),
    ).toBe(true);
  });
});
