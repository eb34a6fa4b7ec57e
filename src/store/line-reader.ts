/**
 * Reads a file's lines in chunks, without loading the file: the one way the store reads its
 * segments, at open (recovery), for replay, and in `modactor log`.
 */
import type { StoreFile } from './fs.js';
import { NEWLINE } from './record.js';

/** Default bytes read per call. */
export const CHUNK_BYTES = 256 * 1024;

/** A longer line is cut here and reported as a fragment (a record is never this big). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** What {@link LineReader.take} returns when it must read before it can say. */
export const NEED_BYTES: unique symbol = Symbol('need bytes');

/** One line: `buffer[start, end)` without its newline, at `offset` in the file. */
export interface Line {
  buffer: Uint8Array;
  start: number;
  end: number;
  offset: number;
  /** False for bytes after the last newline (at the end), or a line cut at {@link MAX_LINE_BYTES}. */
  complete: boolean;
}

/**
 * Iterates the lines of `file` from `from` up to `to` (exclusive, default: the end). A line is
 * valid only until the next call: it is one object, reused, and its bytes live in a reused buffer.
 *
 * @example
 * ```ts
 * const lines = new LineReader(file, 0, size);
 * for (let line = await lines.next(); line !== undefined; line = await lines.next()) { ... }
 * ```
 */
export class LineReader {
  private buffer: Buffer;
  /** File offset of `buffer[0]`. */
  private base: number;
  private scan = 0;
  private filled = 0;
  private eof = false;
  private skipping = false;
  private readonly line: Line = { buffer: new Uint8Array(0), start: 0, end: 0, offset: 0, complete: true };

  constructor(
    private readonly file: StoreFile,
    from: number,
    private readonly to: number = Number.POSITIVE_INFINITY,
    chunkBytes: number = CHUNK_BYTES,
  ) {
    this.base = from;
    this.buffer = Buffer.allocUnsafe(chunkBytes);
  }

  /** File offset after the last line returned. */
  get position(): number {
    return this.base + this.scan;
  }

  /** The next line, or undefined at the end. */
  async next(): Promise<Line | undefined> {
    for (;;) {
      const line = this.take();
      if (line !== NEED_BYTES) return line;
      await this.fill();
    }
  }

  /**
   * The next line if the bytes read so far hold it (undefined at the end), or {@link NEED_BYTES}
   * when {@link next} must read: lets a loop skip a promise per line.
   */
  take(): Line | undefined | typeof NEED_BYTES {
    for (;;) {
      const nl = this.buffer.indexOf(NEWLINE, this.scan);
      if (nl >= 0 && nl < this.filled) {
        const start = this.scan;
        this.scan = nl + 1;
        if (this.skipping) {
          this.skipping = false;
          continue;
        }
        return this.emit(start, nl, true);
      }
      if (this.skipping) this.scan = this.filled;
      if (this.eof) {
        if (this.scan >= this.filled) return undefined;
        const start = this.scan;
        this.scan = this.filled;
        return this.emit(start, this.filled, false);
      }
      if (!this.skipping && this.filled - this.scan >= MAX_LINE_BYTES) {
        // A line this long is not a record: hand it back as a fragment, skip to its newline.
        const start = this.scan;
        this.scan = this.filled;
        this.skipping = true;
        return this.emit(start, this.filled, false);
      }
      return NEED_BYTES;
    }
  }

  private emit(start: number, end: number, complete: boolean): Line {
    const line = this.line;
    line.buffer = this.buffer;
    line.start = start;
    line.end = end;
    line.offset = this.base + start;
    line.complete = complete;
    return line;
  }

  private async fill(): Promise<void> {
    // Keep the unscanned rest at the front; grow when a line fills the whole buffer.
    if (this.scan > 0) {
      this.buffer.copyWithin(0, this.scan, this.filled);
      this.base += this.scan;
      this.filled -= this.scan;
      this.scan = 0;
    }
    if (this.filled === this.buffer.length) {
      const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    const want = Math.min(this.buffer.length - this.filled, this.to - (this.base + this.filled));
    if (want <= 0) {
      this.eof = true;
      return;
    }
    const n = await this.file.read(this.buffer.subarray(this.filled, this.filled + want), this.base + this.filled);
    if (n === 0) this.eof = true;
    this.filled += n;
  }
}
