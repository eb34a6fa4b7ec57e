import type { PayloadJson } from '../kernel/json-writer.js';
import { payloadWriter, type Catalogue, type EventMap } from '../events/catalogue.js';
import { isReservedEventType } from '../events/reserved-event-types.js';

/**
 * The payload writer for the events a node accepted (its store, its process modules, its bus):
 * every event of a non-reserved type was validated on its way in, so its payload is what the
 * catalogue's check returned and the check's own writer applies; reserved types are built by node
 * code and go through `JSON.stringify`. @internal
 */
export function acceptedPayloadJson<E extends EventMap>(catalogue: Catalogue<E>): PayloadJson {
  return (type, payload) => (isReservedEventType(type) ? JSON.stringify(payload) : payloadWriter(catalogue, type)(payload));
}
