import type { ExitReason, Failure, Directive } from './supervision.js';

/** One thing that happened in an actor system, as seen by observers. */
export type InspectionEvent =
  | { readonly type: 'spawned'; readonly actor: string; readonly incarnation: string; readonly parent: string | null }
  /** `reserved`: into the user lane, in order, past its routine bound (`tellReserved`). */
  | { readonly type: 'offered'; readonly actor: string; readonly lane: 'user' | 'reserved' | 'priority'; readonly message: unknown }
  | { readonly type: 'dropped'; readonly actor: string; readonly reason: 'full' | 'closed'; readonly message: unknown }
  /** A message taken from the mailbox and given to the handler (`handled` follows once it returned or settled). */
  | { readonly type: 'delivered'; readonly actor: string; readonly message: unknown }
  | { readonly type: 'handled'; readonly actor: string; readonly message: unknown }
  | { readonly type: 'failed'; readonly actor: string; readonly failure: Failure }
  | { readonly type: 'directive'; readonly actor: string; readonly child: string; readonly directive: Directive }
  | { readonly type: 'restarted'; readonly actor: string; readonly incarnation: string; readonly delayMs: number }
  | { readonly type: 'terminated'; readonly actor: string; readonly reason: ExitReason }
  | { readonly type: 'dead-letter'; readonly actor: string; readonly reason: DeadLetterReason; readonly message: unknown };

/** Why a message became a dead letter. */
export type DeadLetterReason = 'mailbox-full' | 'closed' | 'lost-on-termination';

/** A message that could not be delivered. */
export interface DeadLetter {
  /** Path of the sender given to `tell`, if any; null when unknown (always for `lost-on-termination`). */
  readonly sender: string | null;
  readonly recipient: string;
  readonly message: unknown;
  readonly reason: DeadLetterReason;
}

/** An observer of inspection events, with the virtual or real time they happened at. */
export type InspectionObserver = (event: InspectionEvent, time: number) => void;

/**
 * The one routing point for inspection events. `active` is false while nobody observes, and the
 * runtime checks it before building any event, so inspection costs nothing unobserved.
 */
export class Inspector {
  active = false;
  private observers: InspectionObserver[] = [];

  constructor(private readonly now: () => number) {}

  subscribe(observer: InspectionObserver): () => void {
    this.observers = [...this.observers, observer];
    this.active = true;
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
      this.active = this.observers.length > 0;
    };
  }

  emit(event: InspectionEvent): void {
    const time = this.now();
    for (const observer of this.observers) {
      try {
        observer(event, time);
      } catch (error) {
        reportObserverError(error);
      }
    }
  }
}

/**
 * An observer's exception must not break the runtime's stack: it is rethrown on a separate
 * macrotask, where the host's unhandled-error machinery sees it.
 */
export function reportObserverError(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}
