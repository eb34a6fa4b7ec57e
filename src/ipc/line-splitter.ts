/**
 * Splits a byte stream into newline-terminated lines (NDJSON), in time linear in the bytes
 * received: each byte is examined once for a newline and copied at most once (when a line spans
 * chunks, its parts are joined once, at its newline). Used both ways: by the host on what a child
 * sends (with a limit) and on the child's stderr, and by the SDK on what the node sends. @internal
 */
export interface LineSplitterOptions {
  /** Longest line accepted, in bytes (without its newline). Default: no limit. */
  readonly maxBytes?: number;
  /**
   * What a line longer than `maxBytes` does, as soon as the limit is crossed (newline or not):
   * `stop` (default) calls `onOversize` with the bytes seen so far and ignores everything after;
   * `truncate` delivers the line's first `maxBytes` bytes and skips the rest of it. Either way no
   * more than `maxBytes` is ever buffered.
   */
  readonly overlong?: 'stop' | 'truncate';
  readonly onOversize?: (bytes: number) => void;
}

export class LineSplitter {
  /** Bytes examined for a newline so far: exactly the bytes received (each examined once). */
  scanned = 0;
  /** Bytes copied to join lines that spanned chunks. */
  copied = 0;
  private parts: Buffer[] = [];
  private pending = 0;
  private stopped = false;
  /** Inside the rest of a truncated line. */
  private skipping = false;
  private readonly maxBytes: number;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly options: LineSplitterOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Feeds one chunk; calls `onLine` for each complete, non-empty line, in order. */
  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      if (this.stopped) return;
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      this.scanned += newline + 1 - start;
      if (this.skipping) {
        this.skipping = false;
        start = newline + 1;
        continue;
      }
      const length = this.pending + newline - start;
      if (length > this.maxBytes) {
        this.overlong(chunk, start, length);
        this.skipping = false;
        start = newline + 1;
        continue;
      }
      const from = start;
      start = newline + 1;
      if (length > 0) this.onLine(this.take(chunk, from, length));
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      this.scanned += rest;
      if (this.skipping) return;
      if (this.pending + rest > this.maxBytes) return this.overlong(chunk, start, this.pending + rest);
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
      this.pending += rest;
    }
  }

  /** Stops reading: later chunks are ignored and the buffered bytes released. */
  stop(): void {
    this.stopped = true;
    this.release();
  }

  /** The line made of the buffered parts and `chunk` from `from`, `length` bytes in all. */
  private take(chunk: Buffer, from: number, length: number): string {
    if (this.pending === 0) return chunk.toString('utf8', from, from + length);
    this.parts.push(chunk.subarray(from, from + length - this.pending));
    const line = Buffer.concat(this.parts, length).toString('utf8');
    this.copied += length;
    this.release();
    return line;
  }

  /** A line of `bytes` (so far) crossed the limit; its part in `chunk` starts at `from`. */
  private overlong(chunk: Buffer, from: number, bytes: number): void {
    if (this.options.overlong !== 'truncate') {
      this.stop();
      this.options.onOversize?.(bytes);
      return;
    }
    const line = this.take(chunk, from, this.maxBytes);
    this.skipping = true;
    this.onLine(line);
  }

  private release(): void {
    this.parts = [];
    this.pending = 0;
  }
}
