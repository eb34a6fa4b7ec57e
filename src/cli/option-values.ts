/**
 * Command-line option values through the validation vocabulary: what `parseArgs` gives (strings)
 * and environment variables are parsed by checks, each problem an issue `{ path, expected, got }`
 * whose path names the option (`--seed`) or the variable (`MODACTOR_LOG_LEVEL`), as a scenario's
 * issues name its fields.
 */
import { describeReceived, issue, runCheck, summarizeIssues, type Check, type DescribedCheck } from '../kernel/checks.js';
import { ModactorError, isModactorError, type ValidationIssue } from '../kernel/errors.js';

/** A check of option text read as a number by `read` (undefined: not a number at all), then by `check`. */
function fromText(check: DescribedCheck<number>, read: (text: string) => number | undefined): DescribedCheck<number> {
  const parse = (value: unknown, path: string, issues: ValidationIssue[]): number => {
    const n = typeof value === 'string' ? read(value) : undefined;
    const inner: ValidationIssue[] = [];
    const parsed = n === undefined ? 0 : check(n, path, inner);
    // What came is the text as it was written, whichever step refused it.
    if (n === undefined || inner.length > 0) issues.push(issue(path, check.expected, describeReceived(value)));
    return parsed;
  };
  return Object.assign(parse, { expected: check.expected });
}

/** Option text of decimal digits (`--seed 7`), as a number `check` admits. */
export function integerText(check: DescribedCheck<number>): DescribedCheck<number> {
  return fromText(check, (text) => (/^\d+$/.test(text) ? Number(text) : undefined));
}

/** Option text of a number (`--time-scale 0.1`), as a number `check` admits. */
export function numberText(check: DescribedCheck<number>): DescribedCheck<number> {
  return fromText(check, (text) => (text.trim() === '' ? undefined : Number(text)));
}

/**
 * Reads command-line option values with checks, collecting every issue; {@link done} throws them
 * together as one `invalid-argument` error.
 *
 * @example
 * ```ts
 * const options = new OptionValues(values);
 * const seed = options.read('seed', integerText(nonNegativeInteger)); // --seed: expected a non-negative safe integer, got string "x"
 * options.done();
 * ```
 */
export class OptionValues {
  readonly issues: ValidationIssue[] = [];

  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  /** The value of `--name` parsed by `check`, or undefined when the option was not given. */
  read<T>(name: string, check: Check<T>): T | undefined {
    const value = this.values[name];
    return value === undefined ? undefined : runCheck(check, value, `--${name}`, this.issues);
  }

  /** The value of the environment variable `name` parsed by `check`, or undefined when it is unset or empty. */
  fromEnv<T>(env: Readonly<Record<string, string | undefined>>, name: string, check: Check<T>): T | undefined {
    const value = env[name];
    return value === undefined || value === '' ? undefined : runCheck(check, value, name, this.issues);
  }

  /** Records a problem that no single value shows (an option that needs another, too many arguments). */
  refuse(path: string, expected: string, got: string): void {
    this.issues.push(issue(path, expected, got));
  }

  /** Throws every issue found as one `invalid-argument` {@link ModactorError}; nothing when there is none. */
  done(): void {
    if (this.issues.length > 0) throw new ModactorError('invalid-argument', `Invalid arguments: ${summarizeIssues(this.issues)}`, { issues: [...this.issues] });
  }
}

/** The lines a command prints on stderr for bad arguments: one per issue (`--seed: expected ..., got ...`). */
export function argumentProblems(error: unknown, describe: (error: unknown) => string): string[] {
  if (isModactorError(error, 'invalid-argument') && error.issues.length > 0) {
    return error.issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
  }
  return [describe(error)];
}
