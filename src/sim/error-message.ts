import { describeValue } from '../kernel/errors.js';

/**
 * The message of whatever was thrown or rejected, for the timeline, a scenario issue or the CLI:
 * an Error's message, anything else as a string. Never throws (`String(x)` can: a hostile
 * `toString`, a revoked proxy); such a value is described by its type instead.
 */
export function errorMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return describeValue(error);
  }
}
