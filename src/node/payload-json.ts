import { quoteString, timeJson, type PayloadJson } from '../kernel/json-writer.js';
import { ownPayloadWriter, type Catalogue, type EventMap } from '../events/catalogue.js';
import { isReservedEventType } from '../events/reserved-event-types.js';

/**
 * The check's own payload writer for each event type a node accepted, looked up once per type:
 * every event of a non-reserved type was validated on its way in, so its payload is what the
 * catalogue's check returned and that check's writer applies. Null for reserved types (built by
 * node code, never validated) and for checks without a writer.
 */
function writersOf<E extends EventMap>(catalogue: Catalogue<E>): (type: string) => ((payload: unknown) => string) | null {
  const byType = new Map<string, ((payload: unknown) => string) | null>();
  return (type) => {
    let write = byType.get(type);
    if (write === undefined) {
      write = isReservedEventType(type) ? null : ownPayloadWriter(catalogue, type);
      byType.set(type, write);
    }
    return write;
  };
}

/**
 * The payload writer for the events a node accepted (its store, its bus): the catalogue check's
 * own writer where it has one, `JSON.stringify` otherwise (reserved types included). @internal
 */
export function acceptedPayloadJson<E extends EventMap>(catalogue: Catalogue<E>): PayloadJson {
  const writerFor = writersOf(catalogue);
  return (type, payload) => {
    const write = writerFor(type);
    return write === null ? JSON.stringify(payload) : write(payload);
  };
}

/** Events a node accepted, written whole where the catalogue's checks can: see {@link acceptedEvents}. @internal */
export interface AcceptedEvents {
  /** True when events of `type` are written here: their payloads are JSON data (so is the node's stamp). */
  writes(type: string): boolean;
  /**
   * `{"type":…,"payload":…,"meta":{"source":…,"seq":…,"time":…}}` for an event of a type it
   * {@link AcceptedEvents.writes}, as the router stamped it; null for any other (write it with
   * `JSON.stringify`).
   */
  json(event: { readonly type: string; readonly payload: unknown; readonly meta?: unknown }): string | null;
}

/**
 * The JSON of whole events a node accepted (for a process module's child), through the catalogue
 * checks' writers: not a byte-for-byte `JSON.stringify` of the envelope (its keys may come in
 * another order), the same value once parsed. @internal
 */
export function acceptedEvents<E extends EventMap>(catalogue: Catalogue<E>): AcceptedEvents {
  const writerFor = writersOf(catalogue);
  return {
    writes: (type) => writerFor(type) !== null,
    json(event) {
      const write = writerFor(event.type);
      const meta = event.meta as { readonly source?: unknown; readonly seq?: unknown; readonly time?: unknown } | undefined;
      if (write === null || meta === undefined) return null;
      const { source, seq, time } = meta;
      if (typeof source !== 'string' || !Number.isSafeInteger(seq) || !Number.isFinite(time)) return null;
      return `{"type":${quoteString(event.type)},"payload":${write(event.payload)},"meta":{"source":${quoteString(source)},"seq":${seq as number},"time":${timeJson(time as number)}}}`;
    },
  };
}
