/**
 * The replay position of a module that declared `replay`: a low-water mark, the highest seq up to
 * which every durable event offered to it was handled (or failed on), kept per module name across
 * its incarnations and, through the saved state, across node restarts.
 *
 * Critical events overtake queued ones, so "the last handled seq" would skip events still queued:
 * the position tracks the durable events enqueued for the current incarnation, in seq order, and
 * advances past them as they settle. Seqs handled above the mark (a critical event handled before
 * older ones) are kept as `ahead`, so a replay from the mark skips them: nothing is given twice.
 *
 * @internal
 */
import type { EventMap } from '../events/catalogue.js';
import type { DurableCursor, ModuleIncarnation, ReplayFeed } from './event-router.js';

/** What a position needs from the node's store. @internal */
export interface PositionDeps<E extends EventMap> {
  /** The last seq the router handed out. */
  lastSeq(): number;
  /** A feed of `incarnation`'s durable events from `fromSeq` through `toSeq`, skipping what `skip` says. */
  openFeed(incarnation: ModuleIncarnation<E>, fromSeq: number, toSeq: number, skip: (seq: number) => boolean): ReplayFeed<E>;
  /** The position moved: the saved state is due. */
  changed(): void;
}

/** A position as it is saved. */
export interface SavedPosition {
  readonly position: number;
  readonly ahead: readonly number[];
}

/** One module's position. @internal */
export class ReplayPosition<E extends EventMap> {
  /** The mark while no incarnation is attached (and where the next one starts). */
  private position: number;
  /** Seqs settled above the mark. */
  private readonly ahead: Set<number>;
  /** Seqs enqueued for the attached incarnation and not yet settled. */
  private readonly pending = new Set<number>();
  /** The same, in seq order, from `head`; settled ones are passed over lazily. */
  private queue: number[] = [];
  private head = 0;
  /** Below the first durable event an offer found closed (the incarnation was dying). */
  private closedBelow = Number.POSITIVE_INFINITY;
  private attached: { readonly incarnation: ModuleIncarnation<E>; readonly cursor: DurableCursor<E> } | null = null;

  constructor(
    readonly name: string,
    saved: SavedPosition,
    private readonly deps: PositionDeps<E>,
  ) {
    this.position = saved.position;
    this.ahead = new Set(saved.ahead.filter((seq) => seq > saved.position));
  }

  /**
   * Attaches a newly subscribed incarnation: it starts at the mark, and gets first what it missed
   * up to `lastSeq` (a feed), skipping what was handled above the mark.
   */
  attach(incarnation: ModuleIncarnation<E>, lastSeq: number): { readonly cursor: DurableCursor<E>; readonly feed: ReplayFeed<E> | null } {
    // An incarnation not yet detached (its end not yet processed): where it got to counts.
    if (this.attached !== null) this.position = this.mark();
    this.pending.clear();
    this.queue = [];
    this.head = 0;
    this.closedBelow = Number.POSITIVE_INFINITY;
    const cursor = this.cursorFor(incarnation);
    this.attached = { incarnation, cursor };
    const feed = this.position < lastSeq ? cursor.feed(this.position + 1, lastSeq) : null;
    return { cursor, feed };
  }

  /** The low-water mark now. */
  mark(): number {
    const attached = this.attached;
    if (attached === null) return this.position;
    const feed = attached.incarnation.backlog?.feed;
    let mark = Math.min(this.closedBelow, feed == null ? this.deps.lastSeq() : feed.frontier);
    this.skipSettled();
    const oldest = this.queue[this.head];
    if (oldest !== undefined && oldest - 1 < mark) mark = oldest - 1;
    return Math.max(mark, this.position);
  }

  /** The position as it is saved (the mark, and the seqs handled above it). */
  saved(): SavedPosition {
    const position = this.mark();
    for (const seq of this.ahead) if (seq <= position) this.ahead.delete(seq);
    return { position, ahead: [...this.ahead].sort((a, b) => a - b) };
  }

  private skipSettled(): void {
    while (this.head < this.queue.length && !this.pending.has(this.queue[this.head] as number)) this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private cursorFor(incarnation: ModuleIncarnation<E>): DurableCursor<E> {
    const current = (): boolean => this.attached?.incarnation === incarnation;
    const cursor: DurableCursor<E> = {
      enqueued: (seq) => {
        if (!current() || this.pending.has(seq)) return;
        this.pending.add(seq);
        const last = this.queue.at(-1);
        if (last === undefined || seq > last) {
          this.queue.push(seq);
          return;
        }
        // Out of order (a critical event before the replay reached it): insert in place.
        let at = this.queue.length;
        while (at > this.head && (this.queue[at - 1] as number) > seq) at--;
        this.queue.splice(at, 0, seq);
      },
      settled: (seq) => {
        if (!current() || !this.pending.delete(seq)) return;
        if (seq > this.mark()) this.ahead.add(seq);
        this.deps.changed();
      },
      closed: (seq) => {
        if (current() && seq - 1 < this.closedBelow) this.closedBelow = seq - 1;
      },
      screened: (seq) => {
        if (!current() || seq <= this.mark()) return;
        this.ahead.add(seq);
        this.deps.changed();
      },
      feed: (fromSeq, toSeq) => this.deps.openFeed(incarnation, fromSeq, toSeq, (seq) => this.pending.has(seq) || this.ahead.has(seq)),
      detach: () => {
        if (!current()) return;
        this.position = this.mark();
        this.attached = null;
        this.pending.clear();
        this.queue = [];
        this.head = 0;
        for (const seq of this.ahead) if (seq <= this.position) this.ahead.delete(seq);
        this.deps.changed();
      },
    };
    return cursor;
  }
}
