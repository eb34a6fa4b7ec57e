/**
 * Scanning one segment at open: which lines are valid records, which are corrupt (a bad line
 * followed by a valid one), and which bytes at the end are a torn tail (bad lines, or a line
 * without its newline, up to the end of the file).
 */
import { ModactorError } from '../kernel/errors.js';
import type { StoreFs } from './fs.js';
import { LineReader, NEED_BYTES, type Line } from './line-reader.js';
import { FORMAT_VERSION, decodeHeader, peekSeqTime, unframe, type LineFault, type Peeked, type SegmentHeader } from './record.js';

/** Why a record was found bad. */
export type CorruptReason = LineFault | 'seq-order' | 'header' | 'cut';

/** A bad record found in a segment, reported with where it is. */
export interface CorruptRecord {
  /** The segment's file name. */
  readonly segment: string;
  /** Byte offset of the record's line in the segment. */
  readonly offset: number;
  /** Bytes of the line (without its newline). */
  readonly length: number;
  /**
   * `checksum` (bytes changed), `framing` (no checksum prefix), `json`/`shape` (checksum held but
   * the content is not a record), `seq-order` (a seq not above the one before), `header` (a bad
   * segment header), `cut` (a sealed segment ending in the middle of a record).
   */
  readonly reason: CorruptReason;
}

/** The bad bytes at the end of a segment. */
export interface BadTail {
  readonly offset: number;
  readonly bytes: number;
  /** Lines (complete or not) in the bad region. */
  readonly records: number;
}

/** What a scan found in one segment. */
export interface SegmentScan {
  readonly header: SegmentHeader | undefined;
  /** Valid records. */
  readonly records: number;
  /** Seq of the first valid record (undefined when none). */
  readonly firstSeq: number | undefined;
  /** Seq of the last valid record, or `afterSeq` when none. */
  readonly lastSeq: number;
  /** Time of the last valid record (`-Infinity` when none). */
  readonly lastTime: number;
  /** Offset just after the last valid line (the header counts); 0 when the header is bad. */
  readonly goodEnd: number;
  /** The file's size. */
  readonly size: number;
  /** Bad lines with a valid line after them. */
  readonly corrupt: readonly CorruptRecord[];
  /** Bad lines and bytes from the last valid line to the end, if any. */
  readonly tail: BadTail | undefined;
}

/**
 * Scans the segment at `path`. `afterSeq` is the last valid seq before it: records must be above.
 * Throws `store-failed` for a segment of another format version.
 */
export async function scanSegment(fs: StoreFs, path: string, name: string, afterSeq: number): Promise<SegmentScan> {
  const file = await fs.open(path, 'read');
  try {
    const size = await file.size();
    const lines = new LineReader(file, 0, size);
    let header: SegmentHeader | undefined;
    let records = 0;
    let firstSeq: number | undefined;
    let lastSeq = afterSeq;
    let lastTime = Number.NEGATIVE_INFINITY;
    let goodEnd = 0;
    let corrupt: CorruptRecord[] = [];
    /** Bad lines since the last valid one: corrupt if a valid line follows, else the tail. */
    let bad: CorruptRecord[] = [];
    let cutAt: number | undefined;

    for (;;) {
      const taken = lines.take();
      const line = taken === NEED_BYTES ? await lines.next() : taken;
      if (line === undefined) break;
      if (!line.complete && line.offset + (line.end - line.start) >= size) {
        cutAt = line.offset;
        break;
      }
      const found = !line.complete ? 'framing' : line.offset === 0 ? readHeader(line, name) : checkRecord(line, lastSeq);
      if (typeof found === 'string') {
        bad.push({ segment: name, offset: line.offset, length: line.end - line.start, reason: found });
        continue;
      }
      if (found !== undefined) {
        header = found;
        goodEnd = line.end - line.start + 1;
        continue;
      }
      if (bad.length > 0) {
        corrupt = corrupt.concat(bad);
        bad = [];
      }
      records++;
      firstSeq ??= peeked.seq;
      lastSeq = peeked.seq;
      lastTime = peeked.time;
      goodEnd = line.offset + (line.end - line.start) + 1;
    }
    const tailStart = bad[0]?.offset ?? cutAt;
    const tail = tailStart === undefined ? undefined : { offset: tailStart, bytes: size - tailStart, records: bad.length + (cutAt === undefined ? 0 : 1) };
    return { header, records, firstSeq, lastSeq, lastTime, goodEnd, size, corrupt, tail };
  } finally {
    await file.close();
  }
}

/** The header on the first line; `header` when it is not one; throws for another version. */
function readHeader(line: Line, name: string): SegmentHeader | 'header' {
  const checked = unframe(line.buffer, line.start, line.end);
  if ('fault' in checked) return 'header';
  const header = decodeHeader(checked.json);
  if (header === undefined) return 'header';
  if (header.version !== FORMAT_VERSION) {
    throw new ModactorError('store-failed', `Expected event log format version ${FORMAT_VERSION}, got version ${header.version} in ${name}`);
  }
  return header;
}

const peeked: Peeked = { seq: 0, time: 0 };

/** Undefined for a valid record line (its seq and time left in `peeked`), else why it is not one. */
function checkRecord(line: Line, lastSeq: number): CorruptReason | undefined {
  const checked = unframe(line.buffer, line.start, line.end);
  if ('fault' in checked) return checked.fault;
  if (!peekSeqTime(checked.json, peeked)) return 'shape';
  return peeked.seq > lastSeq ? undefined : 'seq-order';
}
