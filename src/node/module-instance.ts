import type { ActorContext, BehaviorFactory } from '../kernel/behavior.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { isThenable } from '../kernel/is-thenable.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { PublishReceipt } from './delivery-stats.js';
import { createIncarnation, type EventRouter, type ModuleIncarnation } from './event-router.js';
import { handlersOf, type ModuleContext, type ModuleDefinition, type ModuleHandlers } from './module.js';

/** What a module incarnation tells its supervisor. @internal */
export type InstanceReport<E extends EventMap> =
  | { readonly kind: 'instance-started'; readonly incarnation: ModuleIncarnation<E> }
  | { readonly kind: 'handshake'; readonly incarnation: ModuleIncarnation<E>; readonly types: readonly string[] }
  | { readonly kind: 'subscribe'; readonly incarnation: ModuleIncarnation<E>; readonly types: readonly string[] }
  | { readonly kind: 'unsubscribe'; readonly incarnation: ModuleIncarnation<E>; readonly types: readonly string[] }
  | { readonly kind: 'health'; readonly incarnation: ModuleIncarnation<E>; readonly health: ModuleHealth };

/**
 * A marker sent through a module's priority lane behind a critical event: when the module takes
 * it, everything sent before it in that lane has been handled. @internal
 */
export class Barrier {
  constructor(readonly reached: () => void) {}
}

/** What module incarnations need from their node. @internal */
export interface ModuleServices<E extends EventMap> {
  readonly router: EventRouter<E>;
  readonly report: (message: InstanceReport<E>) => void;
  /** Validates and publishes on behalf of module `source`, enforcing its permitted types. */
  readonly publishFrom: (source: string, permitted: ReadonlySet<string> | null, event: unknown) => PublishReceipt;
}

const HEALTH: ReadonlySet<unknown> = new Set(['healthy', 'degraded', 'unhealthy']);

/**
 * Reads a list of event types a module hands over (to subscribe or unsubscribe) once, in the
 * module's own turn: what reaches the node's actors is a fresh array of strings, or the module
 * gets a typed error. @internal
 */
export function typeList(value: unknown, what: string): readonly string[] {
  if (!Array.isArray(value)) {
    throw new ModactorError('invalid-argument', `Expected ${what} to be an array of event types, got ${describeValue(value)}`);
  }
  const types: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const type: unknown = value[i];
    if (typeof type !== 'string') {
      throw new ModactorError('invalid-argument', `Expected ${what}[${i}] to be an event type, got ${describeValue(type)}`);
    }
    types.push(type);
  }
  return types;
}

/** Checks a health value a module reports, in the module's own turn. @internal */
export function healthOf(value: unknown): ModuleHealth {
  if (!HEALTH.has(value)) {
    throw new ModactorError('invalid-argument', `Expected health to be healthy, degraded or unhealthy, got ${describeValue(value)}`);
  }
  return value as ModuleHealth;
}

/**
 * The actor behaviour of an in-process module: every (re)start makes a new incarnation that
 * reports to the supervisor, runs the module's setup, then handshakes; each event is counted as
 * handled or failed-on, so the accounting law holds. Module code runs only here, in this actor's
 * turns, where whatever it throws is this module's crash. @internal
 */
export function moduleInstanceBehavior<E extends EventMap>(
  definition: ModuleDefinition<E>,
  services: ModuleServices<E>,
): BehaviorFactory<unknown> {
  const permitted = definition.publishes === undefined ? null : new Set<string>(definition.publishes);
  return {
    create(actx: ActorContext<unknown>) {
      const stats = services.router.statsFor(definition.name);
      stats.incarnations++;
      const incarnation: ModuleIncarnation<E> = createIncarnation<E>({
        name: definition.name,
        version: definition.version,
        ref: actx.self,
        stats,
        capacity: actx.mailboxCapacity,
        reserveCapacity: definition.membershipCapacity,
        filter: definition.filter,
        crash: (error) => actx.crash(error),
      });
      const ctx: ModuleContext<E> = {
        name: definition.name,
        version: definition.version,
        instanceId: actx.incarnation,
        get log() {
          return actx.log;
        },
        publish: (event) => services.publishFrom(definition.name, permitted, event),
        subscribe: (types: readonly EventTypeOf<E>[]) =>
          services.report({ kind: 'subscribe', incarnation, types: typeList(types, 'subscribe types') }),
        unsubscribe: (types: readonly EventTypeOf<E>[]) =>
          services.report({ kind: 'unsubscribe', incarnation, types: typeList(types, 'unsubscribe types') }),
        reportHealth: (health) => services.report({ kind: 'health', incarnation, health: healthOf(health) }),
        now: () => actx.now(),
        delay: (ms) => actx.delay(ms),
      };
      let handlers: ModuleHandlers<E> | null = null;
      // A handler abandoned by a kill may still finish later: its event was already counted lost.
      const handled = (): void => {
        if (incarnation.retired) return;
        incarnation.settled++;
        stats.handled++;
      };
      const failedOn = (error: unknown): never => {
        if (!incarnation.retired) {
          incarnation.settled++;
          stats.handlerFailed++;
        }
        throw error;
      };
      return {
        async onStart() {
          services.report({ kind: 'instance-started', incarnation });
          handlers = await handlersOf(definition, ctx);
          services.report({ kind: 'handshake', incarnation, types: definition.subscribe });
        },
        receive(message) {
          if (message instanceof Barrier) {
            message.reached();
            return undefined;
          }
          // One taken: room for the next event of a paced replay, if one is pending.
          if (incarnation.backlog !== null) services.router.pull(incarnation);
          let result: void | Promise<void>;
          try {
            result = (handlers as ModuleHandlers<E>).handle(message as EventOf<E>, ctx);
          } catch (error) {
            return failedOn(error);
          }
          if (isThenable(result)) return Promise.resolve(result).then(handled, failedOn);
          handled();
          return undefined;
        },
        async onStop() {
          await handlers?.stop?.(ctx);
        },
      };
    },
  };
}
