/**
 * Splits a byte stream into newline-terminated frames (NDJSON), refusing any frame longer than a
 * limit as soon as the limit is crossed: a peer that never sends a newline cannot make the reader
 * buffer more than `maxBytes`. @internal
 */
export class FrameReader {
  private parts: Buffer[] = [];
  private pending = 0;
  private failed = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onFrame: (frame: string) => void,
    private readonly onOversize: (bytes: number) => void,
  ) {}

  /** Feeds one chunk; calls `onFrame` for each complete frame, in order. */
  push(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const length = this.pending + newline - start;
      if (length > this.maxBytes) return this.oversize(length);
      let frame: string;
      if (this.pending === 0) {
        frame = chunk.toString('utf8', start, newline);
      } else {
        this.parts.push(chunk.subarray(start, newline));
        frame = Buffer.concat(this.parts, length).toString('utf8');
        this.parts = [];
        this.pending = 0;
      }
      start = newline + 1;
      if (frame.length > 0) this.onFrame(frame);
      if (this.failed) return;
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (this.pending + rest > this.maxBytes) return this.oversize(this.pending + rest);
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
      this.pending += rest;
    }
  }

  /** Stops reading: later chunks are ignored and the buffered bytes released. */
  stop(): void {
    this.failed = true;
    this.parts = [];
    this.pending = 0;
  }

  private oversize(bytes: number): void {
    this.stop();
    this.onOversize(bytes);
  }
}

/**
 * The trusted direction's splitter (host to child): string chunks, no limit. @internal
 */
export class LineSplitter {
  private buffer = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    let start = 0;
    let data = chunk;
    if (this.buffer.length > 0) {
      data = this.buffer + chunk;
      this.buffer = '';
    }
    for (;;) {
      const newline = data.indexOf('\n', start);
      if (newline < 0) break;
      if (newline > start) this.onLine(data.slice(start, newline));
      start = newline + 1;
    }
    if (start < data.length) this.buffer = data.slice(start);
  }
}
