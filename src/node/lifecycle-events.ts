import type { NodeEventMap } from '../events/node-catalogue.js';

/** The lifecycle family every catalogue used by a node must contain. */
export type LifecycleEventMap = Pick<
  NodeEventMap,
  | 'ModuleLoaded'
  | 'ModuleUnloaded'
  | 'ModuleReloaded'
  | 'ModuleStarted'
  | 'ModuleStopped'
  | 'ModuleCrashed'
  | 'ModuleHealthChanged'
  | 'ModuleStateChanged'
  | 'NodeShutdown'
  | 'NodeShutdownCompleted'
>;

/**
 * Builds a lifecycle event, frozen like every event a catalogue accepts: one event object is
 * offered to every subscriber, so none may change what the next one sees. `payload` must be a
 * fresh flat object of scalars (the callers build it in place). @internal
 */
export function lifecycleEvent<K extends keyof LifecycleEventMap>(
  type: K,
  payload: LifecycleEventMap[K] | object,
): { readonly type: K; readonly payload: LifecycleEventMap[K] } {
  return Object.freeze({ type, payload: Object.freeze(payload) as LifecycleEventMap[K] });
}
