/**
 * The durable event log against a bare file append of the same bytes with the same sync cadence.
 *
 *   node --import tsx bench/cases/store.ts --impl store|bare [--events 200000] [--rounds 3] [--batch 1000]
 *
 * Append: `--events` NewBlock events with their metadata, produced in bursts of `--batch` with a
 * macrotask between bursts (a publisher that yields), measured from the first append until
 * everything is on disk.
 *   store: `EventLog.append` per event, group commit (batches of `--batch`, fdatasync each), then
 *          `flush()`; the producer waits for the log when more than 8 batches are queued.
 *   bare:  a hand-written appender of the very same bytes: each event framed inline as the store
 *          frames it (canonical JSON, crc32, newline; checked byte for byte against the store's
 *          file), one positional write and one fdatasync per batch. Also reported: `ioOnlyPerSec`,
 *          the same file written from bytes encoded before the clock starts (the disk alone).
 * Replay: every event read back (the files just written, in the page cache).
 *   store: a reader pulling batches of 1000 (checksums checked, records parsed and checked);
 *          `openMs` is the `openEventLog` before it (the recovery scan of every segment).
 *   bare:  the file read in 256 KiB chunks, split at newlines, each record's JSON parsed.
 * Each round uses a fresh directory under the OS temporary directory; metrics are medians over rounds.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { openEventLog } from '../../src/store/event-log.js';
import { encodeHeader, segmentName, type LoggedEvent } from '../../src/store/record.js';
import { parseArgs } from '../lib/args.js';
import { median, runCase, type CaseResult } from '../lib/report.js';
import { macrotask } from '../lib/subject.js';

const args = parseArgs();
const impl = args.string('impl', 'store');
const events = args.number('events', 200_000);
const rounds = args.number('rounds', 3);
const batch = args.number('batch', 1000);
let checkBytes = true;

function event(seq: number, start: number): LoggedEvent {
  return { type: 'NewBlock', payload: { blockHash: seq.toString(16).padStart(64, '0'), height: seq }, meta: { seq, source: 'node', time: start + seq } };
}

interface Round {
  readonly appendPerSec: number;
  readonly replayPerSec: number;
  readonly openMs: number;
  readonly bytes: number;
}

async function storeRound(dir: string, all: readonly LoggedEvent[]): Promise<Round & { ioOnlyPerSec?: number }> {
  const log = await openEventLog({ dir, batchMaxEvents: batch, batchMaxDelayMs: 2, segmentMaxBytes: 1024 * 1024 * 1024 });
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += batch) {
    const end = Math.min(all.length, i + batch);
    for (let j = i; j < end; j++) log.append(all[j] as LoggedEvent);
    if (log.status().pending > 8 * batch) await log.flush();
    else await macrotask();
  }
  await log.flush();
  const appendMs = performance.now() - t0;
  const bytes = log.status().bytes;
  await log.close();
  if (checkBytes) {
    // Once: the bare appender writes exactly these bytes.
    const expected = readFileSync(join(dir, segmentName(1)));
    const byHand = Buffer.from([encodeHeader({ firstSeq: 1, prevSeq: 0 }), ...all.map(frameByHand)].join(''));
    if (!expected.equals(byHand)) throw new Error('Expected the bare appender to write the bytes the store writes, got different bytes');
    checkBytes = false;
  }

  const t1 = performance.now();
  const again = await openEventLog({ dir, readOnly: true });
  const t2 = performance.now();
  const reader = again.read();
  let read = 0;
  for (let got = await reader.readBatch(1000); got.length > 0; got = await reader.readBatch(1000)) read += got.length;
  const t3 = performance.now();
  await again.close();
  if (read !== all.length) throw new Error(`Expected ${all.length} events replayed, got ${read}`);
  return { appendPerSec: (all.length / appendMs) * 1000, replayPerSec: (read / (t3 - t2)) * 1000, openMs: t2 - t1, bytes };
}

/** The store's framing of an event, written out by hand (no checks): what a bare appender does. */
function frameByHand(e: LoggedEvent): string {
  const json = `{"meta":{"seq":${e.meta.seq},"time":${e.meta.time},"source":${JSON.stringify(e.meta.source)}},"type":${JSON.stringify(e.type)},"payload":${JSON.stringify(e.payload)}}`;
  return `${(crc32(json) >>> 0).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Writes `all` in batches, one write and one fdatasync each; `encode` makes a batch's bytes. */
async function appendByHand(path: string, count: number, encode: (from: number, to: number) => Buffer): Promise<number> {
  const t0 = performance.now();
  const file = await open(path, 'w');
  let position = 0;
  for (let i = 0; i < count; i += batch) {
    const chunk = encode(i, Math.min(count, i + batch));
    await file.write(chunk, 0, chunk.length, position);
    await file.datasync();
    position += chunk.length;
    await macrotask();
  }
  await file.close();
  return performance.now() - t0;
}

async function bareRound(dir: string, all: readonly LoggedEvent[]): Promise<Round & { ioOnlyPerSec: number }> {
  const header = encodeHeader({ firstSeq: 1, prevSeq: 0 });
  const encode = (from: number, to: number): Buffer => {
    let text = from === 0 ? header : '';
    for (let j = from; j < to; j++) text += frameByHand(all[j] as LoggedEvent);
    return Buffer.from(text);
  };
  const path = join(dir, segmentName(1));
  const appendMs = await appendByHand(path, all.length, encode);
  const position = statSync(path).size;

  // The disk alone: the same bytes, encoded before the clock starts.
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += batch) chunks.push(encode(i, Math.min(all.length, i + batch)));
  const ioMs = await appendByHand(join(dir, 'io-only'), all.length, (from) => chunks[from / batch] as Buffer);

  const t1 = performance.now();
  const input = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(256 * 1024);
  let carry = '';
  let read = -1; // the header line is not an event
  for (;;) {
    const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    const text = carry + buffer.toString('utf8', 0, bytesRead);
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      JSON.parse(line.slice(9));
      read++;
    }
  }
  await input.close();
  const t2 = performance.now();
  if (read !== all.length) throw new Error(`Expected ${all.length} events read, got ${read}`);
  return {
    appendPerSec: (all.length / appendMs) * 1000,
    replayPerSec: (read / (t2 - t1)) * 1000,
    openMs: 0,
    bytes: position,
    ioOnlyPerSec: (all.length / ioMs) * 1000,
  };
}

runCase(async (): Promise<CaseResult> => {
  if (impl !== 'store' && impl !== 'bare') throw new Error(`Expected --impl store or bare, got "${impl}"`);
  const all = Array.from({ length: events }, (_, i) => event(i + 1, 1_718_000_000_000));
  const results: (Round & { ioOnlyPerSec?: number })[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const dir = mkdtempSync(join(tmpdir(), `modactor-bench-${impl}-`));
    try {
      const round = await (impl === 'store' ? storeRound(dir, all) : bareRound(dir, all));
      if (r > 0) results.push(round); // the first round warms up
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pick = (key: keyof Round | 'ioOnlyPerSec'): number => median(results.map((r) => r[key] ?? Number.NaN));
  return {
    metrics: {
      appendPerSec: pick('appendPerSec'),
      replayPerSec: pick('replayPerSec'),
      openMs: pick('openMs'),
      ...(impl === 'bare' ? { ioOnlyPerSec: pick('ioOnlyPerSec') } : {}),
    },
    info: { events, batch, rounds, bytes: pick('bytes'), perRound: results },
  };
});
