/**
 * `modactor/sdk`: what a process or worker module's child imports. Light on purpose: no actor
 * system, no node, no simulator, not even the catalogue's checks (event types are string literals,
 * typed), so a child starts fast. The entry file calls {@link runModule} once.
 *
 * @example
 * ```ts
 * import { runModule } from 'modactor/sdk';
 * await runModule({ name: 'my-indexer', version: '1.0.0', handle(event, ctx) { ctx.log.info({ type: event.type }); } });
 * ```
 */
export { runModule } from './ipc/sdk.js';
export type {
  ChildModuleContext,
  ChildModuleHandlers,
  ChildModuleDefinition,
  ChildHandlerDefinition,
  ChildFactoryDefinition,
} from './ipc/sdk.js';
export type { EventMap, EventMeta, EventOf, EventTypeOf } from './events/catalogue.js';
export type { ModuleHealth, NodeEvent, NodeEventMap, NodeEventType } from './events/node-catalogue.js';
export type { PublishReceipt } from './node/delivery-stats.js';
export { ModactorError, isModactorError } from './kernel/errors.js';
export type { ModactorErrorCode, ValidationIssue } from './kernel/errors.js';
export type { Logger } from './kernel/logger.js';
