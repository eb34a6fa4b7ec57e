/**
 * Foreign values: what user code throws, rejects with or hands over can be anything — an object
 * with no string form, a proxy whose traps throw, an Error whose `message` getter throws or is a
 * symbol. Describing such a value must never throw, because it happens inside the runtime's own
 * turns (a failure report, a log line, a `ModuleCrashed` payload).
 */

/** Longest description kept of a thrown value, in UTF-16 code units. */
export const MAX_FAILURE_MESSAGE = 1024;

/** Runs `read`, returning undefined instead of whatever it throws. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function cap(text: string): string {
  return text.length > MAX_FAILURE_MESSAGE ? `${text.slice(0, MAX_FAILURE_MESSAGE - 3)}...` : text;
}

/** True when `value` is an Error; false (never a throw) for proxies that refuse to say. */
export function isErrorSafe(value: unknown): value is Error {
  return attempt(() => value instanceof Error) === true;
}

/**
 * A one-line description of a thrown or rejected value: an Error's message, a string as it is, any
 * other value's string form, or a note saying it has none. Never throws; at most
 * {@link MAX_FAILURE_MESSAGE} characters.
 *
 * @example
 * ```ts
 * describeThrown(new Error('boom'));        // 'boom'
 * describeThrown(Object.create(null));      // 'a thrown object with no string form'
 * describeThrown(Symbol('x'));              // 'Symbol(x)'
 * ```
 */
export function describeThrown(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return cap(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'symbol':
      return cap(attempt(() => value.toString()) ?? 'a symbol');
    default:
      break;
  }
  if (value === null) return 'null';
  if (isErrorSafe(value)) {
    const message = attempt(() => value.message);
    if (typeof message === 'string') return cap(message);
    const name = attempt(() => value.name);
    return typeof name === 'string' ? cap(`${name} with no readable message`) : 'an Error with no readable message';
  }
  // The value's own string form, whatever it is: that is what its author chose to show.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const text = attempt(() => String(value));
  return typeof text === 'string' ? cap(text) : `a thrown ${typeof value} with no string form`;
}

/**
 * What a log line carries under `err`: plain data, never the foreign object itself. Shaped for
 * pino's error serializer, which logs `{ type, message, stack }`: no prototype (so `type` is taken
 * from `name`, not from a constructor, which would say "Object") and `name` not enumerable (so it
 * is not logged twice).
 */
export interface LoggedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** A {@link LoggedError} from its parts; `extra` fields are logged beside message and stack. */
export function loggedError(type: string, message: string, stack?: string, extra: Readonly<Record<string, unknown>> = {}): LoggedError {
  const err = Object.assign(Object.create(null) as Record<string, unknown>, extra, { message, ...(stack === undefined ? {} : { stack }) });
  Object.defineProperty(err, 'name', { value: type, enumerable: false });
  return err as unknown as LoggedError;
}

/**
 * The `err` of a log line for a thrown value (pino's convention: type, message, stack). The foreign
 * value is read here, once and safely, so that the logger's serializer never touches it.
 */
export function errorForLog(value: unknown): LoggedError {
  const message = describeThrown(value);
  if (!isErrorSafe(value)) return loggedError(value === null ? 'null' : typeof value, message);
  const name = attempt(() => value.name);
  const stack = attempt(() => value.stack);
  return loggedError(typeof name === 'string' ? name : 'Error', message, typeof stack === 'string' ? stack.slice(0, 16 * MAX_FAILURE_MESSAGE) : undefined);
}
