import { ModactorError, type ValidationIssue } from '../kernel/errors.js';
import { writerOf } from '../kernel/json-writer.js';
import {
  describeReceived,
  fieldPath,
  finiteNumber,
  isPlainObject,
  issue,
  nonNegativeInteger,
  object,
  optional,
  runCheck,
  string,
  summarizeIssues,
  type Check,
} from '../kernel/checks.js';

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
export type EventOf<E extends EventMap, K extends keyof E & string = keyof E & string> = {
  readonly [T in K]: { readonly type: T; readonly payload: E[T]; readonly meta?: EventMeta };
}[K];

/** The event types of a catalogue. */
export type EventTypeOf<E extends EventMap> = keyof E & string;

/** The schema of a catalogue: one payload check per event type, admitting that type's payload. */
export type CatalogueSchema<E extends EventMap> = { readonly [K in keyof E & string]: Check<E[K]> };

/** A catalogue: its types, and the parsing of events against it. */
export interface Catalogue<E extends EventMap> {
  /** Every event type, in declaration order. */
  readonly types: readonly EventTypeOf<E>[];
  /** True when `type` is one of this catalogue's. */
  has(type: string): type is EventTypeOf<E>;
  /**
   * Parses an untrusted value as an event of this catalogue. Returns a fresh deep-frozen
   * `{ type, payload, meta? }` holding what was read, each field read once (so a getter or a proxy
   * cannot show validation one thing and deliver another), sharing no object with the input; or
   * throws a {@link ModactorError}: `invalid-event` (not a plain object `{ type, payload, meta? }`
   * with a string type, no other field and a valid {@link EventMeta}), `unknown-event-type`, or
   * `invalid-payload` with one issue per bad field.
   *
   * With `meta` (what the EventManager stamps), the result carries exactly that meta (frozen; a
   * frozen one is used as it is) and the value's own `meta` is ignored, never read. Without it, the
   * value's `meta`, if any, is checked and copied.
   */
  validate(value: unknown, meta?: EventMeta): EventOf<E>;
  /** Like {@link Catalogue.validate} but returns the error instead of throwing. Never throws. */
  check(value: unknown, meta?: EventMeta): EventOf<E> | ModactorError;
}

/**
 * Defines a catalogue from one payload check per event type; the `E` type parameter ties each
 * type to its payload at compile time.
 *
 * @example
 * ```ts
 * type MyEvents = { Ping: { readonly n: number } };
 * const catalogue = defineCatalogue<MyEvents>({ Ping: object({ n: nonNegativeInteger }) });
 * catalogue.validate({ type: 'Ping', payload: { n: 1 } }); // a frozen copy: { type: 'Ping', payload: { n: 1 } }
 * catalogue.validate({ type: 'Ping', payload: { n: -1 } });
 * // throws ModactorError 'invalid-payload':
 * //   Invalid Ping payload: payload.n: expected a non-negative safe integer, got number -1
 * ```
 */
