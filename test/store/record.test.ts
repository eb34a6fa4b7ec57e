import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordBuffer, encodeEvent, eventBody, eventJson, frame, unframe, type LoggedEvent } from '../../src/store/record.js';

const event = (seq: number, payload: unknown, source = 'node'): LoggedEvent => ({ type: 'NewBlock', payload, meta: { seq, source, time: 1_718_000_000_000 + seq } });

describe('RecordBuffer: the batch framing', () => {
  it('writes exactly the bytes of the framed lines, whatever the characters, across growths, and again after clear', () => {
    const events = [
      event(1, { blockHash: 'ab'.repeat(32), height: 1 }),
      event(2, { text: 'é, ß, 中文, 🚀 and a "quote"\n' }, 'módulo-ü'),
      event(3, { lone: '\ud800 then \udfff' }),
      event(4, { big: 'x'.repeat(5000), emoji: '😀'.repeat(700) }),
      event(5, null),
    ];
    const buffer = new RecordBuffer(16); // tiny: every append grows it
    for (let round = 0; round < 2; round++) {
      for (const e of events) buffer.append(e, eventBody(e));
      expect(buffer.count).toBe(events.length);
      expect(buffer.bytes().equals(Buffer.from(events.map(encodeEvent).join('')))).toBe(true);
      buffer.clear();
      expect(buffer.count).toBe(0);
      expect(buffer.bytes().length).toBe(0);
    }
  });

  it('gives each record a checksum that unframe accepts, and a flipped byte fails it', () => {
    const buffer = new RecordBuffer();
    const e = event(7, { height: 7, note: 'ünïcode' });
    const json = eventJson(e);
    buffer.append(e, eventBody(e));
    const bytes = Buffer.from(buffer.bytes());
    expect(bytes.toString('utf8')).toBe(frame(json));
    const checked = unframe(bytes, 0, bytes.length - 1);
    expect('json' in checked && Buffer.from(checked.json).toString('utf8')).toBe(json);
    bytes[20] = (bytes[20] as number) ^ 1;
    expect(unframe(bytes, 0, bytes.length - 1)).toEqual({ fault: 'checksum' });
  });

  it('writes, for any event, the bytes of frame(eventJson(event)), and they read back as the same event', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('node', 'NewBlock', 'a"b', 'ü/模块', '\u2028', '\ud800'));
    const events = fc.array(
      fc.record({
        type: text.filter((t) => t.length > 0),
        payload: fc.jsonValue({ maxDepth: 2 }),
        meta: fc.record({
          seq: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 99_999_999, 100_000_000, 1e15)),
          source: text,
          time: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 2 ** 20 }).map((k) => 1_718_000_000_000 + k / 4096)),
        }),
      }),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(events, (list) => {
        const buffer = new RecordBuffer(32);
        for (const e of list) buffer.append(e, eventBody(e));
        const expected = list.map(encodeEvent).join('');
        expect(buffer.bytes().toString('utf8')).toBe(expected);
        expect(buffer.count).toBe(list.length);
        const lines = buffer.bytes().toString('utf8').split('\n').slice(0, -1);
        lines.forEach((line, i) => {
          const bytes = Buffer.from(line);
          const checked = unframe(bytes, 0, bytes.length);
          expect('json' in checked).toBe(true);
          const back = JSON.parse(Buffer.from((checked as { json: Uint8Array }).json).toString('utf8')) as LoggedEvent;
          expect(back.meta.seq).toBe(list[i]?.meta.seq);
          expect(back.meta.time).toBe(list[i]?.meta.time === 0 ? 0 : list[i]?.meta.time);
          expect(back.meta.source).toBe(list[i]?.meta.source);
        });
      }),
      { numRuns: 1000 },
    );
  });
});

