import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { defineCatalogue, type Catalogue } from '../../src/events/catalogue.js';
import {
  finiteNumber,
  hex64,
  isPlainObject,
  issue,
  nonEmptyString,
  nonNegativeInteger,
  object,
  optional,
  type Check,
} from '../../src/kernel/checks.js';
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
  asJson,
  nodeEventArbitrary,
  type InvalidCase,
} from './arbitraries.js';
import { HASH_A, sampleEvent, samples } from './samples.js';
import { expectDeepFrozen } from './frozen.js';
import { runs } from '../../property-tests/kernel/support.js';

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
  it.each(types)('accepts a valid %s and returns an equal, deep-frozen copy', (type) => {
    const event = sampleEvent(type);
    const parsed = nodeCatalogue.validate(event);
    expect(parsed).toEqual(event);
    expect(parsed).not.toBe(event);
    expect(parsed.payload).not.toBe(event.payload);
    expectDeepFrozen(parsed);
    expect(nodeCatalogue.check(event)).toEqual(event);
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
      issue('payload.blockHash', 'a 64-character lowercase hex string', 'string "ab"'),
      issue('payload.height', 'a non-negative safe integer', 'string "x"'),
    ]);
  });

  it('accepts events that went through JSON', () => {
    for (const type of types) {
      const event: unknown = JSON.parse(JSON.stringify(sampleEvent(type)));
      expect(nodeCatalogue.check(event)).toEqual(event);
    }
  });

  it('accepts optional fields absent', () => {
    const event = { type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'low', reason: 'periodic' } };
    expect(nodeCatalogue.validate(event)).toEqual(event);
    expect(Object.keys(nodeCatalogue.validate(event).payload)).toEqual(['operation', 'urgency', 'reason']);
  });

  it('rejects an unknown type with unknown-event-type', () => {
    const error = failure({ type: 'NewBlok', payload: { blockHash: HASH_A, height: 1 } });
    expect(error.code).toBe('unknown-event-type');
    expect(error.message).toBe('Invalid event: type: expected a known event type, got string "NewBlok"');
    expect(error.issues).toEqual([issue('type', 'a known event type', 'string "NewBlok"')]);
  });

  it.each([
    ['null', null],
    ['a string', 'NewBlock'],
    ['an array', [{ type: 'NewBlock' }]],
    ['a class instance', new Date(0)],
    ['a missing type', { payload: { blockHash: HASH_A, height: 1 } }],
    ['a non-string type', { type: 7, payload: {} }],
  ])('rejects %s with invalid-event', (_name, value) => {
    const error = failure(value);
    expect(error.code).toBe('invalid-event');
    expect(error.issues).toHaveLength(1);
  });

  it('rejects unknown top-level fields with invalid-event', () => {
    const error = failure({ ...sampleEvent('NewBlock'), priority: 'high' });
    expect(error.code).toBe('invalid-event');
    expect(error.message).toBe('Invalid event: priority: expected only the fields type, payload, meta, got an unknown field');
  });

  it('accepts valid meta and rejects malformed meta with invalid-event', () => {
    const withMeta = { ...sampleEvent('NewBlock'), meta: { source: 'node', seq: 3, time: 12.5 } };
    const parsed = nodeCatalogue.validate(withMeta);
    expect(parsed).toEqual(withMeta);
    expectDeepFrozen(parsed);
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
        if (isModactorError(result)) {
          issues.push(issue(path, 'a Ping payload', result.message));
          return { n: 0 };
        }
        return result.payload;
      },
    });
    expect(isModactorError(outer.check({ type: 'Wrap', payload: { n: -1 } }), 'invalid-payload')).toBe(true);
    const ok = { type: 'Wrap', payload: { n: 1 } };
    expect(outer.check(ok)).toEqual(ok);
    // and the shared scratch space is clean afterwards
    expect(isModactorError(outer.check({ type: 'Wrap', payload: { n: 'x' } }), 'invalid-payload')).toBe(true);
    expect(outer.check(ok)).toEqual(ok);
  });

  it('does not keep issues of a failed validation around for the next one', () => {
    failure({ type: 'NewBlock', payload: { blockHash: 'x', height: -1 } });
    const event = sampleEvent('NewBlock');
    expect(nodeCatalogue.check(event)).toEqual(event);
    const error = failure({ type: 'NewTransaction', payload: { txHash: 1 } });
    expect(error.issues).toHaveLength(1);
  });
});

