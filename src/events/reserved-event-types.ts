/**
 * The event types only the node publishes (SPEC: "Reserved types are published by the node
 * alone"): the module-lifecycle family and the node family. A module, whatever its `publishes`
 * list or manifest says, may not publish them.
 */
import { eventFamilies, type NodeEventType } from './node-catalogue.js';

/**
 * The reserved event types, frozen: `ModuleLoaded`, `ModuleUnloaded`, `ModuleReloaded`,
 * `ModuleStarted`, `ModuleStopped`, `ModuleCrashed`, `ModuleHealthChanged`,
 * `ModuleStateChanged`, `NodeStartupCompleted`, `NodeShutdown`, `NodeShutdownCompleted`.
 */
export const RESERVED_EVENT_TYPES: readonly NodeEventType[] = Object.freeze([...eventFamilies.lifecycle, ...eventFamilies.node]);

const reserved: ReadonlySet<string> = new Set(RESERVED_EVENT_TYPES);

/**
 * True when `type` is published by the node alone (see {@link RESERVED_EVENT_TYPES}).
 *
 * @example
 * ```ts
 * isReservedEventType('ModuleCrashed'); // true
 * isReservedEventType('NewBlock');      // false
 * ```
 */
export function isReservedEventType(type: string): boolean {
  return reserved.has(type);
}
