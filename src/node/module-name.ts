/**
 * The one module-name rule, for in-process definitions, process-module manifests and scenarios
 * alike: a letter or digit, then letters, digits, `.`, `_` or `-`, 64 characters at most (a name
 * is used in paths, logs, metric labels and, for remote modules, as `<node>/<module>`).
 */
import { predicate, type DescribedCheck } from '../kernel/checks.js';

/** The module-name rule as a pattern. */
export const MODULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A module name, as a check of the validation vocabulary.
 *
 * @example
 * ```ts
 * parse(moduleName, 'indexer', { code: 'invalid-argument', what: 'module name' }); // 'indexer'
 * parse(moduleName, 'no spaces', { code: 'invalid-argument', what: 'module name' }); // throws
 * ```
 */
export const moduleName: DescribedCheck<string> = predicate(
  'a name of letters, digits, ".", "_" or "-" (max 64, starting with a letter or digit)',
  (v) => typeof v === 'string' && MODULE_NAME_PATTERN.test(v),
);
