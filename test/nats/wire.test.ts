/**
 * The bus message format: what a node encodes decodes back to the same events, and what is not a
 * well-formed message is refused with a reason, checked before parsing where it must be.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { nodeCatalogue } from '../../src/events/node-catalogue.js';
import type { StampedEvent } from '../../src/nats/port.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_MESSAGE_DEPTH,
  decodeMessage,
  depthWithin,
  batchMessage,
  encodeMessage,
  eventFields,
  isGarbage,
  utf8Over,
  type WireMessage,
} from '../../src/nats/wire.js';
import { nodeEventArbitrary } from '../events/arbitraries.js';
import { acceptedPayloadJson } from '../../src/node/payload-json.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const stampedArb: fc.Arbitrary<StampedEvent> = fc
  .tuple(nodeEventArbitrary, fc.string({ minLength: 1, maxLength: 30 }), fc.nat(), fc.nat())
  .map(([event, source, seq, time]) => ({ type: event.type, payload: event.payload, meta: { source, seq, time } }));

describe('encodeMessage / decodeMessage', () => {
  test.prop([fc.array(stampedArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.string({ minLength: 1, maxLength: 30 })])(
    'decode(encode(events)) gives back every event, its module and seq, which the catalogue accepts',
    (events, first, epoch) => {
      const decoded = decodeMessage(bytes(encodeMessage(JSON.stringify(epoch), first, events)));
      expect(isGarbage(decoded)).toBe(false);
      const message = decoded as WireMessage;
      expect(message.epoch).toBe(epoch);
      expect(message.first).toBe(first);
      expect(message.events.map((e) => ({ module: e.module, seq: e.seq, type: e.event.type, payload: e.event.payload }))).toEqual(
        events.map((e) => ({ module: e.meta.source, seq: e.meta.seq, type: e.type, payload: JSON.parse(JSON.stringify(e.payload)) as unknown })),
      );
      for (const e of message.events) expect(nodeCatalogue.check(e.event)).not.toBeInstanceOf(Error);
    },
  );

  test.prop([stampedArb])("writes an accepted event with the catalogue checks' writers exactly as with JSON.stringify", (raw) => {
    const event = { ...nodeCatalogue.validate({ type: raw.type, payload: raw.payload }), meta: raw.meta } as StampedEvent;
    expect(eventFields(event, acceptedPayloadJson(nodeCatalogue))).toBe(eventFields(event));
  });

  it('writes one event flat and several as a batch, from events encoded one by one', () => {
    const events: StampedEvent[] = [1, 2, 3].map((n) => ({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: n }, meta: { source: 'm', seq: n, time: 0 } }));
    expect(batchMessage('"e"', 7, events.map((e) => `{${eventFields(e)}}`).join(','))).toBe(encodeMessage('"e"', 7, events));
    expect(JSON.parse(encodeMessage('"e"', 7, events.slice(0, 1)))).toEqual({ e: 'e', n: 7, m: 'm', s: 1, type: 'NewBlock', payload: events[0]?.payload });
    expect(utf8Over('é'.repeat(10), 19)).toBe(true);
    expect(utf8Over('é'.repeat(10), 20)).toBe(false);
  });

  it('refuses what is over the size limit before decoding it', () => {
    const big = new Uint8Array(DEFAULT_MAX_MESSAGE_BYTES + 1);
    expect(decodeMessage(big)).toMatchObject({ garbage: 'oversize' });
    expect(decodeMessage(bytes('{"e":"x"}'), 4)).toMatchObject({ garbage: 'oversize' });
  });

  it('refuses nesting deeper than the limit before JSON.parse, but counts brackets inside strings for nothing', () => {
    const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(depthWithin(deep(MAX_MESSAGE_DEPTH), MAX_MESSAGE_DEPTH)).toBe(true);
    expect(depthWithin(deep(MAX_MESSAGE_DEPTH + 1), MAX_MESSAGE_DEPTH)).toBe(false);
    expect(depthWithin(`["${'['.repeat(1000)}\\"${'{'.repeat(1000)}"]`, 2)).toBe(true);
    expect(decodeMessage(bytes(`{"e":"x","n":1,"events":[{"m":"m","s":1,"type":"T","payload":${deep(MAX_MESSAGE_DEPTH)}}]}`))).toMatchObject({ garbage: 'too-deep' });
    // A million brackets: refused by the scan, never handed to JSON.parse.
    expect(decodeMessage(bytes('['.repeat(1_000_000)), 2_000_000)).toMatchObject({ garbage: 'too-deep' });
  });

  it('refuses malformed envelopes, naming what was expected', () => {
    const cases: [string, string][] = [
      ['{', 'not-json'],
      ['[]', 'bad-envelope'],
      ['{"e":"x","n":1}', 'bad-envelope'],
      ['{"e":"","n":1,"events":[]}', 'bad-envelope'],
      ['{"e":"x","n":1.5,"events":[{"m":"m","s":1,"type":"T","payload":{}}]}', 'bad-envelope'],
      ['{"e":"x","n":1,"events":[]}', 'bad-envelope'],
      ['{"e":"x","n":1,"events":[{"m":"m","s":1,"type":"T"}]}', 'bad-envelope'],
      ['{"e":"x","n":1,"events":[{"m":"m","s":1,"type":"T","payload":{},"x":1}]}', 'bad-envelope'],
      ['{"e":"x","n":9007199254740991,"events":[{"m":"m","s":1,"type":"T","payload":{}}]}', 'bad-envelope'],
      ['{"e":"x","n":1,"events":[1]}', 'bad-envelope'],
      ['{"e":"x","n":1,"m":"m","s":1,"type":"T"}', 'bad-envelope'],
      ['{"e":"x","n":1,"m":"m","s":1,"type":"T","payload":{},"events":[]}', 'bad-envelope'],
      ['{"e":"x","n":1,"m":"","s":1,"type":"T","payload":{}}', 'bad-envelope'],
      ['{"e":"x","n":1,"events":[{"m":"m","s":1,"type":"T","payload":{}}],"__proto__":{}}', 'bad-envelope'],
    ];
    for (const [text, reason] of cases) expect(decodeMessage(bytes(text)), text).toMatchObject({ garbage: reason });
  });

  test.prop([fc.uint8Array({ maxLength: 200 })])('never throws, whatever the bytes', (data) => {
    expect(() => decodeMessage(data)).not.toThrow();
  });
});
