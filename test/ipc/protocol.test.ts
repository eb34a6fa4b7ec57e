import { describe, expect, it } from 'vitest';
import { isJsonSafe } from '../../src/ipc/json-safe.js';
import { scanJsonDepth } from '../../src/ipc/json-depth.js';
import { MAX_FRAME_DEPTH, MAX_LOG_BYTES, checkFrame, parseChildMessage } from '../../src/ipc/protocol.js';
import { LineSplitter } from '../../src/ipc/line-splitter.js';
import { LogThrottle } from '../../src/kernel/log-throttle.js';
import { TokenBucket } from '../../src/ipc/token-bucket.js';

const parse = (raw: string, max = 1024): unknown => parseChildMessage(raw, max);

describe('parseChildMessage: the trust boundary', () => {
  it('accepts each message type in its exact shape', () => {
    expect(parse('{"t":"hello","protocol":1,"name":"m","version":"1.0.0"}')).toEqual({ t: 'hello', protocol: 1, name: 'm', version: '1.0.0' });
    expect(parse('{"t":"ack","n":3}')).toEqual({ t: 'ack', n: 3 });
    expect(parse('{"t":"publish","id":0,"event":{"type":"X","payload":{}}}')).toMatchObject({ t: 'publish', id: 0 });
    expect(parse('{"t":"subscribe","types":["NewBlock"]}')).toEqual({ t: 'subscribe', types: ['NewBlock'] });
    expect(parse('{"t":"health","health":"degraded"}')).toEqual({ t: 'health', health: 'degraded' });
    expect(parse('{"t":"heartbeat"}')).toEqual({ t: 'heartbeat' });
    expect(parse('{"t":"fail","error":"boom","name":"TypeError","stack":"TypeError: boom\\n    at x"}')).toEqual({
      t: 'fail',
      error: 'boom',
      name: 'TypeError',
      stack: 'TypeError: boom\n    at x',
    });
    expect(parse('{"t":"log","record":{"level":30,"msg":"hi","n":1}}')).toEqual({ t: 'log', record: { level: 30, msg: 'hi', n: 1 } });
  });

  it('refuses malformed, unknown, mis-shaped and oversized messages with a reason and the stage that found it', () => {
    expect(parse('not json')).toEqual({ violation: 'malformed message: not JSON ("not json")', stage: 'json' });
    expect(parse('[1,2]')).toEqual({ violation: 'malformed message: expected an object { t, ... }, got an array', stage: 'shape' });
    expect(parse('{"t":"bogus"}')).toEqual({ violation: 'unknown message type "bogus"', stage: 'shape' });
    expect(parse('{"t":"toString"}')).toEqual({ violation: 'unknown message type "toString"', stage: 'shape' });
    expect(parse('{"t":"ack","n":0}')).toEqual({ violation: 'ack.n: expected a positive integer, got number 0', stage: 'shape' });
    expect(parse('{"t":"ack","n":1.5}')).toEqual({ violation: 'ack.n: expected a positive integer, got number 1.5', stage: 'shape' });
    expect(parse('{"t":"ack","n":1,"extra":true}')).toEqual({ violation: 'unexpected field "extra" in ack', stage: 'shape' });
    expect(parse('{"t":"health","health":"great"}')).toEqual({ violation: 'health.health: expected healthy, degraded or unhealthy, got "great"', stage: 'shape' });
    expect(parse('{"t":"publish","id":1}')).toEqual({ violation: 'publish.event: expected an event, got undefined', stage: 'shape' });
    expect(parse('{"t":"subscribe","types":[1]}')).toEqual({ violation: 'subscribe.types: expected an array of at most 256 event type names, got an array', stage: 'shape' });
    expect(parse('{"t":"log","record":{"level":35}}')).toEqual({ violation: 'log.record: expected a pino record with a level of 10, 20, 30, 40, 50 or 60, got an object', stage: 'shape' });
    expect(parse('{"t":"log","record":{"level":30,"msg":7}}')).toEqual({ violation: 'log.record.msg: expected a string, got number 7', stage: 'shape' });
    expect(parse(`{"t":"fatal","error":"${'é'.repeat(600)}"}`, 1024)).toEqual({ violation: 'message of 1224 bytes exceeds the limit of 1024', stage: 'frame' });
    expect(parse('{"t":"__proto__"}')).toEqual({ violation: 'unknown message type "__proto__"', stage: 'shape' });
  });

  it('refuses a frame nested deeper than the limit before parsing it', () => {
    const deep = `{"t":"publish","id":1,"event":${'['.repeat(MAX_FRAME_DEPTH)}${']'.repeat(MAX_FRAME_DEPTH)}}`;
    expect(parse(deep, 1 << 20)).toEqual({ violation: `message nested more than ${MAX_FRAME_DEPTH} levels deep`, stage: 'frame' });
    const fits = `{"t":"publish","id":1,"event":${'['.repeat(MAX_FRAME_DEPTH - 1)}${']'.repeat(MAX_FRAME_DEPTH - 1)}}`;
    expect(parse(fits, 1 << 20)).toMatchObject({ t: 'publish' });
    expect(checkFrame(deep, 1 << 20)).toEqual({ violation: `message nested more than ${MAX_FRAME_DEPTH} levels deep`, stage: 'frame' });
  });

  it('holds log messages to their own limit, whichever field comes first', () => {
    const msg = 'x'.repeat(MAX_LOG_BYTES);
    expect(parse(`{"t":"log","record":{"level":30,"msg":"${msg}"}}`, 1 << 20)).toMatchObject({ stage: 'frame' });
    expect(parse(`{"record":{"level":30,"msg":"${msg}"},"t":"log"}`, 1 << 20)).toEqual({
      violation: `message of ${msg.length + 42} bytes exceeds the limit of ${MAX_LOG_BYTES}`,
      stage: 'frame',
    });
  });
});

