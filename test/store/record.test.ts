import { describe, expect, it } from 'vitest';
import { RecordBuffer, encodeEvent, eventJson, frame, unframe, type LoggedEvent } from '../../src/store/record.js';

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
      for (const e of events) buffer.append(eventJson(e));
      expect(buffer.count).toBe(events.length);
      expect(buffer.bytes().equals(Buffer.from(events.map(encodeEvent).join('')))).toBe(true);
      buffer.clear();
      expect(buffer.count).toBe(0);
      expect(buffer.bytes().length).toBe(0);
    }
  });

  it('gives each record a checksum that unframe accepts, and a flipped byte fails it', () => {
    const buffer = new RecordBuffer();
    const json = eventJson(event(7, { height: 7, note: 'ünïcode' }));
    buffer.append(json);
    const bytes = Buffer.from(buffer.bytes());
    expect(bytes.toString('utf8')).toBe(frame(json));
    const checked = unframe(bytes, 0, bytes.length - 1);
    expect('json' in checked && Buffer.from(checked.json).toString('utf8')).toBe(json);
    bytes[20] = (bytes[20] as number) ^ 1;
    expect(unframe(bytes, 0, bytes.length - 1)).toEqual({ fault: 'checksum' });
  });
});
