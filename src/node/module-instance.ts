import type { ActorContext, BehaviorObject } from '../kernel/behavior.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { isThenable } from '../kernel/is-thenable.js';
import type { EventMap, EventOf, EventTypeOf } from '../events/catalogue.js';
import type { ModuleHealth } from '../events/node-catalogue.js';
import type { PublishReceipt } from './delivery-stats.js';
import { Incarnation, type EventRouter, type ModuleIncarnation, type ReplaySpec } from './event-router.js';
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

/** The seq the router stamped on an event a module took. */
function seqOf(event: unknown): number {
  return (event as { readonly meta: { readonly seq: number } }).meta.seq;
}

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
 * One incarnation of an in-process module (its actor's behaviour), its record on the bus, and what
 * its code sees (its context): a class, not closures, so an idle module is a handful of objects.
 * Module code runs only here, in this actor's turns, where whatever it throws is this module's
 * crash; each event is counted as handled or failed-on, so the accounting law holds. @internal
 */
export class ModuleInstance<E extends EventMap> extends Incarnation<E> implements BehaviorObject<unknown> {
  /** What its code sees: made when first needed (an idle handler module never needs one). */
  private context_: InstanceContext<E> | null = null;
  private handlers: ModuleHandlers<E> | null = null;

  constructor(
    private readonly definition: ModuleDefinition<E>,
    readonly services: ModuleServices<E>,
    readonly permitted: ReadonlySet<string> | null,
    readonly actx: ActorContext<unknown>,
    replay?: ReplaySpec,
  ) {
    const stats = services.router.statsFor(definition.name);
    stats.incarnations++;
    super({
      name: definition.name,
      version: definition.version,
      ref: actx.self,
      stats,
      capacity: actx.mailboxCapacity,
      reserveCapacity: definition.membershipCapacity,
      filter: definition.filter,
      crash: actx,
      replay,
    });
  }

  get context(): InstanceContext<E> {
    return (this.context_ ??= new InstanceContext<E>(this));
  }

  /** This incarnation's record on the bus: the instance itself. */
  get incarnation(): ModuleIncarnation<E> {
    return this;
  }

  async onStart(): Promise<void> {
    const { services, incarnation } = this;
    services.report({ kind: 'instance-started', incarnation });
    const definition = this.definition;
    // A plain handler needs nothing run before it; the others (setup, create, a machine) get their context.
    this.handlers = 'handle' in definition && definition.setup === undefined ? definition : await handlersOf(definition, this.context);
    services.report({ kind: 'handshake', incarnation, types: this.definition.subscribe });
  }

  receive(message: unknown): void | Promise<void> {
    if (message instanceof Barrier) {
      message.reached();
      return undefined;
    }
    const incarnation = this.incarnation;
    let result: void | Promise<void>;
    try {
      result = (this.handlers as ModuleHandlers<E>).handle(message as EventOf<E>, this.context);
    } catch (error) {
      return this.failedOn(message, error);
    }
    // One taken: room for the next event of a paced backlog, if one is pending (after the handler
    // began, so that the next one is offered after this one was taken, as its mailbox saw it).
    if (incarnation.backlog !== null) this.services.router.pull(incarnation);
    if (isThenable(result)) return this.settleLater(message, result);
    this.handled(message);
    return undefined;
  }

  /**
   * Counts an async handler's event once it settles. On its own: closures over `message` in
   * `receive` would make V8 allocate a context for it on every call, the synchronous ones included.
   */
  private settleLater(message: unknown, result: PromiseLike<void>): Promise<void> {
    return Promise.resolve(result).then(
      () => this.handled(message),
      (error: unknown) => this.failedOn(message, error),
    );
  }

  async onStop(): Promise<void> {
    await this.handlers?.stop?.(this.context);
  }

  // A handler abandoned by a kill may still finish later: its event was already counted lost.
  private handled(event: unknown): void {
    const incarnation = this.incarnation;
    if (incarnation.retired) return;
    incarnation.settled++;
    incarnation.stats.handled++;
    incarnation.cursor?.settled(seqOf(event));
  }

  // An event the handler failed on is settled too: a module with replay is not given it again
  // (a poison event would crash every incarnation).
  private failedOn(event: unknown, error: unknown): never {
    const incarnation = this.incarnation;
    if (!incarnation.retired) {
      incarnation.settled++;
      incarnation.stats.handlerFailed++;
      incarnation.cursor?.settled(seqOf(event));
    }
    throw error;
  }
}

/** What the module's code sees: its node through one instance, nothing of the instance itself. */
class InstanceContext<E extends EventMap> implements ModuleContext<E> {
  readonly #instance: ModuleInstance<E>;

  constructor(instance: ModuleInstance<E>) {
    this.#instance = instance;
  }

  get name(): string {
    return this.#instance.incarnation.name;
  }

  get version(): string {
    return this.#instance.incarnation.version;
  }

  get instanceId(): string {
    return this.#instance.actx.incarnation;
  }

  get log(): ModuleContext<E>['log'] {
    return this.#instance.actx.log;
  }

  publish(event: EventOf<E>): PublishReceipt {
    const instance = this.#instance;
    return instance.services.publishFrom(instance.incarnation.name, instance.permitted, event);
  }

  subscribe(types: readonly EventTypeOf<E>[]): void {
    const { services, incarnation } = this.#instance;
    services.report({ kind: 'subscribe', incarnation, types: typeList(types, 'subscribe types') });
  }

  unsubscribe(types: readonly EventTypeOf<E>[]): void {
    const { services, incarnation } = this.#instance;
    services.report({ kind: 'unsubscribe', incarnation, types: typeList(types, 'unsubscribe types') });
  }

  reportHealth(health: ModuleHealth): void {
    const { services, incarnation } = this.#instance;
    services.report({ kind: 'health', incarnation, health: healthOf(health) });
  }

  now(): number {
    return this.#instance.actx.now();
  }

  delay(ms: number): Promise<void> {
    return this.#instance.actx.delay(ms);
  }
}
