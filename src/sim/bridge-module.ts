import type { EventTypeOf } from '../events/catalogue.js';
import type { NodeEventMap } from '../events/node-catalogue.js';
import type { EventManager } from '../node/event-manager.js';
import { defineModule, type ModuleDefinition } from '../node/module.js';
import { BRIDGE_NAME } from './scenario.js';

/**
 * The simulator's bridge, a module of the simulated node: it forwards the events of `types` to
 * another node's EventManager (the companion node of the process modules).
 */
export function bridgeModule(target: EventManager<NodeEventMap>, types: readonly EventTypeOf<NodeEventMap>[]): ModuleDefinition {
  return defineModule({
    name: BRIDGE_NAME,
    version: '1.0.0',
    subscribe: types,
    mailboxCapacity: 1_000_000,
    handle(event) {
      try {
        target.publish(event);
      } catch {
        // The companion refuses only after its shutdown, which comes after this node's.
      }
    },
  });
}
