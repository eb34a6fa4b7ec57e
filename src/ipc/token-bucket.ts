/**
 * A token bucket on an injected clock: `perSecond` tokens per second on average, at most `burst`
 * saved up. Used for the per-module publish rate limit, the log rate limit and the budget of
 * refused messages. @internal
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `cost` tokens if there are that many; false (taking nothing) otherwise. */
  take(now: number, cost = 1): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}
