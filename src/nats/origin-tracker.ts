/**
 * Per-origin order on one delivery path: which events of a message to deliver, which are stale
 * copies, and how many never arrived.
 *
 * Every event a node sends on a path (core or durable) carries a number, consecutive within the
 * node's incarnation (its `epoch`). The receiver keeps, per origin node, the epoch it follows and
 * the next number it expects:
 * - the expected number, or a higher one: deliver; a jump is counted as `missed` (lost on the way);
 * - a lower one: a copy of something already delivered or skipped (a JetStream redelivery, a
 *   publish retried after a lost acknowledgement): dropped, counted as `stale`;
 * - a new epoch: the origin restarted; follow it from there.
 *
 * Deliveries from one origin stay in order whatever the network does, and every event numbered
 * before the last delivered one is either delivered once or counted missed. The first message
 * seen from an incarnation starts the count (what came before it was before this receiver
 * listened, not lost). @internal
 */

/** What to do with a message of `count` events numbered from `first`. */
export interface Admission {
  /** Leading events to drop: already delivered (or counted missed). */
  readonly stale: number;
  /** Events numbered between the last delivered and this message's first that never arrived. */
  readonly missed: number;
}

interface Position {
  epoch: string;
  next: number;
}

const ADMIT_ALL: Admission = { stale: 0, missed: 0 };

/** Tracks the origins of one path. */
export class OriginTracker {
  private readonly origins = new Map<string, Position>();

  /** Admits a message from `origin`; updates the position. */
  admit(origin: string, epoch: string, first: number, count: number): Admission {
    const position = this.origins.get(origin);
    const end = first + count;
    if (position === undefined) {
      this.origins.set(origin, { epoch, next: end });
      return ADMIT_ALL;
    }
    if (position.epoch !== epoch) {
      position.epoch = epoch;
      position.next = end;
      return ADMIT_ALL;
    }
    if (first === position.next) {
      position.next = end;
      return ADMIT_ALL;
    }
    if (first > position.next) {
      const missed = first - position.next;
      position.next = end;
      return { stale: 0, missed };
    }
    const stale = Math.min(count, position.next - first);
    if (end > position.next) position.next = end;
    return { stale, missed: 0 };
  }

  /**
   * True when a message numbered `first` of `origin`'s incarnation `epoch` would skip numbers not
   * yet seen (it would be admitted with some `missed`).
   */
  isAhead(origin: string, epoch: string, first: number): boolean {
    const position = this.origins.get(origin);
    return position !== undefined && position.epoch === epoch && first > position.next;
  }

  /** The origins followed, with their epoch and next expected number (for tests and stats). */
  positions(): ReadonlyMap<string, { readonly epoch: string; readonly next: number }> {
    return this.origins;
  }
}
