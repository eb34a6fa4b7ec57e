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
  | 'node-not-ready'
  | 'store-failed';

/**
 * A problem found at one path of a validated value (event, payload, definition, options, manifest,
 * scenario): the same shape everywhere. Build one with `issue(path, expected, got)` from the checks.
 */
export interface ValidationIssue {
  /**
   * Path of the offending field from the checked value's root, e.g. `payload.height`,
   * `restart.maxRestarts` or `modules[2].name`; `''` for the value itself.
   */
  readonly path: string;
  /** What was expected, as the object of "expected ...": `a non-negative safe integer`. */
  readonly expected: string;
  /** What came, described safely and briefly: `number -1`, `an unknown field`. */
  readonly got: string;
  /** `expected ${expected}, got ${got}`, for people. */
  readonly message: string;
}

/** The one error class of modactor. */
export class ModactorError extends Error {
  override readonly name = 'ModactorError';
  readonly code: ModactorErrorCode;
  readonly issues: readonly ValidationIssue[];
  // Declared, not a field: like an Error made without one, no own `cause` unless given.
  declare readonly cause?: unknown;

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

/** What to do when Node cannot run a `.ts` file (a process module's entry, a scenario's actor): said by every error about one. */
export const TYPESCRIPT_LOADER_HINT = 'install tsx: npm install --save-dev tsx; or use Node >= 22.18, which strips types itself';

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
