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

/** Builds a lifecycle event. @internal */
export function lifecycleEvent<K extends keyof LifecycleEventMap>(
  type: K,
  payload: LifecycleEventMap[K] | object,
): { readonly type: K; readonly payload: LifecycleEventMap[K] } {
  return { type, payload: payload as LifecycleEventMap[K] };
}
