import { defineModule, handlersOf, type ModuleContext, type ModuleDefinition, type ModuleHandlers } from '../node/module.js';
import type { EventMap, EventOf } from '../events/catalogue.js';
import type { NodeEventMap } from '../events/node-catalogue.js';

/** What happens to one event before it reaches the module's own handler. */
export type Fault =
  /** The handler throws (a crash of the module, supervised like any other). */
  | { readonly kind: 'crash'; readonly message: string }
  /** The module hangs on the event for `forMs` (null: until it is stopped), then handles it. */
  | { readonly kind: 'hang'; readonly forMs: number | null }
  /** The event costs `delayMs` more, on the node's clock. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** The module is held on the event until `until` settles, then handles it. */
  | { readonly kind: 'hold'; readonly until: PromiseLike<void> };

/**
 * Decides the fault for each event a module takes. Called once per event, in the order the
 * module takes them, at the moment it takes it (so it also observes the order of handling).
 */
export interface FaultController<E extends EventMap = NodeEventMap> {
  decide(event: EventOf<E>, ctx: ModuleContext<E>): Fault | undefined;
}

/** The error a crash fault throws. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

const never = new Promise<never>(() => undefined);

/**
 * Wraps a module definition so that a controller can make it crash, hang or slow down on any
 * event, without the module's code knowing: the simulator's generic fault injection. With no
 * fault the module's handler runs as it is, synchronous if it is synchronous, so a wrapped module
 * behaves exactly like the original until a fault is injected.
 *
 * @example
 * ```ts
 * let crashNext = false;
 * const wrapped = withFaults(indexer, {
 *   decide: () => (crashNext ? ((crashNext = false), { kind: 'crash', message: 'injected' }) : undefined),
 * });
 * await node.load(wrapped);
 * ```
 */
export function withFaults<E extends EventMap>(definition: ModuleDefinition<E>, controller: FaultController<E>): ModuleDefinition<E> {
  const wrap = (handlers: ModuleHandlers<E>): ModuleHandlers<E> => ({
    handle(event, ctx) {
      const fault = controller.decide(event, ctx);
      if (fault === undefined) return handlers.handle(event, ctx);
      switch (fault.kind) {
        case 'crash':
          throw new InjectedFault(fault.message);
        case 'hang':
          return (fault.forMs === null ? never : ctx.delay(fault.forMs)).then(() => handlers.handle(event, ctx));
        case 'slow':
          return ctx.delay(fault.delayMs).then(() => handlers.handle(event, ctx));
        case 'hold':
          return Promise.resolve(fault.until).then(() => handlers.handle(event, ctx));
      }
    },
    ...(handlers.stop === undefined ? {} : { stop: handlers.stop }),
  });
  // Whatever the definition's kind (handler, factory, machine), its handlers per incarnation come
  // from the node's own resolution, so the wrapped module starts exactly as the original would.
  const spec = withoutBehaviour(definition);
  return defineModule<E>({ ...spec, create: async (ctx) => wrap(await handlersOf(definition, ctx)) });
}

/** The keys that say how a module behaves (one variant each); the rest is its description. */
const BEHAVIOUR_KEYS = ['kind', 'handle', 'setup', 'stop', 'create', 'machine', 'input', 'onSnapshot'];

function withoutBehaviour<E extends EventMap>(definition: ModuleDefinition<E>): Omit<ModuleDefinition<E>, 'kind'> {
  return Object.fromEntries(Object.entries(definition).filter(([key]) => !BEHAVIOUR_KEYS.includes(key))) as Omit<ModuleDefinition<E>, 'kind'>;
}
