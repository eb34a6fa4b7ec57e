/**
 * Whether a value survives a JSON round trip unchanged, checked without serializing it.
 */

/** Nesting deeper than this is refused; a cycle is infinitely deep, so this also finds cycles. */
export const MAX_JSON_DEPTH = 64;
/** Values visited at most; a shared sub-object counts each time it is reached. */
export const MAX_JSON_NODES = 100_000;

/**
 * True when `value` crosses a JSON boundary unchanged: strings, finite numbers, booleans, `null`,
 * arrays and plain objects of those. False for BigInt, cycles, functions, symbols, `undefined`,
 * NaN and infinities, class instances (Date, Map, ...), nesting deeper than {@link MAX_JSON_DEPTH}
 * or more than {@link MAX_JSON_NODES} values; also false when reading a property throws (a getter).
 * Never throws; allocates nothing.
 *
 * @example
 * ```ts
 * isJsonSafe({ a: [1, 'x', null] }); // true
 * isJsonSafe({ n: 10n });            // false: BigInt
 * const o: Record<string, unknown> = {}; o.self = o;
 * isJsonSafe(o);                     // false: a cycle
 * ```
 */
export function isJsonSafe(value: unknown): boolean {
  budget = MAX_JSON_NODES;
  try {
    return safe(value, 0);
  } catch {
    return false;
  }
}

let budget = 0;

function safe(value: unknown, depth: number): boolean {
  if (--budget < 0) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!safe(value[i], depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        if (!safe(record[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      // bigint, undefined, function, symbol
      return false;
  }
}
