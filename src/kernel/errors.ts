/**
 * Typed errors. Every error the runtime raises for misuse or bad input is a {@link ModactorError}
 * with a stable `code` from a closed union; check it with {@link isModactorError}, never by
 * matching message text.
 */

/** The closed set of error codes. */
export type ModactorErrorCode =
  | 'invalid-argument'
  | 'invalid-capacity'
  | 'system-stopped'
  | 'unknown-actor'
  | 'duplicate-name'
  | 'actor-terminated'
  | 'mailbox-full'
  | 'ask-timeout'
  | 'unknown-event-type'
  | 'invalid-payload'
  | 'invalid-event'
  | 'unknown-module'
  | 'duplicate-module'
  | 'module-startup-failed'
  | 'invalid-manifest'
  | 'invalid-scenario'
  | 'protocol-violation'
  | 'not-permitted'
  | 'rate-limited'
  | 'serialization-failed'
  | 'node-failed'
  | 'node-shutting-down'
  | 'store-failed';

/** A problem found at one path of a validated value (event payload, manifest, scenario). */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `payload.height` or `modules[2].restart.maxRestarts`. */
  readonly path: string;
  /** What was expected and what came. */
  readonly message: string;
}

/** The one error class of modactor. */
export class ModactorError extends Error {
  override readonly name = 'ModactorError';
  readonly code: ModactorErrorCode;
  readonly issues: readonly ValidationIssue[];
  override readonly cause?: unknown;

  constructor(
    code: ModactorErrorCode,
    message: string,
    options: { issues?: readonly ValidationIssue[]; cause?: unknown } = {},
  ) {
    super(message);
    this.code = code;
    this.issues = options.issues ?? [];
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/** Guard for {@link ModactorError}, optionally of one code. */
export function isModactorError(value: unknown, code?: ModactorErrorCode): value is ModactorError {
  return value instanceof ModactorError && (code === undefined || value.code === code);
}

/** Describe any value briefly for "expected X, got Y" messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return 'an object';
  }
}
