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
