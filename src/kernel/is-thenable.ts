/**
 * True when `value` is a promise or any other thenable: what an `await` would wait on. Handlers
 * may return one; the runtime then waits for it instead of treating the call as done. @internal
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
