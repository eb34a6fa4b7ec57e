/**
 * Open and recovery: a torn tail cut at every byte offset, corrupt records in the middle, a format
 * version the log does not know.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { createMemoryDisk } from '../../src/store/memory-disk.js';
import { openEventLog } from '../../src/store/event-log.js';
import { frame, segmentName } from '../../src/store/record.js';
import { block, clock, memoryPlace, openAt, range, readAll, realPlace, type Place } from './support.js';

const SEG1 = segmentName(1);
const SEG2 = segmentName(4);

/** Two segments: records 1-3 in the first, 4 and 5 in the second. Returns their bytes. */
async function twoSegments(): Promise<{ seg1: Uint8Array; seg2: Uint8Array }> {
  const disk = createMemoryDisk();
  const log = await openAt(memoryPlace(disk), clock(), { segmentMaxBytes: 700 });
  for (const seq of range(1, 3)) log.append(block(seq));
  await log.flush();
  for (const seq of range(4, 5)) log.append(block(seq));
  await log.close();
  expect(log.segments().map((s) => s.name)).toEqual([SEG1, SEG2]);
  return { seg1: disk.read(`/store/${SEG1}`) as Uint8Array, seg2: disk.read(`/store/${SEG2}`) as Uint8Array };
}

/** Offsets just after each line of `bytes`. */
function lineEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  bytes.forEach((b, i) => {
    if (b === 0x0a) ends.push(i + 1);
  });
  return ends;
}

/** A place holding the given files, on the simulated disk or in a fresh temporary directory. */
function placeWith(kind: 'memory' | 'real', files: Record<string, Uint8Array>): Place {
  if (kind === 'memory') {
    const disk = createMemoryDisk();
    for (const [name, bytes] of Object.entries(files)) disk.write(`/store/${name}`, bytes);
    return memoryPlace(disk);
  }
  const place = realPlace();
  mkdirSync(place.dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(place.dir, name), bytes);
  return place;
}

function sizeOf(place: Place, name: string): number | undefined {
  if (place.disk !== undefined) return place.disk.read(`${place.dir}/${name}`)?.length;
  const path = join(place.dir, name);
  return existsSync(path) ? statSync(path).size : undefined;
}

/**
 * What opening must do with the second segment cut at `k`: the records kept, the torn bytes
 * reported, and the segment's size after the repair (undefined: removed).
 */
function expectedAt(k: number, seg2: Uint8Array) {
  const [header, rec4, rec5] = lineEnds(seg2) as [number, number, number];
  if (k < header) return { lastSeq: 3, torn: [{ segment: SEG2, offset: 0, bytes: k, records: k === 0 ? 0 : 1 }], size: undefined };
  const good = k >= rec5 ? rec5 : k >= rec4 ? rec4 : header;
  const lastSeq = k >= rec5 ? 5 : k >= rec4 ? 4 : 3;
  return { lastSeq, torn: k === good ? [] : [{ segment: SEG2, offset: good, bytes: k - good, records: 1 }], size: good };
}

async function checkCutAt(kind: 'memory' | 'real', k: number, seg1: Uint8Array, seg2: Uint8Array): Promise<void> {
  const place = placeWith(kind, { [SEG1]: seg1, [SEG2]: seg2.slice(0, k) });
  const want = expectedAt(k, seg2);
  const log = await openAt(place, clock());
  expect(log.recovery.torn, `cut at ${k}`).toEqual(want.torn);
  expect(log.recovery.corrupt).toEqual([]);
  expect(log.lastSeq).toBe(want.lastSeq);
  expect(sizeOf(place, SEG2), `size after repair, cut at ${k}`).toBe(want.size);
  expect((await readAll(log)).seqs).toEqual(range(1, want.lastSeq));
  // The repaired log takes new records, and a second open finds nothing to repair.
  log.append(block(want.lastSeq + 1));
  await log.close();
  const again = await openAt(place, clock());
  expect(again.recovery).toMatchObject({ torn: [], corrupt: [], lastSeq: want.lastSeq + 1 });
  expect((await readAll(again)).seqs).toEqual(range(1, want.lastSeq + 1));
  await again.close();
}

describe('a torn tail', () => {
  it('is dropped and counted wherever the last segment is cut, header included (simulated disk, every byte offset)', async () => {
    const { seg1, seg2 } = await twoSegments();
    for (let k = 0; k <= seg2.length; k++) await checkCutAt('memory', k, seg1, seg2);
  });

  it('is dropped and counted wherever the last record is cut (real files, every byte offset)', async () => {
    const { seg1, seg2 } = await twoSegments();
    const [, rec4] = lineEnds(seg2) as [number, number];
    for (let k = rec4; k <= seg2.length; k++) await checkCutAt('real', k, seg1, seg2);
  });

  it('is reported but left in place when the log is opened read-only', async () => {
    const { seg1, seg2 } = await twoSegments();
    const place = placeWith('real', { [SEG1]: seg1, [SEG2]: seg2.slice(0, seg2.length - 10) });
    const log = await openEventLog({ dir: place.dir, readOnly: true });
    expect(log.recovery.torn).toHaveLength(1);
    expect(log.lastSeq).toBe(4);
    expect((await readAll(log)).seqs).toEqual(range(1, 4));
    expect(sizeOf(place, SEG2)).toBe(seg2.length - 10);
    expect(() => log.append(block(5))).toThrow(expect.objectContaining({ code: 'store-failed' }));
  });
});

