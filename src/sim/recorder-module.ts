import { defineModule, type ModuleDefinition } from '../node/module.js';
import { RECORDER_NAME } from './scenario.js';

/** The lifecycle events the recorder module witnesses (everything the node announces). */
const LIFECYCLE_TYPES = [
  'ModuleLoaded',
  'ModuleUnloaded',
  'ModuleReloaded',
  'ModuleCrashed',
  'ModuleHealthChanged',
  'ModuleStopped',
  'NodeStartupCompleted',
  'NodeShutdown',
] as const;

/**
 * The simulator's recorder, a module of the simulated node: the trace sees every lifecycle event
 * offered to it, in publish order; loaded first, it stops last, and `onStop` then takes the final
 * checkpoint once every other module has stopped.
 */
export function recorderModule(onStop: () => Promise<void> | undefined): ModuleDefinition {
  return defineModule({
    name: RECORDER_NAME,
    version: '1.0.0',
    subscribe: [...LIFECYCLE_TYPES],
    mailboxCapacity: 1_000_000,
    handle() {},
    stop: onStop,
  });
}
