/**
 * Baseline for the validation case: a hand-written validate-only check of one `NewBlock` event,
 * making the same reads and tests the catalogue makes (a plain-object envelope with a string
 * `type` and no field but `type`, `payload`, `meta`; a plain-object payload with exactly
 * `blockHash`, a 64-character lowercase hex string, and `height`, a non-negative safe integer)
 * but copying nothing: it returns the caller's own object. The floor under which parsing cannot
 * go; the difference is the price of the generic checks plus the frozen copy.
 */
import { hex64, isPlainObject, nonNegativeInteger } from '../../src/kernel/checks.js';
import type { ValidationIssue } from '../../src/kernel/errors.js';

const issues: ValidationIssue[] = [];

/** The event itself when it is a valid NewBlock, else undefined. */
export function validateNewBlock(value: unknown): unknown {
  if (!isPlainObject(value)) return undefined;
  const event = value as { readonly type?: unknown; readonly payload?: unknown };
  if (event.type !== 'NewBlock') return undefined;
  let keys = 0;
  for (const key in event) {
    if (!Object.hasOwn(event, key)) continue;
    if (key !== 'type' && key !== 'payload' && key !== 'meta') return undefined;
    keys++;
  }
  const payload = event.payload;
  if (keys < 2 || !isPlainObject(payload)) return undefined;
  const fields = payload as { readonly blockHash?: unknown; readonly height?: unknown };
  if (!Object.hasOwn(fields, 'blockHash') || !Object.hasOwn(fields, 'height')) return undefined;
  hex64(fields.blockHash, 'payload.blockHash', issues);
  nonNegativeInteger(fields.height, 'payload.height', issues);
  let count = 0;
  for (const key in fields) if (Object.hasOwn(fields, key)) count++;
  if (issues.length > 0 || count !== 2) {
    issues.length = 0;
    return undefined;
  }
  return value;
}