describe('scanJsonDepth', () => {
  it('finds the nesting of a text, not counting brackets inside strings, escaped quotes included', () => {
    expect(scanJsonDepth('{"a":[1,{"b":"[[["}]}', 3)).toEqual({ exceeded: false, scanned: 21 });
    expect(scanJsonDepth('{"a":[1,{"b":"[[["}]}', 2)).toEqual({ exceeded: true, scanned: 9 });
    expect(scanJsonDepth(String.raw`["\"[[[[", "\\", [[1]]]`, 3).exceeded).toBe(false);
    expect(scanJsonDepth(String.raw`["\"[[[[", "\\", [[1]]]`, 2).exceeded).toBe(true);
    expect(scanJsonDepth('"unterminated [[[[', 1)).toEqual({ exceeded: false, scanned: 18 });
  });

  it('stops at the first bracket over the limit: a deep megabyte costs a few dozen characters', () => {
    const deep = '['.repeat(1 << 20);
    expect(scanJsonDepth(deep, 64)).toEqual({ exceeded: true, scanned: 65 });
    // A flat megabyte is scanned once, strings jumped over.
    const flat = JSON.stringify({ t: 'publish', s: 'y'.repeat(1 << 20) });
    expect(scanJsonDepth(flat, 64)).toEqual({ exceeded: false, scanned: flat.length });
  });
});