describe('a corrupt record in the middle', () => {
  it('is reported with its segment and offset, logged, skipped by readers, and never removed', async () => {
    const { seg1, seg2 } = await twoSegments();
    const [, rec1] = lineEnds(seg1) as [number, number];
    const damaged = seg1.slice();
    damaged[rec1 + 40] = damaged[rec1 + 40] === 0x31 ? 0x32 : 0x31; // a digit of record 2 changed
    for (const kind of ['memory', 'real'] as const) {
      const place = placeWith(kind, { [SEG1]: damaged, [SEG2]: seg2 });
      const logged: { level: number; msg: string; count?: number }[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
      const log = await openAt(place, clock(), { logger });
      expect(log.recovery.corrupt).toEqual([{ segment: SEG1, offset: rec1, length: (lineEnds(seg1)[2] as number) - rec1 - 1, reason: 'checksum' }]);
      expect(log.recovery.torn).toEqual([]);
      expect(logged.filter((l) => l.level === 40 && l.msg.includes('corrupt'))).toEqual([expect.objectContaining({ count: 1 })]);
      const all = await readAll(log);
      expect(all.seqs).toEqual([1, 3, 4, 5]);
      expect(all.stats.corrupt).toBe(1);
      await log.close();
      expect(sizeOf(place, SEG1)).toBe(seg1.length);
    }
  });

  it('in the last segment, is corrupt (a valid record follows it), not torn', async () => {
    const { seg1, seg2 } = await twoSegments();
    const [header] = lineEnds(seg2) as [number];
    const damaged = seg2.slice();
    damaged[header + 3] = 0x7a; // a checksum digit becomes "z"
    const log = await openAt(placeWith('memory', { [SEG1]: seg1, [SEG2]: damaged }), clock());
    expect(log.recovery.corrupt).toEqual([expect.objectContaining({ segment: SEG2, offset: header, reason: 'framing' })]);
    expect(log.recovery.torn).toEqual([]);
    expect(log.lastSeq).toBe(5);
    expect((await readAll(log)).seqs).toEqual([1, 2, 3, 5]);
  });

  it('reports a record whose seq does not increase, and a sealed segment that ends mid-record', async () => {
    const { seg1, seg2 } = await twoSegments();
    const [header, rec4] = lineEnds(seg2) as [number, number];
    const replayed = Buffer.concat([seg2.subarray(0, rec4), seg2.subarray(header, rec4), seg2.subarray(rec4)]); // record 4 twice
    const log = await openAt(placeWith('memory', { [SEG1]: seg1.slice(0, seg1.length - 5), [SEG2]: replayed }), clock());
    expect(log.recovery.corrupt.map((c) => [c.segment, c.reason])).toEqual([
      [SEG1, 'cut'],
      [SEG2, 'seq-order'],
    ]);
    expect((await readAll(log)).seqs).toEqual([1, 2, 4, 5]);
  });
});

describe('opening', () => {
  it('refuses a segment of another format version with store-failed', async () => {
    const header = frame(JSON.stringify({ format: 'modactor-event-log', version: 2, firstSeq: 1, prevSeq: 0 }));
    const place = placeWith('memory', { [SEG1]: Buffer.from(header) });
    const error = await openAt(place, clock()).catch((e: unknown) => e);
    expect(isModactorError(error, 'store-failed')).toBe(true);
    expect((error as Error).message).toContain('version 2');
  });

  it('turns a directory it cannot read into store-failed', async () => {
    const error = await openEventLog({ dir: join(realPlace().dir, 'missing'), readOnly: true }).catch((e: unknown) => e);
    expect(isModactorError(error, 'store-failed')).toBe(true);
  });

  it('refuses bad options with invalid-argument naming the field', async () => {
    for (const bad of [{ batchMaxEvents: 0 }, { segmentMaxBytes: 1.5 }, { batchMaxDelayMs: Number.NaN }, { retainMaxAgeMs: -1 }]) {
      const error = await openAt(memoryPlace(), clock(), bad).catch((e: unknown) => e);
      expect(isModactorError(error, 'invalid-argument')).toBe(true);
      expect((error as { issues: { path: string }[] }).issues[0]?.path).toBe(Object.keys(bad)[0]);
    }
  });

  it('leaves files it does not know alone', async () => {
    const { seg1 } = await twoSegments();
    const place = placeWith('real', { [SEG1]: seg1, 'notes.txt': Buffer.from('hello') });
    const log = await openAt(place, clock());
    expect(log.segments().map((s) => s.name)).toEqual([SEG1]);
    await log.close();
    expect(readFileSync(join(place.dir, 'notes.txt'), 'utf8')).toBe('hello');
  });
});
