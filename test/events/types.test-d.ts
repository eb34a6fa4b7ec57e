/**
 * Compile-time tests, proved by `tsc --noEmit -p .` (this file is type-checked, never run):
 * every `@ts-expect-error` line must fail to compile, every assertion must hold.
 */
import { expectTypeOf } from 'vitest';
import type { EventOf } from '../../src/events/catalogue.js';
import { defineCatalogue } from '../../src/events/catalogue.js';
import type { recordOf } from '../../src/kernel/checks.js';
import {
  arrayOf,
  hex64,
  nonNegativeInteger,
  object,
  oneOf,
  optional,
  string,
  type Check,
  type Infer,
} from '../../src/kernel/checks.js';
import type { eventFamilies, nodePayloadChecks } from '../../src/events/node-catalogue.js';
import { EventType, type NodeEvent, type NodeEventMap, type NodeEventType } from '../../src/events/node-catalogue.js';
import { createEventPublisher, type EventPublisher } from '../../src/node/event-publisher.js';

/** Exact type equality, telling `readonly`, optional and `| undefined` apart. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// ---- the node catalogue's checks admit exactly its payload types ----------------------------

type CheckedPayloads = { [K in NodeEventType]: Infer<(typeof nodePayloadChecks)[K]> };
type Mismatches = { [K in NodeEventType]: Equal<CheckedPayloads[K], NodeEventMap[K]> extends true ? never : K }[NodeEventType];
expectTypeOf<Mismatches>().toEqualTypeOf<never>();
expectTypeOf<keyof typeof nodePayloadChecks>().toEqualTypeOf<NodeEventType>();

// ---- NodeEvent is a discriminated union checked at compile time ------------------------------

const hash = 'ab'.repeat(32);
export const goodBlock: NodeEvent = { type: 'NewBlock', payload: { blockHash: hash, height: 1 } };
// @ts-expect-error -- height must be a number
export const badHeight: NodeEvent = { type: 'NewBlock', payload: { blockHash: 'ab', height: 'x' } };
// @ts-expect-error -- a NewBlock payload has no txHash
export const wrongShape: NodeEvent = { type: 'NewBlock', payload: { txHash: hash } };
// @ts-expect-error -- unknown event type
export const unknownType: NodeEvent = { type: 'NewBlok', payload: { blockHash: hash, height: 1 } };
// @ts-expect-error -- urgency is a closed set
export const badUrgency: NodeEvent = { type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'urgent', reason: 'manual' } };
export const noOptional: NodeEvent = { type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'high', reason: 'manual' } };
// @ts-expect-error -- under exactOptionalPropertyTypes an optional field is absent, never undefined
export const undefinedOptional: NodeEvent = { type: 'PeerConnected', payload: { peerAddr: 'a', transportType: 'tcp', services: 1, version: 70016, peerNodeId: undefined } };
// @ts-expect-error -- health is healthy/degraded/unhealthy
export const badHealth: NodeEvent = { type: 'ModuleHealthChanged', payload: { moduleName: 'm', oldHealth: 'ok', newHealth: 'healthy' } };

declare const someEvent: NodeEvent;
if (someEvent.type === 'PeerConnected') {
  expectTypeOf(someEvent.payload.peerNodeId).toEqualTypeOf<string | undefined>();
  expectTypeOf(someEvent.payload.services).toEqualTypeOf<number>();
}
expectTypeOf<NodeEvent<'NewBlock'>['payload']>().toEqualTypeOf<NodeEventMap['NewBlock']>();

// ---- EventType and families -----------------------------------------------------------------

expectTypeOf(EventType.NewBlock).toEqualTypeOf<'NewBlock'>();
expectTypeOf<(typeof EventType)[keyof typeof EventType]>().toEqualTypeOf<NodeEventType>();
expectTypeOf<(typeof eventFamilies)[keyof typeof eventFamilies][number]>().toEqualTypeOf<NodeEventType>();

// ---- combinators infer their types ----------------------------------------------------------

const _ping = object({ id: hex64, n: nonNegativeInteger, tags: arrayOf(string), note: optional(string), level: oneOf('a', 'b') });
expectTypeOf<Infer<typeof _ping>>().toEqualTypeOf<{
  readonly id: string;
  readonly n: number;
  readonly tags: readonly string[];
  readonly level: 'a' | 'b';
  readonly note?: string;
}>();
const _maybeString = optional(string);
expectTypeOf<Infer<typeof _maybeString>>().toEqualTypeOf<string | undefined>();
expectTypeOf<Infer<ReturnType<typeof recordOf<number>>>>().toEqualTypeOf<Readonly<Record<string, number>>>();

// ---- defineCatalogue rejects a schema that does not match its map ----------------------------

type Mine = { Ping: { readonly n: number }; Named: { readonly name: string } };
const mine = defineCatalogue<Mine>({ Ping: object({ n: nonNegativeInteger }), Named: object({ name: string }) });
expectTypeOf(mine.validate(null)).toEqualTypeOf<EventOf<Mine>>();
// @ts-expect-error -- Ping's check admits a string, not a number
defineCatalogue<Mine>({ Ping: object({ n: string }), Named: object({ name: string }) });
// @ts-expect-error -- Named's check misses the required field
defineCatalogue<Mine>({ Ping: object({ n: nonNegativeInteger }), Named: object({}) });
// @ts-expect-error -- a schema must cover every type
defineCatalogue<Mine>({ Ping: object({ n: nonNegativeInteger }) });
// A hand-written check says what it admits by what it returns.
const checkPing: Check<{ readonly n: number }> = () => ({ n: 1 });
defineCatalogue<Mine>({ Ping: checkPing, Named: () => ({ name: 'x' }) });
const untyped: Check = (value) => value;
// @ts-expect-error -- a Check<unknown> does not prove it admits only Named payloads
defineCatalogue<Mine>({ Ping: checkPing, Named: untyped });
// @ts-expect-error -- a check returning nothing (a validator, not a parser) is no payload check
defineCatalogue<Mine>({ Ping: checkPing, Named: () => undefined });

// ---- parsed values are readonly -------------------------------------------------------------

const parsed = mine.validate(null);
if (parsed.type === 'Ping') {
  // @ts-expect-error -- a delivered payload is frozen, and typed readonly
  parsed.payload.n = 2;
}

// ---- the publisher has exactly one helper per type, generic in its result --------------------

expectTypeOf<keyof EventPublisher<unknown>>().toEqualTypeOf<Uncapitalize<NodeEventType>>();
const publisher = createEventPublisher((event) => event.type.length);
expectTypeOf(publisher).toEqualTypeOf<EventPublisher<number>>();
expectTypeOf(publisher.newBlock(hash, 1)).toEqualTypeOf<number>();
publisher.peerConnected('a', 'tcp', 1, 70016);
publisher.peerConnected('a', 'tcp', 1, 70016, 'node-1');
publisher.dataMaintenance('cleanup', 'low', 'periodic', undefined, 30);
// @ts-expect-error -- height is a number
publisher.newBlock(hash, '1');
// @ts-expect-error -- reason is a closed set
publisher.dataMaintenance('cleanup', 'low', 'because');
// @ts-expect-error -- timeoutSeconds is required for NodeShutdown
publisher.nodeShutdown('signal');
