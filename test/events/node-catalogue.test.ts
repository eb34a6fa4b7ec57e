import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { defineCatalogue, type Catalogue, type Check } from '../../src/events/catalogue.js';
import {
  finiteNumber,
  hex64,
  isPlainObject,
  nonEmptyString,
  nonNegativeInteger,
  object,
  optional,
} from '../../src/events/checks.js';
import {
  EventType,
  eventFamilies,
  nodeCatalogue,
  nodePayloadChecks,
  type NodeEventMap,
  type NodeEventType,
} from '../../src/events/node-catalogue.js';
import { isModactorError, type ModactorError } from '../../src/kernel/errors.js';
import {
  invalidNodeEventArbitrary,
  invalidNodeEventArbitraryOf,
  isAtOrInside,
  nodeEventArbitrary,
  type InvalidCase,
} from './arbitraries.js';
import { HASH_A, sampleEvent, samples } from './samples.js';

const types = Object.keys(samples) as NodeEventType[];

function failure(value: unknown): ModactorError {
  const result = nodeCatalogue.check(value);
  if (!isModactorError(result)) throw new Error(`expected a validation error for ${JSON.stringify(value)}`);
  return result;
}

describe('the node catalogue', () => {
  it('has every SPEC event type, in SPEC order, and nothing else', () => {
    expect(nodeCatalogue.types).toEqual(Object.values(eventFamilies).flat());
    expect(nodeCatalogue.types).toHaveLength(35);
    expect(new Set(nodeCatalogue.types).size).toBe(35);
  });

  it('puts every type in exactly one family', () => {
    const seen = Object.values(eventFamilies).flat();
    expect([...seen].sort()).toEqual([...nodeCatalogue.types].sort());
    expect(Object.keys(eventFamilies)).toEqual(['core', 'governance', 'network', 'lifecycle', 'node', 'maintenance', 'resources']);
  });

  it('names every type in EventType with itself', () => {
    expect(Object.keys(EventType)).toEqual(nodeCatalogue.types);
    for (const [key, value] of Object.entries(EventType)) expect(value).toBe(key);
  });

  it('knows its types', () => {
    expect(nodeCatalogue.has('NewBlock')).toBe(true);
    expect(nodeCatalogue.has('newBlock')).toBe(false);
    expect(nodeCatalogue.has('toString')).toBe(false);
  });

  it('uses the field names SPEC lists, in its order', () => {
    const fields = (type: NodeEventType): string[] => Object.keys(nodePayloadChecks[type].shape);
    expect(fields('NewBlock')).toEqual(['blockHash', 'height']);
    expect(fields('PeerConnected')).toEqual(['peerAddr', 'transportType', 'services', 'version', 'peerNodeId']);
    expect(fields('DataMaintenance')).toEqual(['operation', 'urgency', 'reason', 'targetAgeDays', 'timeoutSeconds']);
    expect(fields('ModuleHealthChanged')).toEqual(['moduleName', 'oldHealth', 'newHealth']);
    expect(fields('ResourceLimitWarning')).toEqual(['resourceType', 'usagePercent', 'currentUsage', 'limit', 'thresholdPercent']);
  });

  it('has a sample for every type (the samples table is complete)', () => {
    expect([...types].sort()).toEqual([...nodeCatalogue.types].sort());
  });
});

