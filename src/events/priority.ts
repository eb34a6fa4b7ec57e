/**
 * Which events are critical: the priority lane's rule (SPEC section 3). Critical events are never
 * dropped behind routine traffic.
 */

/**
 * True for `NodeShutdown`, and for `DataMaintenance` with urgency `high`; false for anything else,
 * including events of other catalogues and malformed values (it never throws).
 *
 * @example
 * ```ts
 * isCriticalEvent({ type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'high', reason: 'shutdown' } }); // true
 * isCriticalEvent({ type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 1 } }); // false
 * ```
 */
export function isCriticalEvent(event: { readonly type: string; readonly payload?: unknown }): boolean {
  if (event.type === 'NodeShutdown') return true;
  if (event.type !== 'DataMaintenance') return false;
  const payload = event.payload;
  return typeof payload === 'object' && payload !== null && (payload as { urgency?: unknown }).urgency === 'high';
}
