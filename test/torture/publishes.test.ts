/**
 * Campaign (a)'s oracle, on inputs written by hand (each a reading of docs/events.md), and the
 * campaign shown to catch broken catalogues: one that delivers the publisher's own object, one
 * that reads every field twice, one that lets an invalid payload through, one that throws raw
 * errors. (The campaign itself runs quick in campaigns.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { isModactorError, nodeCatalogue, type Catalogue, type NodeEvent, type NodeEventMap } from '../../src/index.js';
import { runPublishes } from '../../torture/campaigns/publishes.js';
import { oracle, type Publisher, type Verdict } from '../../torture/lib/event-oracle.js';
import { data, plain, value, type Field, type Spec } from '../../torture/lib/hostile.js';

const NODE: Publisher = { kind: 'node' };
const CATALOGUE: Publisher = { kind: 'catalogue' };
const event = (type: string, payload: Spec, ...more: Field[]): Spec => plain([data('type', value(type)), data('payload', payload), ...more]);
const newBlock = (height: Spec = value(1), ...more: Field[]): Spec =>
  event('NewBlock', plain([data('blockHash', value('ab'.repeat(32))), data('height', height), ...more]));
const codes = (verdict: Verdict): string[] => (verdict.accepted ? ['accepted'] : [...verdict.codes].sort());

describe('the publishes oracle reads docs/events.md', () => {
  it('accepts a valid event as a fresh copy, -0 as 0', () => {
    const verdict = oracle(newBlock(value(-0)), NODE);
    expect(verdict.accepted && Object.is((verdict.event.payload as { height: number }).height, 0)).toBe(true);
  });

  it('refuses unknown and missing fields, undefined optional fields, wrong scalars with invalid-payload', () => {
    expect(codes(oracle(newBlock(value(1), data('extra', value(1))), NODE))).toEqual(['invalid-payload']);
    expect(codes(oracle(event('NewBlock', plain([data('height', value(1))])), NODE))).toEqual(['invalid-payload']);
    expect(codes(oracle(event('HealthCheck', plain([data('checkType', value('x')), data('nodeHealthy', value(true)), data('healthReport', value(undefined))])), NODE))).toEqual(['invalid-payload']);
    expect(codes(oracle(newBlock(value(2 ** 53)), NODE))).toEqual(['invalid-payload']);
    expect(codes(oracle(newBlock(value(1n)), NODE))).toEqual(['invalid-payload']);
    expect(codes(oracle(event('NewBlock', value(undefined)), NODE))).toEqual(['invalid-payload']);
  });

  it('a __proto__ own key is a field: unknown in a payload, a key like any other in results', () => {
    expect(codes(oracle(newBlock(value(1), data('__proto__', value(1))), NODE))).toEqual(['invalid-payload']);
    const results = plain([data('__proto__', value('x')), data('n', value(-0))]);
    const verdict = oracle(event('MaintenanceCompleted', plain([data('maintenanceType', value('m')), data('success', value(true)), data('durationMs', value(1)), data('results', results)])), NODE);
    expect(verdict.accepted).toBe(true);
    const copy = verdict.accepted ? ((verdict.event.payload as { results: object }).results as Record<string, unknown>) : {};
    expect(Object.keys(copy)).toEqual(['__proto__', 'n']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('takes no type from the prototype: constructor, __proto__ and toString are unknown types', () => {
    for (const type of ['constructor', '__proto__', 'toString']) expect(codes(oracle(event(type, plain([])), NODE))).toEqual(['unknown-event-type']);
  });

  it('reads each field once: a flipping getter delivers its first answer, read exactly once', () => {
    const field: Field = { key: 'height', value: value(7), access: 'flips', later: value(-1) };
    const verdict = oracle(event('NewBlock', plain([data('blockHash', value('ab'.repeat(32))), field])), NODE);
    expect(verdict.accepted && (verdict.event.payload as { height: number }).height).toBe(7);
    expect(verdict.reads.get(field, '')).toBe(1);
  });

  it('bounds arrays at 10,000 elements', () => {
    const startup = (length: number): Spec => event('NodeStartupCompleted', plain([data('durationMs', value(1)), data('components', { k: 'repeat', length, item: 'm' })]));
    expect(codes(oracle(startup(10_000), NODE))).toEqual(['accepted']);
    expect(codes(oracle(startup(10_001), NODE))).toEqual(['invalid-payload']);
  });

  it('hostile containers: a revoked proxy payload is invalid-payload, an envelope whose keys cannot be listed invalid-event', () => {
    expect(codes(oracle(event('NewBlock', { k: 'proxy', target: plain([]), trap: 'revoked' }), NODE))).toEqual(['invalid-payload']);
    const envelope = plain([data('type', value('NewBlock'))]);
    expect(codes(oracle({ k: 'proxy', target: envelope, trap: 'ownKeys' }, NODE))).toEqual(['invalid-event']);
    expect(codes(oracle({ k: 'instance', of: 'Map' }, NODE))).toEqual(['invalid-event']);
  });

  it("publishing never reads the event's meta; catalogue.check checks it", () => {
    const meta: Field = { key: 'meta', value: plain([data('source', value(5))]), access: 'getter' };
    const withMeta = event('NewBlock', plain([data('blockHash', value('ab'.repeat(32))), data('height', value(1))]), meta);
    const verdict = oracle(withMeta, NODE);
    expect(codes(verdict)).toEqual(['accepted']);
    expect(verdict.reads.get(meta, '')).toBe(0);
    expect(codes(oracle(withMeta, CATALOGUE))).toEqual(['invalid-event']);
  });

  it('ctx.publish: reserved and unlisted types are not-permitted; either code where two apply', () => {
    const narrow: Publisher = { kind: 'module', publishes: new Set(['NewBlock']) };
    const open: Publisher = { kind: 'module', publishes: null };
    const shutdown = event('NodeShutdown', plain([data('reason', value('x')), data('timeoutSeconds', value(1))]));
    expect(codes(oracle(shutdown, open))).toEqual(['not-permitted']);
    expect(codes(oracle(newBlock(), narrow))).toEqual(['accepted']);
    expect(codes(oracle(event('HealthCheck', plain([])), narrow))).toEqual(['invalid-payload', 'not-permitted']);
  });

  it('symbol keys are not fields', () => {
    expect(codes(oracle(newBlock(value(1), data(Symbol('s'), value(1n))), NODE))).toEqual(['accepted']);
  });
});

/** The node's catalogue with another `validate` (and a `check` made from it). */
function variant(validate: Catalogue<NodeEventMap>['validate']): Catalogue<NodeEventMap> {
  return {
    types: nodeCatalogue.types,
    has: (type: string): type is NodeEvent['type'] => nodeCatalogue.has(type),
    validate,
    check(value, meta) {
      try {
        return validate(value, meta);
      } catch (error) {
        if (isModactorError(error)) return error;
        throw error;
      }
    },
  };
}

