import { describe, expect, it } from 'vitest';
import { isJsonSafe } from '../../src/ipc/json-safe.js';
import { parseChildMessage } from '../../src/ipc/protocol.js';
import { FrameReader, LineSplitter } from '../../src/ipc/frame-reader.js';
import { LogThrottle } from '../../src/kernel/log-throttle.js';
import { TokenBucket } from '../../src/ipc/rate-limiter.js';

const parse = (raw: string, max = 1024): unknown => parseChildMessage(raw, max);

describe('parseChildMessage: the trust boundary', () => {
  it('accepts each message type in its exact shape', () => {
    expect(parse('{"t":"hello","protocol":1,"name":"m","version":"1.0.0"}')).toEqual({ t: 'hello', protocol: 1, name: 'm', version: '1.0.0' });
    expect(parse('{"t":"ack","n":3}')).toEqual({ t: 'ack', n: 3 });
    expect(parse('{"t":"publish","id":0,"event":{"type":"X","payload":{}}}')).toMatchObject({ t: 'publish', id: 0 });
    expect(parse('{"t":"subscribe","types":["NewBlock"]}')).toEqual({ t: 'subscribe', types: ['NewBlock'] });
    expect(parse('{"t":"health","health":"degraded"}')).toEqual({ t: 'health', health: 'degraded' });
    expect(parse('{"t":"heartbeat"}')).toEqual({ t: 'heartbeat' });
  });

  it('refuses malformed, unknown, mis-shaped and oversized messages with a reason', () => {
    expect(parse('not json')).toEqual({ violation: 'malformed message: not JSON ("not json")' });
    expect(parse('[1,2]')).toEqual({ violation: 'malformed message: expected an object { t, ... }, got an array' });
    expect(parse('{"t":"bogus"}')).toEqual({ violation: 'unknown message type "bogus"' });
    expect(parse('{"t":"toString"}')).toEqual({ violation: 'unknown message type "toString"' });
    expect(parse('{"t":"ack","n":0}')).toEqual({ violation: 'ack.n: expected a positive integer, got number 0' });
    expect(parse('{"t":"ack","n":1.5}')).toEqual({ violation: 'ack.n: expected a positive integer, got number 1.5' });
    expect(parse('{"t":"ack","n":1,"extra":true}')).toEqual({ violation: 'unexpected field "extra" in ack' });
    expect(parse('{"t":"health","health":"great"}')).toEqual({ violation: 'health.health: expected healthy, degraded or unhealthy, got "great"' });
    expect(parse('{"t":"publish","id":1}')).toEqual({ violation: 'publish.event: expected an event, got undefined' });
    expect(parse('{"t":"subscribe","types":[1]}')).toEqual({ violation: 'subscribe.types: expected an array of at most 256 event type names, got an array' });
    expect(parse(`{"t":"fatal","error":"${'é'.repeat(600)}"}`, 1024)).toEqual({ violation: 'message of 1224 bytes exceeds the limit of 1024' });
    expect(parse('{"t":"__proto__"}')).toEqual({ violation: 'unknown message type "__proto__"' });
  });
});

describe('FrameReader', () => {
  const read = (chunks: string[], max = 16): { frames: string[]; oversize: number[] } => {
    const frames: string[] = [];
    const oversize: number[] = [];
    const reader = new FrameReader(max, (f) => frames.push(f), (n) => oversize.push(n));
    for (const chunk of chunks) reader.push(Buffer.from(chunk));
    return { frames, oversize };
  };

  it('splits frames across and within chunks, multi-byte characters included', () => {
    expect(read(['ab', 'c\nde\n', '\nf', 'g\n'])).toEqual({ frames: ['abc', 'de', 'fg'], oversize: [] });
    const euro = Buffer.from('€\n');
    const frames: string[] = [];
    const reader = new FrameReader(16, (f) => frames.push(f), () => undefined);
    reader.push(euro.subarray(0, 1));
    reader.push(euro.subarray(1));
    expect(frames).toEqual(['€']);
  });

  it('refuses a frame as soon as it outgrows the limit, without waiting for its newline', () => {
    expect(read(['0123456789', '0123456789'])).toEqual({ frames: [], oversize: [20] });
    expect(read(['0123456789012345\n'])).toEqual({ frames: ['0123456789012345'], oversize: [] });
    expect(read(['01234567890123456\nok\n'])).toEqual({ frames: [], oversize: [17] });
    // Nothing after a refusal.
    expect(read(['x'.repeat(20), '\nlater\n'])).toEqual({ frames: [], oversize: [20] });
  });

  it('LineSplitter splits the trusted direction', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    for (const chunk of ['{"a"', ':1}\n{"b":2}\n{', '}\n']) splitter.push(chunk);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{}']);
  });
});

describe('isJsonSafe', () => {
  it('accepts JSON values and refuses what would not survive a round trip', () => {
    expect(isJsonSafe({ a: [1, 'x', null, true, { b: -0.5 }] })).toBe(true);
    expect(isJsonSafe(Object.create(null))).toBe(true);
    expect(isJsonSafe({ n: 10n })).toBe(false);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(isJsonSafe(cycle)).toBe(false);
    expect(isJsonSafe({ f: () => 1 })).toBe(false);
    expect(isJsonSafe({ u: undefined })).toBe(false);
    expect(isJsonSafe([Number.NaN])).toBe(false);
    expect(isJsonSafe({ d: new Date(0) })).toBe(false);
    expect(isJsonSafe(new Map())).toBe(false);
    expect(isJsonSafe({ get boom(): number { throw new Error('getter'); } })).toBe(false);
  });

  it('bounds its work on deep and wide shared structures', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(isJsonSafe(deep)).toBe(false);
    // 2^40 paths through a DAG of 40 levels: refused by the node budget, quickly.
    let dag: unknown = 1;
    for (let i = 0; i < 40; i++) dag = { l: dag, r: dag };
    expect(isJsonSafe(dag)).toBe(false);
  });
});

describe('TokenBucket and LogThrottle', () => {
  it('lets a burst through, then perSecond on average', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([1, 2, 3, 4].map(() => bucket.take(0))).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false);
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(10_000)).toBe(true);
    expect([1, 2, 3].map(() => bucket.take(10_000))).toEqual([true, true, false]);
  });

  it('logs the first occurrence, then one line per interval standing for the others', () => {
    const throttle = new LogThrottle(1000);
    expect([0, 10, 20, 999, 1000, 1001, 2500].map((t) => throttle.hit(t))).toEqual([1, 0, 0, 0, 4, 0, 2]);
  });
});
