import { ModactorError, type ValidationIssue } from '../kernel/errors.js';

/** Metadata an event may carry besides its type and payload. */
export interface EventMeta {
  /** Who published it (a module name, or `node`). Set by the EventManager when absent. */
  readonly source?: string;
  /** A sequence number assigned by the EventManager at publish time. */
  readonly seq?: number;
  /** Publish time on the scheduler's clock. */
  readonly time?: number;
}

/** A catalogue as a type: each event type maps to exactly one payload shape. */
export type EventMap = { readonly [type: string]: object };

/** The event union of a catalogue: `{ type, payload }` with the payload of that type. */
export type EventOf<Map extends EventMap, K extends keyof Map & string = keyof Map & string> = {
  readonly [T in K]: { readonly type: T; readonly payload: Map[T]; readonly meta?: EventMeta };
}[K];

/** The event types of a catalogue. */
export type EventTypeOf<Map extends EventMap> = keyof Map & string;

/**
 * A run-time check of one value. Returns nothing when valid; otherwise pushes one issue per bad
 * field (with its path) into `issues`.
 */
export type Check = (value: unknown, path: string, issues: ValidationIssue[]) => void;

/** The schema of a catalogue: one payload check per event type. */
export type CatalogueSchema<Map extends EventMap> = { readonly [K in keyof Map & string]: Check };

/** A catalogue: its types, and the validation of events against it. */
export interface Catalogue<Map extends EventMap> {
  /** Every event type, in declaration order. */
  readonly types: readonly EventTypeOf<Map>[];
  /** True when `type` is one of this catalogue's. */
  has(type: string): type is EventTypeOf<Map>;
  /**
   * Validates an untrusted value as an event of this catalogue. Returns the event (the same object)
   * or throws a {@link ModactorError}: `invalid-event` (not `{ type, payload }`),
   * `unknown-event-type`, or `invalid-payload` with one issue per bad field.
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
 * interface MyEvents { Ping: { n: number } }
 * const catalogue = defineCatalogue<MyEvents>({ Ping: object({ n: nonNegativeInteger }) });
 * ```
 */
export function defineCatalogue<Map extends EventMap>(schema: CatalogueSchema<Map>): Catalogue<Map> {
  const checks = new Map<string, Check>(Object.entries(schema));
  const types = [...checks.keys()] as EventTypeOf<Map>[];
  const has = (type: string): type is EventTypeOf<Map> => checks.has(type);
  const check = (value: unknown): EventOf<Map> | ModactorError => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return new ModactorError('invalid-event', `Expected an event object { type, payload }, got ${describe(value)}`);
    }
    const { type, payload } = value as { type?: unknown; payload?: unknown };
    if (typeof type !== 'string') {
      return new ModactorError('invalid-event', `Expected event.type to be a string, got ${describe(type)}`);
    }
    const payloadCheck = checks.get(type);
    if (payloadCheck === undefined) {
      return new ModactorError('unknown-event-type', `Expected a known event type, got "${type.slice(0, 80)}"`);
    }
    const issues: ValidationIssue[] = [];
    payloadCheck(payload, 'payload', issues);
    if (issues.length > 0) {
      const first = issues[0] as ValidationIssue;
      return new ModactorError('invalid-payload', `Invalid ${type} payload: ${first.path}: ${first.message}`, { issues });
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `a string` : typeof value;
}