describe('validation', () => {
  it.each(types)('accepts a valid %s and returns the same object', (type) => {
    const event = sampleEvent(type);
    expect(nodeCatalogue.validate(event)).toBe(event);
    expect(nodeCatalogue.check(event)).toBe(event);
  });

  it.each(types)('rejects an invalid %s with invalid-payload naming the field', (type) => {
    const { payload, path } = samples[type].invalid;
    const error = failure({ type, payload });
    expect(error.code).toBe('invalid-payload');
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain(`Invalid ${type} payload: ${path}: `);
    expect(error.message).toContain("expected");
    expect(() => nodeCatalogue.validate({ type, payload })).toThrow(error.message);
  });

  it('gives a message that says what was expected and what came', () => {
    const error = failure({ type: 'NewBlock', payload: { blockHash: 'ab', height: 'x' } });
    expect(error.message).toBe(
      'Invalid NewBlock payload: payload.blockHash: expected a 64-character lowercase hex string, got string "ab" (and 1 more)',
    );
    expect(error.issues).toEqual([
      { path: 'payload.blockHash', message: 'expected a 64-character lowercase hex string, got string "ab"' },
      { path: 'payload.height', message: 'expected a non-negative safe integer, got string "x"' },
    ]);
  });

  it('accepts events that went through JSON', () => {
    for (const type of types) {
      const event: unknown = JSON.parse(JSON.stringify(sampleEvent(type)));
      expect(nodeCatalogue.check(event)).toBe(event);
    }
  });

  it('accepts optional fields absent', () => {
    const event = { type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'low', reason: 'periodic' } };
    expect(nodeCatalogue.validate(event)).toBe(event);
  });

  it('rejects an unknown type with unknown-event-type', () => {
    const error = failure({ type: 'NewBlok', payload: { blockHash: HASH_A, height: 1 } });
    expect(error.code).toBe('unknown-event-type');
    expect(error.message).toBe('Expected a known event type, got string "NewBlok"');
  });

  it.each([
    ['null', null],
    ['a string', 'NewBlock'],
    ['an array', [{ type: 'NewBlock' }]],
    ['a class instance', new Date(0)],
    ['a missing type', { payload: { blockHash: HASH_A, height: 1 } }],
    ['a non-string type', { type: 7, payload: {} }],
  ])('rejects %s with invalid-event', (_name, value) => {
    expect(failure(value).code).toBe('invalid-event');
  });

  it('rejects unknown top-level fields with invalid-event', () => {
    const error = failure({ ...sampleEvent('NewBlock'), priority: 'high' });
    expect(error.code).toBe('invalid-event');
    expect(error.message).toBe('Expected only type, payload and meta in an event, got an unknown field string "priority"');
  });

  it('accepts valid meta and rejects malformed meta with invalid-event', () => {
    const withMeta = { ...sampleEvent('NewBlock'), meta: { source: 'node', seq: 3, time: 12.5 } };
    expect(nodeCatalogue.validate(withMeta)).toBe(withMeta);
    for (const meta of [null, 'x', { seq: -1 }, { seq: 1.5 }, { time: Number.NaN }, { source: 1 }, { origin: 'x' }, undefined]) {
      const error = failure({ ...sampleEvent('NewBlock'), meta });
      expect(error.code).toBe('invalid-event');
      expect(error.issues.length).toBeGreaterThan(0);
    }
  });

  it('rejects a missing or non-object payload at path payload', () => {
    for (const payload of [undefined, null, 'x', [], [HASH_A, 1]]) {
      const error = failure({ type: 'NewBlock', payload });
      expect(error.code).toBe('invalid-payload');
      expect(error.issues[0]?.path).toBe('payload');
    }
  });

  it('is re-entrant: a check may validate another event', () => {
    type Outer = { Wrap: { readonly n: number } };
    const inner = defineCatalogue<{ Ping: { readonly n: number } }>({ Ping: object({ n: nonNegativeInteger }) });
    const outer = defineCatalogue<Outer>({
      Wrap: (value, path, issues) => {
        const result = inner.check({ type: 'Ping', payload: value });
        if (isModactorError(result)) issues.push({ path, message: result.message });
      },
    });
    expect(isModactorError(outer.check({ type: 'Wrap', payload: { n: -1 } }), 'invalid-payload')).toBe(true);
    const ok = { type: 'Wrap', payload: { n: 1 } };
    expect(outer.check(ok)).toBe(ok);
    // and the shared scratch space is clean afterwards
    expect(isModactorError(outer.check({ type: 'Wrap', payload: { n: 'x' } }), 'invalid-payload')).toBe(true);
    expect(outer.check(ok)).toBe(ok);
  });

  it('does not keep issues of a failed validation around for the next one', () => {
    failure({ type: 'NewBlock', payload: { blockHash: 'x', height: -1 } });
    const event = sampleEvent('NewBlock');
    expect(nodeCatalogue.check(event)).toBe(event);
    const error = failure({ type: 'NewTransaction', payload: { txHash: 1 } });
    expect(error.issues).toHaveLength(1);
  });
});

