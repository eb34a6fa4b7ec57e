import { ModactorError, type ValidationIssue } from '../kernel/errors.js';
import {
  describeReceived,
  finiteNumber,
  isPlainObject,
  nonNegativeInteger,
  object,
  optional,
  string,
} from './checks.js';

/** Metadata an event may carry besides its type and payload. */
export interface EventMeta {
  /** Who published it (a module name, or `node`). Set by the EventManager when absent. */
  readonly source?: string;
  /** A sequence number assigned by the EventManager at publish time. */
  readonly seq?: number;
  /** Publish time on the scheduler's clock. */
  readonly time?: number;
}

/**
 * A catalogue as a type: each event type maps to exactly one payload shape.
 *
 * Declare a catalogue with `type`, not `interface`: an interface has no implicit index signature,
 * so it does not satisfy this constraint (the payloads themselves may be interfaces).
 *
 * @example
 * ```ts
 * type MyEvents = { Ping: { readonly n: number }; Pong: PongPayload };
 * ```
 */
export type EventMap = { readonly [type: string]: object };

/** The event union of a catalogue: `{ type, payload }` with the payload of that type. */
export type EventOf<Map extends EventMap, K extends keyof Map & string = keyof Map & string> = {
  readonly [T in K]: { readonly type: T; readonly payload: Map[T]; readonly meta?: EventMeta };
}[K];

/** The event types of a catalogue. */
export type EventTypeOf<Map extends EventMap> = keyof Map & string;

/**
 * A run-time check of one value. Returns nothing when valid; otherwise pushes one issue per bad
 * field into `issues`, each with a path that starts with `path` (`payload`, `payload.height`, ...).
 *
 * `T` is the type the check admits. It exists only at compile time (the `~type` property is never
 * set), so any plain function of this signature is a `Check<T>`; the combinators of `checks.ts`
 * infer it, which lets {@link defineCatalogue} reject a schema whose check does not match the
 * payload type of its event.
 */
export interface Check<T = unknown> {
  (value: unknown, path: string, issues: ValidationIssue[]): void;
  /** Phantom: the type this check admits. Never present at run time. */
  readonly '~type'?: T;
}

/** The schema of a catalogue: one payload check per event type, admitting that type's payload. */
export type CatalogueSchema<Map extends EventMap> = { readonly [K in keyof Map & string]: Check<Map[K]> };

/** A catalogue: its types, and the validation of events against it. */
export interface Catalogue<Map extends EventMap> {
  /** Every event type, in declaration order. */
  readonly types: readonly EventTypeOf<Map>[];
  /** True when `type` is one of this catalogue's. */
  has(type: string): type is EventTypeOf<Map>;
  /**
   * Validates an untrusted value as an event of this catalogue. Returns the event (the same object)
   * or throws a {@link ModactorError}: `invalid-event` (not a plain object `{ type, payload, meta? }`
   * with a string type, no other field and a valid {@link EventMeta}), `unknown-event-type`, or
   * `invalid-payload` with one issue per bad field.
   */
  validate(value: unknown): EventOf<Map>;
  /** Like {@link Catalogue.validate} but returns the error instead of throwing. */
  check(value: unknown): EventOf<Map> | ModactorError;
}

/**
 * Defines a catalogue from one payload check per event type; the `Map` type parameter ties each
 * type to its payload at compile time.
 *
 * @example
 * ```ts
 * type MyEvents = { Ping: { readonly n: number } };
 * const catalogue = defineCatalogue<MyEvents>({ Ping: object({ n: nonNegativeInteger }) });
 * catalogue.validate({ type: 'Ping', payload: { n: -1 } });
 * // throws ModactorError 'invalid-payload':
 * //   Invalid Ping payload: payload.n: expected a non-negative safe integer, got number -1
 * ```
 */
export function defineCatalogue<Map extends EventMap>(schema: CatalogueSchema<Map>): Catalogue<Map> {
  const checks = new Map<string, Check>(Object.entries(schema));
  const types = [...checks.keys()] as EventTypeOf<Map>[];
  const has = (type: string): type is EventTypeOf<Map> => checks.has(type);
  const check = (value: unknown): EventOf<Map> | ModactorError => {
    if (!isPlainObject(value)) {
      return new ModactorError('invalid-event', `Expected an event object { type, payload }, got ${describeReceived(value)}`);
    }
    const event = value as { type?: unknown; payload?: unknown; meta?: unknown };
    const { type, payload } = event;
    if (typeof type !== 'string') {
      return new ModactorError('invalid-event', `Expected event.type to be a string, got ${describeReceived(type)}`);
    }
    const extra = unknownEventKey(event);
    if (extra !== undefined) {
      return new ModactorError(
        'invalid-event',
        `Expected only type, payload and meta in an event, got an unknown field ${describeReceived(extra)}`,
      );
    }
    if (Object.hasOwn(event, 'meta')) {
      const metaIssues: ValidationIssue[] = [];
      checkMeta(event.meta, 'meta', metaIssues);
      if (metaIssues.length > 0) {
        return new ModactorError('invalid-event', `Invalid event metadata: ${summarize(metaIssues)}`, { issues: metaIssues });
      }
    }
    const payloadCheck = checks.get(type);
    if (payloadCheck === undefined) {
      return new ModactorError('unknown-event-type', `Expected a known event type, got ${describeReceived(type)}`);
    }
    // A valid event allocates nothing here: the issue list is a reused scratch array, copied out
    // only on failure (a fresh one if a check re-enters validation).
    const issues = scratchInUse ? [] : scratch;
    scratchInUse = true;
    try {
      payloadCheck(payload, 'payload', issues);
      if (issues.length > 0) {
        const found = issues.slice();
        return new ModactorError('invalid-payload', `Invalid ${type} payload: ${summarize(found)}`, { issues: found });
      }
    } finally {
      if (issues === scratch) {
        scratch.length = 0;
        scratchInUse = false;
      }
    }
    return value as EventOf<Map>;
  };
  return {
    types,
    has,
    check,
    validate(value) {
      const result = check(value);
      if (result instanceof ModactorError) throw result;
      return result;
    },
  };
}

const scratch: ValidationIssue[] = [];
let scratchInUse = false;

/** The first issue, and how many more there are. */
function summarize(issues: readonly ValidationIssue[]): string {
  const first = issues[0] as ValidationIssue;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${first.path}: ${first.message}${more}`;
}

/** The first own key of an event that is not `type`, `payload` or `meta`, if any. */
function unknownEventKey(event: object): string | undefined {
  for (const key in event) {
    if (key !== 'type' && key !== 'payload' && key !== 'meta' && Object.hasOwn(event, key)) return key;
  }
  return undefined;
}

/** {@link EventMeta}: a plain object with only `source`, `seq` and `time`, each optional. */
const checkMeta = object({ source: optional(string), seq: optional(nonNegativeInteger), time: optional(finiteNumber) });
