/**
 * The one shape every implementation under test takes in the fan-out, drop and latency cases:
 * N subscribers, each with a handler, and a publish that offers one event to all of them.
 * modactor (kernel or node) and every baseline implement it, so all run the very same workload.
 */

/** The event every case publishes: a catalogue `NewBlock`, valid for the node layer's validation. */
export interface BenchEvent {
  readonly type: 'NewBlock';
  readonly payload: { readonly blockHash: string; readonly height: number };
}

const BLOCK_HASH = 'ab'.repeat(32);

/** A fresh `NewBlock` event; `height` doubles as the sequence number the latency case keys on. */
export function newBlock(height: number): BenchEvent {
  return { type: 'NewBlock', payload: { blockHash: BLOCK_HASH, height } };
}

/** Called once per delivery; may return a promise (a stuck subscriber returns one that never settles). */
export type DeliveryHandler = (event: BenchEvent, subscriber: number) => void | Promise<void>;

export interface SubjectOptions {
  /** Subscribers. */
  readonly n: number;
  /** Mailbox capacity of each subscriber (ignored by unbounded baselines). */
  readonly capacity: number;
  readonly handler: DeliveryHandler;
}

export interface Subject {
  /** Offers `event` to every subscriber; returns how many offers were accepted (not dropped). */
  publish(event: BenchEvent): number | PromiseLike<number>;
  /**
   * Lets the subject's machinery run between bursts. Default: one macrotask
   * (`await new Promise(setImmediate)`), as a publisher in a real program would yield.
   */
  readonly yield?: () => Promise<void>;
}

export type SubjectFactory = (options: SubjectOptions) => Promise<Subject>;

/** One macrotask turn: microtasks (the run queues) drain first. */
export const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A promise that never settles: the body of a stuck subscriber's handler. */
export const NEVER: Promise<void> = new Promise<void>(() => undefined);