/** The rejection property, over any catalogue of the node event types (so broken variants can be tried). */
function rejectsMutations(catalogue: Catalogue<NodeEventMap>) {
  return (invalid: InvalidCase): void => {
    const result = catalogue.check(invalid.value);
    expect(isModactorError(result), invalid.mutation).toBe(true);
    const error = result as ModactorError;
    expect(error.code, invalid.mutation).toBe(invalid.code);
    const { path } = invalid;
    if (path !== undefined) {
      expect(error.issues.some((issue) => isAtOrInside(issue.path, path)), `${invalid.mutation}: ${error.message}`).toBe(true);
    }
  };
}

describe('validation properties', () => {
  prop.prop([nodeEventArbitrary], { numRuns: 500 })('returns the same object for any valid event', (event) => {
    expect(nodeCatalogue.validate(event)).toBe(event);
    const roundTripped: unknown = JSON.parse(JSON.stringify(event));
    expect(nodeCatalogue.check(roundTripped)).toBe(roundTripped);
  });

  prop.prop([invalidNodeEventArbitrary], { numRuns: 1_000 })(
    'rejects any mutated event with the right code and path',
    rejectsMutations(nodeCatalogue),
  );

  prop.prop([fc.anything()], { numRuns: 300 })('never throws from check, whatever it is given', (value) => {
    expect(() => nodeCatalogue.check(value)).not.toThrow();
  });
});

describe('the properties catch broken catalogues', () => {
  const broken = (type: NodeEventType, check: Check<unknown>): Catalogue<NodeEventMap> =>
    defineCatalogue<NodeEventMap>({ ...nodePayloadChecks, [type]: check });
  const caught = (catalogue: Catalogue<NodeEventMap>, type: NodeEventType): boolean =>
    fc.check(fc.property(invalidNodeEventArbitraryOf([type]), rejectsMutations(catalogue)), { numRuns: 2_000, seed: 42 }).failed;

  it('sanity: the real catalogue passes the same runs', () => {
    expect(caught(nodeCatalogue, 'NewBlock')).toBe(false);
  });

  it('a height that may be fractional or negative', () => {
    expect(caught(broken('NewBlock', object({ blockHash: hex64, height: finiteNumber })), 'NewBlock')).toBe(true);
  });

  it('a hash that may be uppercase', () => {
    const anyHex = object({ txHash: nonEmptyString });
    expect(caught(broken('NewTransaction', anyHex), 'NewTransaction')).toBe(true);
  });

  it('a payload that lets unknown fields through', () => {
    const lenient: Check<unknown> = (value, path, issues) => {
      if (!isPlainObject(value)) return nodePayloadChecks.PeerUnbanned(value, path, issues);
      nodePayloadChecks.PeerUnbanned({ peerAddr: (value as { peerAddr?: unknown }).peerAddr }, path, issues);
    };
    expect(caught(broken('PeerUnbanned', lenient), 'PeerUnbanned')).toBe(true);
  });

  it('an optional field that may be set to undefined', () => {
    const tolerant = object({ maintenanceType: nonEmptyString, estimatedDurationSeconds: optional(nonNegativeInteger) });
    const undefinedOk: Check<unknown> = (value, path, issues) => {
      if (isPlainObject(value) && (value as { estimatedDurationSeconds?: unknown }).estimatedDurationSeconds === undefined) {
        const { maintenanceType } = value as { maintenanceType?: unknown };
        return tolerant({ maintenanceType }, path, issues);
      }
      tolerant(value, path, issues);
    };
    expect(caught(broken('MaintenanceStarted', undefinedOk), 'MaintenanceStarted')).toBe(true);
  });
});
