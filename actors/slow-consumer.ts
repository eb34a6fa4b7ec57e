import {
  EventType,
  arrayOf,
  defineModule,
  nodeCatalogue,
  nonNegativeNumber,
  object,
  optional,
  positiveInteger,
  predicate,
  type Check,
  type EventTypeOf,
  type ModuleDefinition,
  type NodeEventMap,
} from 'modactor';

/** Options of the {@link slowConsumer} module. */
export interface SlowConsumerOptions {
  readonly name?: string;
  /** Time each event takes, on the node's clock. Default 50 ms (at most 20 events a second). */
  readonly workMs?: number;
  /** Mailbox capacity. Default 20, so a steady stream soon overflows it. */
  readonly mailboxCapacity?: number;
  /** What it consumes. Default `NewTransaction`. */
  readonly subscribe?: readonly EventTypeOf<NodeEventMap>[];
}

/**
 * The options {@link slowConsumer} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  workMs: optional(nonNegativeNumber),
  mailboxCapacity: optional(positiveInteger),
  subscribe: optional(arrayOf(predicate('an event type of the node catalogue', (v) => typeof v === 'string' && nodeCatalogue.has(v)))),
} satisfies Record<Exclude<keyof SlowConsumerOptions, 'name'>, Check<unknown>>);

/**
 * The slow consumer: spends `workMs` of the node's clock on every event, so a stream faster than
 * it fills its small mailbox and the EventManager drops the excess for it (counted as
 * `channelFull`) while the publisher never waits and the module stays subscribed: slow, not dead.
 */
export default function slowConsumer(options: SlowConsumerOptions = {}): ModuleDefinition {
  const workMs = options.workMs ?? 50;
  return defineModule({
    name: options.name ?? 'slow-consumer',
    version: '1.0.0',
    subscribe: options.subscribe ?? [EventType.NewTransaction],
    mailboxCapacity: options.mailboxCapacity ?? 20,
    async handle(_event, ctx) {
      await ctx.delay(workMs);
    },
  });
}
