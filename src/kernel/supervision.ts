import { ModactorError, describeValue } from './errors.js';
import { describeThrown } from './foreign.js';

/** How a supervisor treats the siblings of a failed child. */
export type SupervisionStrategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/**
 * When a child is restarted: `permanent` always, `transient` only after a failure (not after a
 * normal exit), `temporary` never.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** What a supervisor does about one failure. */
export type Directive = 'resume' | 'restart' | 'stop' | 'escalate';

/** Why an actor failed: data, never a lost exception. */
export type Failure =
  | { readonly kind: 'thrown'; readonly message: string; readonly error: unknown }
  | { readonly kind: 'rejected'; readonly message: string; readonly error: unknown }
  | { readonly kind: 'escalated'; readonly message: string; readonly child: string; readonly cause: Failure }
  | {
      readonly kind: 'intensity-exceeded';
      readonly message: string;
      readonly child: string;
      readonly restarts: number;
      readonly withinMs: number;
      readonly cause: Failure;
    }
  | { readonly kind: 'stop-timeout'; readonly message: string; readonly timeoutMs: number }
  | { readonly kind: 'crashed'; readonly message: string; readonly detail?: unknown };

/** Why an actor terminated. */
export type ExitReason =
  /** It stopped itself (`ctx.stopSelf()`). */
  | { readonly kind: 'normal' }
  /** Someone stopped it (`system.stop`, a supervisor, system shutdown). */
  | { readonly kind: 'stopped' }
  /** It failed and its supervisor restarted or stopped it. */
  | { readonly kind: 'failed'; readonly failure: Failure }
  /** It did not stop within its shutdown timeout and was killed. */
  | { readonly kind: 'killed'; readonly failure: Failure };

/** Exponential backoff between restarts, with jitter and a reset after a quiet period. */
export interface BackoffOptions {
  /** First delay in ms. */
  readonly minMs: number;
  /** Largest delay in ms. */
  readonly maxMs: number;
  /** Growth per consecutive restart. Default 2. */
  readonly factor?: number;
  /** Random spread as a fraction of the delay, 0..1. Default 0.2. */
  readonly jitter?: number;
  /** After this many ms without a restart the delay starts from `minMs` again. Default `maxMs * 2`. */
  readonly resetAfterMs?: number;
}

/** How an actor supervises its children. */
export interface SupervisorOptions {
  /** Default `one-for-one`. */
  readonly strategy?: SupervisionStrategy;
  /** Restart intensity: at most `maxRestarts` restarts within `withinMs`. Default 3 in 5000 ms. */
  readonly maxRestarts?: number;
  readonly withinMs?: number;
  readonly backoff?: BackoffOptions;
  /** Chooses the directive for one failure. Default: always `restart`. */
  readonly decide?: (failure: Failure, child: { readonly name: string; readonly path: string }) => Directive;
}

const STRATEGIES: readonly string[] = ['one-for-one', 'one-for-all', 'rest-for-one'];

/**
 * Throws a {@link ModactorError} (`invalid-argument`) for options a supervisor could not use.
 * @internal
 */
export function validateSupervisorOptions(options: SupervisorOptions): void {
  if (options.strategy !== undefined && !STRATEGIES.includes(options.strategy)) {
    throw new ModactorError(
      'invalid-argument',
      `Expected strategy to be one-for-one, one-for-all or rest-for-one, got ${describeValue(options.strategy)}`,
    );
  }
  new RestartWindow(options.maxRestarts ?? DEFAULT_MAX_RESTARTS, options.withinMs ?? DEFAULT_WITHIN_MS);
  if (options.backoff !== undefined) new Backoff(options.backoff);
  if (options.decide !== undefined && typeof options.decide !== 'function') {
    throw new ModactorError('invalid-argument', `Expected decide to be a function, got ${describeValue(options.decide)}`);
  }
}

/** Default restart intensity: at most 3 restarts within 5000 ms. @internal */
export const DEFAULT_MAX_RESTARTS = 3;
/** @internal */
export const DEFAULT_WITHIN_MS = 5000;

/** Restart intensity as a sliding window: at most `maxRestarts` restarts in any `withinMs` span. */
export class RestartWindow {
  /** Restart times inside the window, oldest first; allocated at the first restart. */
  private times: number[] | null = null;

  constructor(
    readonly maxRestarts: number,
    readonly withinMs: number,
  ) {
    if (!Number.isSafeInteger(maxRestarts) || maxRestarts < 0) {
      throw new ModactorError('invalid-argument', `Expected maxRestarts to be an integer >= 0, got ${String(maxRestarts)}`);
    }
    if (!(withinMs > 0)) {
      throw new ModactorError('invalid-argument', `Expected withinMs to be > 0, got ${String(withinMs)}`);
    }
  }

  /**
   * Records a restart at `now` if the window allows it. Returns false (recording nothing) when one
   * more restart would exceed the intensity.
   */
  tryRecord(now: number): boolean {
    const times = (this.times ??= []);
    while (times.length > 0 && (times[0] as number) <= now - this.withinMs) times.shift();
    if (times.length >= this.maxRestarts) return false;
    times.push(now);
    return true;
  }

  /** Restarts inside the window ending at `now`. */
  countAt(now: number): number {
    return (this.times ?? []).filter((t) => t > now - this.withinMs).length;
  }
}

/** Tracks consecutive restarts and computes the next backoff delay. */
export class Backoff {
  private attempt = 0;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.minMs >= 0) || !(options.maxMs >= options.minMs)) {
      throw new ModactorError(
        'invalid-argument',
        `Expected backoff 0 <= minMs <= maxMs, got minMs ${String(options.minMs)} and maxMs ${String(options.maxMs)}`,
      );
    }
    if (options.factor !== undefined && !(options.factor >= 1)) {
      throw new ModactorError('invalid-argument', `Expected backoff factor >= 1, got ${String(options.factor)}`);
    }
    if (options.jitter !== undefined && !(options.jitter >= 0 && options.jitter <= 1)) {
      throw new ModactorError('invalid-argument', `Expected backoff jitter in [0, 1], got ${String(options.jitter)}`);
    }
  }

  /** The delay before the restart happening at `now`; `random` in [0, 1). */
  next(now: number, random: () => number): number {
    const resetAfter = this.options.resetAfterMs ?? this.options.maxMs * 2;
    if (now - this.lastAt >= resetAfter) this.attempt = 0;
    this.lastAt = now;
    const factor = this.options.factor ?? 2;
    const base = Math.min(this.options.maxMs, this.options.minMs * Math.pow(factor, this.attempt));
    this.attempt++;
    const jitter = this.options.jitter ?? 0.2;
    const spread = base * jitter * (random() * 2 - 1);
    return Math.max(0, Math.min(this.options.maxMs, Math.round(base + spread)));
  }
}

/**
 * The failure carried by an error thrown or a promise rejected in a handler. Whatever `error` is,
 * this never throws: its message is {@link describeThrown}'s.
 */
export function failureFrom(kind: 'thrown' | 'rejected', error: unknown): Failure {
  return { kind, message: describeThrown(error), error };
}

/** A one-line description of an exit reason. */
export function describeExit(reason: ExitReason): string {
  switch (reason.kind) {
    case 'normal':
    case 'stopped':
      return reason.kind;
    case 'failed':
    case 'killed':
      return `${reason.kind}: ${reason.failure.message}`;
  }
}