describe('LineSplitter', () => {
  const read = (chunks: string[], max = 16): { frames: string[]; oversize: number[] } => {
    const frames: string[] = [];
    const oversize: number[] = [];
    const reader = new LineSplitter((f) => frames.push(f), { maxBytes: max, onOversize: (n) => oversize.push(n) });
    for (const chunk of chunks) reader.push(Buffer.from(chunk));
    return { frames, oversize };
  };

  it('splits lines across and within chunks, multi-byte characters included', () => {
    expect(read(['ab', 'c\nde\n', '\nf', 'g\n'])).toEqual({ frames: ['abc', 'de', 'fg'], oversize: [] });
    const euro = Buffer.from('€\n');
    const frames: string[] = [];
    const reader = new LineSplitter((f) => frames.push(f), { maxBytes: 16 });
    reader.push(euro.subarray(0, 1));
    reader.push(euro.subarray(1));
    expect(frames).toEqual(['€']);
  });

  it('refuses a line as soon as it outgrows the limit, without waiting for its newline', () => {
    expect(read(['0123456789', '0123456789'])).toEqual({ frames: [], oversize: [20] });
    expect(read(['0123456789012345\n'])).toEqual({ frames: ['0123456789012345'], oversize: [] });
    expect(read(['01234567890123456\nok\n'])).toEqual({ frames: [], oversize: [17] });
    // Nothing after a refusal.
    expect(read(['x'.repeat(20), '\nlater\n'])).toEqual({ frames: [], oversize: [20] });
  });

  it('in truncate mode, delivers the first maxBytes of a long line and skips the rest of it', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), { maxBytes: 4, overlong: 'truncate' });
    for (const chunk of ['ab\n0123', '456', '789\ncd', 'ef\n', '0123456\nok\n']) splitter.push(Buffer.from(chunk));
    expect(lines).toEqual(['ab', '0123', 'cdef', '0123', 'ok']);
  });

  it('splits without a limit (the node to child direction)', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    for (const chunk of ['{"a"', ':1}\n{"b":2}\n{', '}\n']) splitter.push(Buffer.from(chunk));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{}']);
  });

  it('is linear: one 16 MiB line costs no more than 16 lines of 1 MiB (bytes examined and copied)', () => {
    const MiB = 1 << 20;
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const feed = (lineBytes: number, lines: number): LineSplitter => {
      const lengths: number[] = [];
      const splitter = new LineSplitter((l) => lengths.push(l.length));
      for (let i = 0; i < lines; i++) {
        for (let sent = 0; sent < lineBytes; sent += chunk.length) splitter.push(chunk);
        splitter.push(Buffer.from('\n'));
      }
      expect(lengths).toEqual(Array<number>(lines).fill(lineBytes));
      return splitter;
    };
    const one = feed(16 * MiB, 1);
    const sixteen = feed(MiB, 16);
    expect(one.scanned).toBe(16 * MiB + 1);
    expect(sixteen.scanned).toBe(16 * MiB + 16);
    expect(one.scanned).toBeLessThanOrEqual(sixteen.scanned);
    expect(one.copied).toBeLessThanOrEqual(sixteen.copied);
  });

  it('the linearity check catches a splitter that searches the whole buffer again at every chunk', () => {
    // The old splitter, instrumented the same way: it looked for the newline from the start of
    // everything buffered so far at every chunk.
    class Rescanning {
      scanned = 0;
      private buffer = '';
      push(chunk: string): void {
        const data = this.buffer + chunk;
        const newline = data.indexOf('\n');
        this.scanned += newline < 0 ? data.length : newline + 1;
        this.buffer = newline < 0 ? data : data.slice(newline + 1);
      }
    }
    const feed = (lineChars: number, lines: number): number => {
      const splitter = new Rescanning();
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < lines; i++) {
        for (let sent = 0; sent < lineChars; sent += chunk.length) splitter.push(chunk);
        splitter.push('\n');
      }
      return splitter.scanned;
    };
    // 4 MiB keeps this quick: the quadratic one already scans 4x more for one long line.
    expect(feed(4 << 20, 1)).toBeGreaterThan(3 * feed(1 << 20, 4));
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

  it('takes a cost of several tokens at once, or nothing', () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(bucket.take(0, 3)).toBe(true);
    expect(bucket.take(0, 3)).toBe(false);
    expect(bucket.take(0, 2)).toBe(true);
    expect(bucket.take(100, 1)).toBe(true);
  });

  it('logs the first occurrence, then one line per interval standing for the others', () => {
    const throttle = new LogThrottle(1000);
    expect([0, 10, 20, 999, 1000, 1001, 2500].map((t) => throttle.hit(t))).toEqual([1, 0, 0, 0, 4, 0, 2]);
  });
});
