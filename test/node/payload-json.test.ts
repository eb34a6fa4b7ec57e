import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeCatalogue } from '../../src/events/node-catalogue.js';
import { acceptedEvents, acceptedPayloadJson } from '../../src/node/payload-json.js';
import { nodeEventArbitrary } from '../events/arbitraries.js';

/**
 * What a node writes of the events it accepted (to its store, its bus, its process modules) is
 * what `JSON.stringify` would have written: the same text for a payload, the same value for a
 * whole event.
 */
describe('accepted events as JSON', () => {
  const accepted = acceptedEvents(nodeCatalogue);
  const payloadJson = acceptedPayloadJson(nodeCatalogue);

  it('writes every validated, stamped node event to the value JSON.stringify gives', () => {
    fc.assert(
      fc.property(nodeEventArbitrary, fc.string({ unit: 'binary', maxLength: 20 }), fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true }), (raw, source, seq, time) => {
        const event = nodeCatalogue.validate(raw, Object.freeze({ source, seq, time }));
        const json = accepted.json(event);
        if (accepted.writes(event.type)) expect(JSON.parse(json as string)).toEqual(JSON.parse(JSON.stringify(event)));
        else expect(json).toBeNull();
        expect(payloadJson(event.type, event.payload)).toBe(JSON.stringify(event.payload));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves reserved types (built by node code, never validated) to JSON.stringify', () => {
    const event = { type: 'ModuleLoaded', payload: { moduleName: 'a', version: '1.0.0', extra: 1 }, meta: { source: 'node', seq: 1, time: 0 } };
    expect(accepted.writes('ModuleLoaded')).toBe(false);
    expect(accepted.json(event)).toBeNull();
    expect(payloadJson('ModuleLoaded', event.payload)).toBe(JSON.stringify(event.payload));
    expect(accepted.writes('NewBlock')).toBe(true);
  });
});
