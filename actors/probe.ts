import {
  arrayOf,
  defineModule,
  jsonValue,
  nodeCatalogue,
  nonEmptyString,
  nonNegativeNumber,
  object,
  optional,
  positiveInteger,
  predicate,
  recordOf,
  type Check,
  type EventTypeOf,
  type ModuleDefinition,
  type ModuleRestartPolicy,
  type NodeEventMap,
} from 'modactor';

/** Options of the {@link probe} module. */
export interface ProbeOptions {
  /** Module name; default `probe` (scenarios name each probe they load). */
  readonly name?: string;
  readonly version?: string;
  /** Event types it receives. Default none (it is still announced). */
  readonly subscribe?: readonly string[];
  readonly mailboxCapacity?: number;
  /** Time each event takes, on the node's clock. Default 0. */
  readonly workMs?: number;
  readonly restart?: ModuleRestartPolicy;
}

/**
 * The options {@link probe} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  version: optional(nonEmptyString),
  subscribe: optional(arrayOf(predicate('an event type of the node catalogue', (v) => typeof v === 'string' && nodeCatalogue.has(v)))),
  mailboxCapacity: optional(positiveInteger),
  workMs: optional(nonNegativeNumber),
  // A restart policy: defineModule checks it whole (type, maxRestarts, withinMs, backoff).
  restart: optional(recordOf(jsonValue)),
} satisfies Record<Exclude<keyof ProbeOptions, 'name'>, Check<unknown>>);

/**
 * The probe: a module that does nothing but take its events (optionally spending `workMs` on
 * each), configured entirely by its options. It is what the model-based property test loads, so
 * a failing case written out as a scenario (`load` steps with `actor: "probe"`) replays as it ran.
 */
export default function probe(options: ProbeOptions = {}): ModuleDefinition {
  const subscribe = (options.subscribe ?? []).filter((t): t is EventTypeOf<NodeEventMap> => nodeCatalogue.has(t));
  if (subscribe.length !== (options.subscribe ?? []).length) {
    const unknown = (options.subscribe ?? []).filter((t) => !nodeCatalogue.has(t));
    throw new Error(`probe: unknown event types in subscribe: ${unknown.join(', ')}`);
  }
  const workMs = options.workMs ?? 0;
  return defineModule({
    name: options.name ?? 'probe',
    version: options.version ?? '1.0.0',
    subscribe,
    ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
    ...(options.restart === undefined ? {} : { restart: options.restart }),
    handle: workMs > 0 ? (_event, ctx) => ctx.delay(workMs) : () => undefined,
  });
}
