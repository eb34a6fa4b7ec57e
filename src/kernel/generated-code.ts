/**
 * Code written out at run time for one shape (an object check's field loop, its JSON writer):
 * `body` is the text of a function of one parameter, `param`, which returns what is made. The text
 * is built by the caller from names it wrote as JSON string literals, never from input values.
 * Null where the runtime forbids generating code (`--disallow-code-generation-from-strings`): the
 * caller then uses its interpreted form. @internal
 */
export function generated<A, T>(param: string, body: readonly string[], argument: A): T | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const make = new Function(param, ['"use strict";', ...body].join('\n')) as (argument: A) => T;
    return make(argument);
  } catch {
    return null;
  }
}