describe('parsing: what is delivered is what was checked', () => {
  it('reads the type once: a type getter cannot pass one payload shape under another type', () => {
    let reads = 0;
    const event = {
      get type(): string {
        reads++;
        return reads === 1 ? 'HealthCheck' : 'NodeShutdown';
      },
      payload: { checkType: 'periodic', nodeHealthy: true },
    };
    const parsed = nodeCatalogue.validate(event);
    expect(reads).toBe(1);
    expect(parsed).toEqual({ type: 'HealthCheck', payload: { checkType: 'periodic', nodeHealthy: true } });
    expectDeepFrozen(parsed);
  });

  it('shares nothing with the input: mutating it afterwards changes nothing delivered', () => {
    const payload = { blockHash: HASH_A, height: 1 };
    const event = { type: 'NewBlock', payload, meta: { source: 'x' } };
    const parsed = nodeCatalogue.validate(event);
    payload.height = -1;
    event.meta.source = 'node';
    expect(parsed).toEqual({ type: 'NewBlock', payload: { blockHash: HASH_A, height: 1 }, meta: { source: 'x' } });
    expect(() => {
      (parsed.payload as { height: number }).height = 2;
    }).toThrow(TypeError);
  });

  it('with a meta to stamp, carries exactly that meta and never reads the caller\'s own', () => {
    let read = false;
    const event = {
      ...sampleEvent('NewBlock'),
      get meta(): unknown {
        read = true;
        return { source: 'node', seq: 999 };
      },
    };
    const stamp = { source: 'indexer', seq: 7, time: 12 };
    const parsed = nodeCatalogue.validate(event, stamp);
    expect(read).toBe(false);
    expect(parsed.meta).toEqual(stamp);
    expect(parsed.meta).not.toBe(stamp);
    expectDeepFrozen(parsed);
    const frozen = Object.freeze({ source: 'node', seq: 8, time: 13 });
    expect(nodeCatalogue.validate(sampleEvent('NewBlock'), frozen).meta).toBe(frozen);
    // a forged meta is ignored even when malformed
    expect(nodeCatalogue.validate({ ...sampleEvent('NewBlock'), meta: { seq: -1, evil: true } }, stamp).meta).toEqual(stamp);
  });

  it('without a meta to stamp, a caller\'s meta is checked and copied', () => {
    const meta = { source: 'a', seq: 1 };
    const parsed = nodeCatalogue.validate({ ...sampleEvent('NewBlock'), meta });
    expect(parsed.meta).toEqual(meta);
    expect(parsed.meta).not.toBe(meta);
  });

  it('refuses an event whose own reads throw with invalid-event, never a raw error', () => {
    const { proxy, revoke } = Proxy.revocable({ ...sampleEvent('NewBlock') }, {});
    revoke();
    expect(failure(proxy).code).toBe('invalid-event');
    const throwingType = { get type(): string { throw new Error('boom'); }, payload: {} };
    expect(failure(throwingType).code).toBe('invalid-event');
    const throwingPayload = { type: 'NewBlock', payload: { blockHash: HASH_A, get height(): number { throw new Error('boom'); } } };
    const error = failure(throwingPayload);
    expect(error.code).toBe('invalid-payload');
    expect(error.issues.map((found) => found.path)).toEqual(['payload.height']);
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
  prop.prop([nodeEventArbitrary], { numRuns: runs(500) })('returns an equal deep-frozen copy of any valid event', (event) => {
    const parsed = nodeCatalogue.validate(event);
    expect(parsed).toEqual(asJson(event));
    expectDeepFrozen(parsed);
    const roundTripped: unknown = JSON.parse(JSON.stringify(event));
    expect(nodeCatalogue.check(roundTripped)).toEqual(roundTripped);
  });

  prop.prop([invalidNodeEventArbitrary], { numRuns: runs(1_000) })(
    'rejects any mutated event with the right code and path',
    rejectsMutations(nodeCatalogue),
  );

  prop.prop([fc.anything()], { numRuns: runs(300) })('never throws from check, whatever it is given', (value) => {
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
      return nodePayloadChecks.PeerUnbanned({ peerAddr: (value as { peerAddr?: unknown }).peerAddr }, path, issues);
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
      return tolerant(value, path, issues);
    };
    expect(caught(broken('MaintenanceStarted', undefinedOk), 'MaintenanceStarted')).toBe(true);
  });
});
