/**
 * A cheap look at a JSON text before it is parsed: how deep it nests. `JSON.parse` spends time and
 * stack on nesting whatever the text's length (a 1 MiB text of `[[[[...` costs the host far more
 * than 1 MiB of a flat object), so the trust boundary refuses deep texts before parsing them.
 */

/** What {@link scanJsonDepth} found. */
export interface JsonDepthScan {
  /** True when the text opens more than `limit` arrays or objects inside each other. */
  readonly exceeded: boolean;
  /** UTF-16 code units examined: the whole text, or up to the bracket that crossed the limit. */
  readonly scanned: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Finds whether `text` nests arrays and objects more than `limit` deep, in one pass that jumps over
 * string contents (brackets inside strings do not count) and stops at the first bracket over the
 * limit. Linear in the length of the text; never throws. For a valid JSON text the depth found is
 * its true depth; for an invalid one it bounds the depth `JSON.parse` reaches before it fails.
 *
 * @example
 * ```ts
 * scanJsonDepth('{"a":[1,{"b":"[[["}]}', 2); // { exceeded: false, scanned: 21 }
 * scanJsonDepth('[[[[1]]]]', 3);             // { exceeded: true, scanned: 4 }
 * ```
 */
export function scanJsonDepth(text: string, limit: number): JsonDepthScan {
  const n = text.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return { exceeded: true, scanned: i + 1 };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
    i++;
  }
  return { exceeded: false, scanned: n };
}

/** The index after the closing quote of the string opening at `open` (the text's end if none). */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    for (let k = quote - 1; k > open && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}
