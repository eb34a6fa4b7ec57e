import { customRandom, nanoid, urlAlphabet } from 'nanoid';
import type { Random } from './random.js';

/** Something the scheduler can run: an actor with messages to handle. */
export interface Schedulable {
  /** Handles up to `budget` messages. Must not throw. */
  runSlice(budget: number): void;
}

/** A timer that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Where time and order come from. Nothing in modactor reads the wall clock or schedules work
 * except through a Scheduler, which is what makes the simulated one exact.
 */
export interface Scheduler {
  readonly kind: 'real' | 'simulated';
  /** Messages an actor may handle per turn before another actor gets to run. */
  readonly throughput: number;
  /** Milliseconds on this scheduler's clock. */
  now(): number;
  /** Marks `task` runnable; it will get one `runSlice` call. */
  enqueue(task: Schedulable): void;
  /** Calls `fn` after `delayMs` on this scheduler's clock. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** A float in [0, 1): seeded in simulation. */
  random(): number;
  /** A fresh unique id (nanoid; seeded in simulation). */
  newId(): string;
}

/** Options of {@link createRealScheduler}. */
export interface RealSchedulerOptions {
  /** Messages per actor turn. Default 32. */
  throughput?: number;
  /** Longest time one drain runs before it yields to the event loop (timers, I/O). Default 4 ms. */
  sliceMs?: number;
  /** Most actor turns per drain before it yields, whatever the time. Default 4096. */
  turnsPerYield?: number;
}

/** Turns between two looks at the clock while draining. */
const CLOCK_EVERY_TURNS = 32;

/**
 * The production scheduler: one shared FIFO run queue of runnable actors, drained in a microtask
 * batch that yields to the event loop (via `setImmediate`) once it has run for `sliceMs` or
 * `turnsPerYield` turns, so timers and I/O are never starved by a busy system, while a burst of
 * work that fits in a slice runs to the end without a detour through the event loop.
 */
export function createRealScheduler(options: RealSchedulerOptions = {}): Scheduler {
  const throughput = options.throughput ?? 32;
  const sliceMs = options.sliceMs ?? 4;
  const turnsPerYield = options.turnsPerYield ?? 4096;
  let queue: Schedulable[] = [];
  let next: Schedulable[] = [];
  let drainPending = false;
  // A slice is the work done between two passes of the event loop. Promise continuations that
  // make actors runnable again start new microtask drains; a marker macrotask tells when the
  // event loop got a turn, so the slice's time counts across those drains too.
  let sliceStart = 0;
  let markerPending = false;
  const clearMarker = (): void => {
    markerPending = false;
  };
  const sliceUsed = (): boolean => markerPending && performance.now() - sliceStart >= sliceMs;

  const drain = (): void => {
    if (!markerPending) {
      markerPending = true;
      sliceStart = performance.now();
      setImmediate(clearMarker);
    }
    let turns = 0;
    while (queue.length > 0) {
      const batch = queue;
      queue = next;
      for (let i = 0; i < batch.length; i++) {
        const task = batch[i] as Schedulable;
        if (++turns > turnsPerYield || (turns % CLOCK_EVERY_TURNS === 0 && sliceUsed())) {
          // Put the unrun rest back at the front, then yield to the event loop.
          const rest = batch.slice(i);
          batch.length = 0;
          next = batch;
          queue = rest.concat(queue);
          setImmediate(drain);
          return;
        }
        task.runSlice(throughput);
      }
      batch.length = 0;
      next = batch;
    }
    drainPending = false;
  };

  // Read once: the getter goes into Node's internals on every call, and the origin never changes.
  const origin = performance.timeOrigin;
  return {
    kind: 'real',
    throughput,
    now: () => origin + performance.now(),
    enqueue(task) {
      queue.push(task);
      if (!drainPending) {
        drainPending = true;
        // Within the slice, drain in this microtask checkpoint; past it, after the event loop.
        if (sliceUsed()) setImmediate(drain);
        else queueMicrotask(drain);
      }
    },
    setTimer: setRealTimer,
    random: Math.random,
    newId: () => flat(nanoid()),
  };
}

/** Node fires a `setTimeout` longer than this at once (after 1 ms), so longer ones are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A wall-clock timer; `Infinity` never fires, delays beyond ~24.8 days are chained. */
function setRealTimer(delayMs: number, fn: () => void): TimerHandle {
  if (delayMs === Number.POSITIVE_INFINITY) return { cancel: () => undefined };
  let t: NodeJS.Timeout;
  const arm = (remaining: number): void => {
    if (remaining > MAX_TIMEOUT_MS) t = setTimeout(() => arm(remaining - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS);
    else t = setTimeout(fn, Math.max(0, remaining));
  };
  arm(delayMs);
  return { cancel: () => clearTimeout(t) };
}

/** A nanoid generator fed by a seeded random source (deterministic ids in simulation). */
export function seededIdGenerator(random: Random): () => string {
  const generate = customRandom(urlAlphabet, 21, (size) => {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = random.int(256);
    return bytes;
  });
  return () => flat(generate());
}

/**
 * The same string, flattened: an id built character by character is a rope of ~20 pieces until
 * something reads it; reading one character makes the engine flatten it, so a kept id costs one
 * string, not twenty.
 */
function flat(id: string): string {
  id.charCodeAt(0);
  return id;
}
