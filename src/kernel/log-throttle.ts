/**
 * Rate-limits a log line: the first occurrence logs, then at most one line per interval, carrying
 * how many occurrences it stands for. Never one line per event on a hot path. Used for the
 * kernel's dead letters and the process hosts' refusals. @internal
 */
export class LogThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(private readonly intervalMs: number) {}

  /**
   * Records one occurrence at `now`. Returns the number of occurrences the caller's log line
   * stands for (this one included), or 0 when it must stay silent.
   */
  hit(now: number): number {
    this.unlogged++;
    if (now - this.last < this.intervalMs) return 0;
    this.last = now;
    const count = this.unlogged;
    this.unlogged = 0;
    return count;
  }
}