export function defineCatalogue<E extends EventMap>(schema: CatalogueSchema<E>): Catalogue<E> {
  const checks = new Map<string, Check>(Object.entries(schema));
  const types = [...checks.keys()] as EventTypeOf<E>[];
  const has = (type: string): type is EventTypeOf<E> => checks.has(type);

  const parseEvent = (value: unknown, stamp: EventMeta | undefined): EventOf<E> | ModactorError => {
    if (!isPlainObject(value)) return invalidEvent(issue('', EVENT_EXPECTED, describeReceived(value)));
    const event = value as { readonly type?: unknown; readonly payload?: unknown; readonly meta?: unknown };
    const type = Object.hasOwn(event, 'type') ? event.type : undefined;
    if (typeof type !== 'string') return invalidEvent(issue('type', 'an event type (a string)', describeReceived(type)));
    const hasPayload = Object.hasOwn(event, 'payload');
    const hasMeta = Object.hasOwn(event, 'meta');
    let own = 0;
    for (const key in event) if (Object.hasOwn(event, key)) own++;
    if (own !== 1 + (hasPayload ? 1 : 0) + (hasMeta ? 1 : 0)) return invalidEvent(unknownEventField(event));
    let meta: EventMeta | undefined;
    if (stamp !== undefined) {
      meta = Object.isFrozen(stamp) ? stamp : Object.freeze({ ...stamp });
    } else if (hasMeta) {
      const metaIssues: ValidationIssue[] = [];
      meta = runCheck(checkMeta, event.meta, 'meta', metaIssues);
      if (metaIssues.length > 0) return new ModactorError('invalid-event', `Invalid event: ${summarizeIssues(metaIssues)}`, { issues: metaIssues });
    }
    const payloadCheck = checks.get(type);
    if (payloadCheck === undefined) {
      const unknown = issue('type', 'a known event type', describeReceived(type));
      return new ModactorError('unknown-event-type', `Invalid event: ${summarizeIssues([unknown])}`, { issues: [unknown] });
    }
    const payloadValue = hasPayload ? event.payload : undefined;
    // A valid event allocates nothing here but its copy: the issue list is a reused scratch array,
    // copied out only on failure (a fresh one if a check re-enters validation).
    const issues = scratchInUse ? [] : scratch;
    scratchInUse = true;
    try {
      const payload = runCheck(payloadCheck, payloadValue, 'payload', issues);
      if (issues.length > 0) {
        const found = issues.slice();
        return new ModactorError('invalid-payload', `Invalid ${type} payload: ${summarizeIssues(found)}`, { issues: found });
      }
      return Object.freeze(meta === undefined ? { type, payload } : { type, payload, meta }) as EventOf<E>;
    } finally {
      if (issues === scratch) {
        if (scratch.length > 0) scratch.length = 0;
        scratchInUse = false;
      }
    }
  };

  const check = (value: unknown, meta?: EventMeta): EventOf<E> | ModactorError => {
    try {
      return parseEvent(value, meta);
    } catch {
      // Only the envelope's own reads can get here (a proxy or getter on the event object itself).
      return invalidEvent(issue('', EVENT_EXPECTED, 'a value that threw when read'));
    }
  };
  const catalogue: Catalogue<E> = {
    types,
    has,
    check,
    validate(value, meta) {
      const result = check(value, meta);
      if (result instanceof ModactorError) throw result;
      return result;
    },
  };
  writersByCatalogue.set(
    catalogue,
    new Map([...checks].map(([type, payloadCheck]) => [type, writerOf(payloadCheck) as ((payload: unknown) => string) | null])),
  );
  return catalogue;
}

const writersByCatalogue = new WeakMap<object, ReadonlyMap<string, ((payload: unknown) => string) | null>>();

/**
 * The writer of the payloads `catalogue`'s check for `type` returns, when the check has one (see
 * `json-writer.ts`): exactly `JSON.stringify`'s text, and a sign that such payloads are JSON data
 * (strings, finite numbers, booleans, arrays and plain objects of those). Null when the check has
 * none, or for a catalogue not made by {@link defineCatalogue} or a type it does not know. Only for
 * payloads the check made: a payload node code built is written with `JSON.stringify`. @internal
 */
export function ownPayloadWriter(catalogue: object, type: string): ((payload: unknown) => string) | null {
  return writersByCatalogue.get(catalogue)?.get(type) ?? null;
}

const EVENT_EXPECTED = 'an event object { type, payload, meta? }';

const scratch: ValidationIssue[] = [];
let scratchInUse = false;

function invalidEvent(found: ValidationIssue): ModactorError {
  return new ModactorError('invalid-event', `Invalid event: ${summarizeIssues([found])}`, { issues: [found] });
}

/** The issue for the first own key of an event that is not `type`, `payload` or `meta`. */
function unknownEventField(event: object): ValidationIssue {
  for (const key in event) {
    if (key !== 'type' && key !== 'payload' && key !== 'meta' && Object.hasOwn(event, key)) {
      return issue(fieldPath('', key), 'only the fields type, payload, meta', 'an unknown field');
    }
  }
  return issue('', EVENT_EXPECTED, 'an object whose keys changed while it was read');
}

/** {@link EventMeta}: a plain object with only `source`, `seq` and `time`, each optional. */
const checkMeta = object({ source: optional(string), seq: optional(nonNegativeInteger), time: optional(finiteNumber) });
