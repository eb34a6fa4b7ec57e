import {
  boolean,
  fraction,
  func,
  nonNegativeInteger,
  nonNegativeNumber,
  object,
  oneOf,
  optional,
  parse,
  positiveNumber,
  predicate,
  refine,
  type Check,
  type DescribedCheck,
} from './checks.js';
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
  /**
   * Whether a failing child logs its failure (`actor failed`, at error, with `err`). Default true.
   * A supervisor that reports its children's failures in its own words turns it off, so that one
   * failure is one log line (a node's modules: `module crashed`).
   */
  readonly logFailures?: boolean;
}

// ---- the checks of supervision options (the validation vocabulary of ./checks.ts) -----------

/** A child restart type: `permanent`, `transient` or `temporary`. */
export const restartType = oneOf('permanent', 'transient', 'temporary') satisfies DescribedCheck<RestartType>;

/** A supervision strategy: `one-for-one`, `one-for-all` or `rest-for-one`. */
export const supervisionStrategy = oneOf('one-for-one', 'one-for-all', 'rest-for-one') satisfies DescribedCheck<SupervisionStrategy>;

/** Restart intensity: the most restarts in a window, an integer >= 0. */
export const maxRestarts = nonNegativeInteger;

/** Restart intensity: the window in ms, finite and > 0. */
export const withinMs = positiveNumber;

const growthFactor = predicate<number>('a finite number >= 1', (v) => Number.isFinite(v) && (v as number) >= 1);

/**
 * {@link BackoffOptions}: `minMs` >= 0, `maxMs` >= `minMs`, `factor` >= 1, `jitter` in [0, 1],
 * `resetAfterMs` >= 0, all finite, and no other field.
 */
export const backoffOptions: DescribedCheck<BackoffOptions> = refine(
  object({
    minMs: nonNegativeNumber,
    maxMs: nonNegativeNumber,
    factor: optional(growthFactor),
    jitter: optional(fraction),
    resetAfterMs: optional(nonNegativeNumber),
  } satisfies { readonly [K in keyof Required<BackoffOptions>]: Check<BackoffOptions[K]> }),
  (b) => (b.maxMs >= b.minMs ? undefined : { field: 'maxMs', expected: `a finite number >= minMs (${b.minMs})`, got: b.maxMs }),
);

/**
 * The restart-intensity fields every restart policy has (supervisor options here, a module's
 * restart policy in the node layer), to spread into an {@link object} shape.
 */
export const restartIntensityShape = {
  maxRestarts: optional(maxRestarts),
  withinMs: optional(withinMs),
  backoff: optional(backoffOptions),
} as const;

/** {@link SupervisorOptions}, whole: unknown fields are refused. */
export const supervisorOptions: DescribedCheck<SupervisorOptions> = object({
  strategy: optional(supervisionStrategy),
  ...restartIntensityShape,
  decide: optional(func as DescribedCheck<NonNullable<SupervisorOptions['decide']>>),
  logFailures: optional(boolean),
} satisfies { readonly [K in keyof Required<SupervisorOptions>]: Check<SupervisorOptions[K]> });

/**
 * Parses options a supervisor will use: a frozen copy, or a {@link ModactorError}
 * (`invalid-argument`) naming every bad field.
 * @internal
 */
export function validateSupervisorOptions(options: SupervisorOptions, path = 'supervision'): SupervisorOptions {
  return parse(supervisorOptions, options, { code: 'invalid-argument', what: 'supervisor options', path });
}

/** Default restart intensity: at most 3 restarts within 5000 ms. @internal */
export const DEFAULT_MAX_RESTARTS = 3;
/** @internal */
export const DEFAULT_WITHIN_MS = 5000;

/** Restart intensity as a sliding window: at most `maxRestarts` restarts in any `withinMs` span. */
export class RestartWindow {
  /** Restart times inside the window, oldest first; allocated at the first restart. */
  private times: number[] | null = null;

  readonly maxRestarts: number;
  readonly withinMs: number;

  /** Throws a `ModactorError` (`invalid-argument`) for a negative or fractional count or a window not > 0. */
  constructor(max: number, within: number) {
    const what = 'restart intensity';
    this.maxRestarts = parse(maxRestarts, max, { code: 'invalid-argument', what, path: 'maxRestarts' });
    this.withinMs = parse(withinMs, within, { code: 'invalid-argument', what, path: 'withinMs' });
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
}

/** Tracks consecutive restarts and computes the next backoff delay. */
export class Backoff {
  private attempt = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly options: BackoffOptions;

  /** Throws a `ModactorError` (`invalid-argument`) naming every bad field of `options`. */
  constructor(options: BackoffOptions) {
    this.options = parse(backoffOptions, options, { code: 'invalid-argument', what: 'backoff options', path: 'backoff' });
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