const quiet = { quick: true, log: () => undefined, inputs: 600, maxFailures: 1000 };

describe('the publishes campaign catches a broken node', () => {
  it("that delivers the publisher's own payload", { timeout: 60_000 }, async () => {
    // Stamped as the node stamps, but the payload is the publisher's object.
    const sharing = variant((value, meta) => {
      const checked = nodeCatalogue.validate(value, meta);
      return Object.freeze({ ...checked, payload: (value as { payload: unknown }).payload }) as NodeEvent;
    });
    const { failures } = await runPublishes({ ...quiet, catalogue: sharing });
    expect(failures.some((f) => /shares an? \w+ with the input/.test(f))).toBe(true);
    expect(failures.some((f) => /not frozen/.test(f))).toBe(true);
  });

  it('that reads every field twice', { timeout: 60_000 }, async () => {
    const twice = variant((value, meta) => {
      nodeCatalogue.check(value, meta);
      return nodeCatalogue.validate(value, meta);
    });
    const { failures } = await runPublishes({ ...quiet, catalogue: twice });
    expect(failures.some((f) => /read 2 times/.test(f))).toBe(true);
  });

  it('that lets a payload with an unknown field through', { timeout: 60_000 }, async () => {
    const lax = variant((value, meta) => {
      const result = nodeCatalogue.check(value, meta);
      if (!isModactorError(result) || result.code !== 'invalid-payload' || !result.issues.every((i) => i.got === 'an unknown field')) {
        if (isModactorError(result)) throw result;
        return result;
      }
      const { type, payload } = value as { type: NodeEvent['type']; payload: object };
      return Object.freeze({ type, payload: Object.freeze({ ...payload }) }) as NodeEvent;
    });
    const { failures } = await runPublishes({ ...quiet, catalogue: lax });
    expect(failures.some((f) => /accepted, but the documents refuse it with invalid-payload/.test(f))).toBe(true);
  });

  it('that throws raw errors on values JSON cannot hold', { timeout: 60_000 }, async () => {
    const raw = variant((value, meta) => {
      JSON.stringify(value);
      return nodeCatalogue.validate(value, meta);
    });
    const { failures } = await runPublishes({ ...quiet, catalogue: raw });
    expect(failures.some((f) => /threw something other than a ModactorError/.test(f))).toBe(true);
  });
});
