/**
 * fast-check arbitraries for the node catalogue, exported for the team's property tests:
 *
 * - {@link payloadArbitraries}: a valid payload of each type (optional fields sometimes absent,
 *   never `undefined`);
 * - {@link eventArbitraryOf} / {@link nodeEventArbitrary}: valid events of one type / of any type;
 * - {@link invalidNodeEventArbitrary} / {@link invalidNodeEventArbitraryOf}: values that must fail
 *   validation, each with the error code and (for payload issues) the issue path it must produce.
 *
 * @example
 * ```ts
 * import { nodeEventArbitrary } from '../test/events/arbitraries.js';
 * fc.assert(fc.property(fc.array(nodeEventArbitrary), (events) => { ... }));
 * ```
 */
import fc from 'fast-check';
import {
  boolean,
  describeReceived,
  hex64,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativeNumber,
  percent,
  string,
  type Check,
  type OneOfCheck,
  type OptionalCheck,
} from '../../src/kernel/checks.js';
import type { ModactorErrorCode } from '../../src/kernel/errors.js';
import {
  nodeCatalogue,
  nodePayloadChecks,
  type MaintenanceResults,
  type ModuleHealth,
  type NodeEvent,
  type NodeEventMap,
  type NodeEventType,
} from '../../src/events/node-catalogue.js';

// ---- field arbitraries ---------------------------------------------------------------------

/** A 64-character lowercase hex hash. */
export const hashArb: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

/** A non-empty string (identifiers, names, addresses). */
export const nameArb: fc.Arbitrary<string> = fc.string({ minLength: 1, maxLength: 24 });

/** Any string, the empty one included (free text). */
export const textArb: fc.Arbitrary<string> = fc.string({ maxLength: 40 });

/** A non-negative safe integer, small ones and huge ones. */
export const countArb: fc.Arbitrary<number> = fc.oneof(fc.nat(1_000), fc.maxSafeNat());

/** A finite number >= 0, fractions included. */
export const amountArb: fc.Arbitrary<number> = fc.oneof(
  fc.nat(10_000),
  fc.double({ min: 0, max: 1e15, noNaN: true, noDefaultInfinity: true }),
);

/** A percentage, 0..100 inclusive. */
export const percentArb: fc.Arbitrary<number> = fc.double({ min: 0, max: 100, noNaN: true });

export const healthArb: fc.Arbitrary<ModuleHealth> = fc.constantFrom('healthy', 'degraded', 'unhealthy');

export const resultsArb: fc.Arbitrary<MaintenanceResults> = fc.dictionary(
  fc.string({ maxLength: 12 }),
  fc.oneof(textArb, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
  { maxKeys: 4, noNullPrototype: true },
);

const plain = { noNullPrototype: true } as const;

/** A valid payload of each node catalogue type. */
export const payloadArbitraries: { readonly [K in NodeEventType]: fc.Arbitrary<NodeEventMap[K]> } = {
  NewBlock: fc.record({ blockHash: hashArb, height: countArb }, plain),
  NewTransaction: fc.record({ txHash: hashArb }, plain),
  BlockDisconnected: fc.record({ hash: hashArb, height: countArb }, plain),
  ChainReorg: fc.record({ oldTip: hashArb, newTip: hashArb }, plain),
  GovernanceProposalCreated: fc.record(
    { proposalId: nameArb, repository: nameArb, prNumber: countArb, tier: countArb },
    plain,
  ),
  GovernanceProposalVoted: fc.record({ proposalId: nameArb, voter: nameArb, vote: nameArb }, plain),
  GovernanceProposalMerged: fc.record({ proposalId: nameArb, repository: nameArb, prNumber: countArb }, plain),
  WebhookSent: fc.record({ webhookUrl: nameArb, eventType: nameArb, success: fc.boolean() }, plain),
  WebhookFailed: fc.record({ webhookUrl: nameArb, eventType: nameArb, error: textArb }, plain),
  GovernanceForkDetected: fc.record({ forkId: nameArb, rulesetVersion: nameArb, adoptionCount: countArb }, plain),
  PeerConnected: fc.record(
    { peerAddr: nameArb, transportType: nameArb, services: countArb, version: countArb, peerNodeId: nameArb },
    { requiredKeys: ['peerAddr', 'transportType', 'services', 'version'], noNullPrototype: true },
  ),
  PeerDisconnected: fc.record({ peerAddr: nameArb, reason: nameArb }, plain),
  PeerBanned: fc.record({ peerAddr: nameArb, reason: nameArb, banDurationSeconds: countArb }, plain),
  PeerUnbanned: fc.record({ peerAddr: nameArb }, plain),
  MessageReceived: fc.record(
    { peerAddr: nameArb, messageType: nameArb, messageSize: countArb, protocolVersion: countArb },
    plain,
  ),
  MessageSent: fc.record({ peerAddr: nameArb, messageType: nameArb, messageSize: countArb }, plain),
  BroadcastStarted: fc.record({ messageType: nameArb, targetPeers: countArb }, plain),
  BroadcastCompleted: fc.record({ messageType: nameArb, successful: countArb, failed: countArb }, plain),
  ModuleLoaded: fc.record({ moduleName: nameArb, version: nameArb }, plain),
  ModuleUnloaded: fc.record({ moduleName: nameArb, version: nameArb }, plain),
  ModuleReloaded: fc.record({ moduleName: nameArb, oldVersion: nameArb, newVersion: nameArb }, plain),
  ModuleStarted: fc.record({ moduleName: nameArb }, plain),
  ModuleStopped: fc.record({ moduleName: nameArb }, plain),
  ModuleCrashed: fc.record({ moduleName: nameArb, error: textArb }, plain),
  ModuleHealthChanged: fc.record({ moduleName: nameArb, oldHealth: healthArb, newHealth: healthArb }, plain),
  ModuleStateChanged: fc.record({ moduleName: nameArb, oldState: nameArb, newState: nameArb }, plain),
  NodeStartupCompleted: fc.record({ durationMs: amountArb, components: fc.array(nameArb, { maxLength: 5 }) }, plain),
  NodeShutdown: fc.record({ reason: nameArb, timeoutSeconds: countArb }, plain),
  NodeShutdownCompleted: fc.record({ durationMs: amountArb }, plain),
  DataMaintenance: fc.record(
    {
      operation: fc.constantFrom('cleanup', 'flush', 'both'),
      urgency: fc.constantFrom('low', 'medium', 'high'),
      reason: fc.constantFrom('periodic', 'shutdown', 'low_disk', 'manual'),
      targetAgeDays: countArb,
      timeoutSeconds: countArb,
    },
    { requiredKeys: ['operation', 'urgency', 'reason'], noNullPrototype: true },
  ),
  MaintenanceStarted: fc.record(
    { maintenanceType: nameArb, estimatedDurationSeconds: countArb },
    { requiredKeys: ['maintenanceType'], noNullPrototype: true },
  ),
  MaintenanceCompleted: fc.record(
    { maintenanceType: nameArb, success: fc.boolean(), durationMs: amountArb, results: resultsArb },
    { requiredKeys: ['maintenanceType', 'success', 'durationMs'], noNullPrototype: true },
  ),
  HealthCheck: fc.record(
    { checkType: nameArb, nodeHealthy: fc.boolean(), healthReport: textArb },
    { requiredKeys: ['checkType', 'nodeHealthy'], noNullPrototype: true },
  ),
  DiskSpaceLow: fc.record(
    { availableBytes: countArb, totalBytes: countArb, percentFree: percentArb, diskPath: nameArb },
    plain,
  ),
  ResourceLimitWarning: fc.record(
    {
      resourceType: nameArb,
      usagePercent: amountArb,
      currentUsage: amountArb,
      limit: amountArb,
      thresholdPercent: percentArb,
    },
    plain,
  ),
};

/** Every node event type, in catalogue order. */
export const nodeEventTypes: readonly NodeEventType[] = nodeCatalogue.types;

/** A valid event of one type. */
export function eventArbitraryOf<K extends NodeEventType>(type: K): fc.Arbitrary<NodeEvent<K>> {
  return (payloadArbitraries[type] as fc.Arbitrary<NodeEventMap[K]>).map((payload) => ({ type, payload }));
}

/**
 * What the catalogue returns for a valid value: its JSON reading (numbers come back as JSON carries
 * them, `-0` as `0`; the arbitraries draw `-0` where a field admits it). Compare a checked copy with this.
 */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A valid event of any node catalogue type. */
export const nodeEventArbitrary: fc.Arbitrary<NodeEvent> = fc.oneof(
  ...nodeEventTypes.map((type) => eventArbitraryOf(type) as fc.Arbitrary<NodeEvent>),
);

// ---- invalid values ------------------------------------------------------------------------

/** Values no field of the node catalogue accepts (whatever its type). */
export const poisonValues: readonly unknown[] = [
  null,
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0.5,
  1n,
  [null],
  { nested: {} },
  new Date(0),
  Symbol('poison'),
];

/** Values close to valid that a field with this check must reject, plus the poison values. */
export function invalidValuesFor(check: Check<unknown>): readonly unknown[] {
  const near: unknown[] = (() => {
    if (check === hex64) return ['AB'.repeat(32), 'ab'.repeat(31) + 'a', 'ab'.repeat(32) + 'a', 'g'.repeat(64), ''];
    if (check === nonNegativeInteger) return [1.5, 2 ** 53, -1, '1', true];
    if (check === nonNegativeNumber) return [-0.001, '1', false];
    if (check === percent) return [100.0001, -0.1, '50'];
    if (check === nonEmptyString) return ['', 1, false];
    if (check === string) return [1, false, ['x']];
    if (check === boolean) return ['true', 0, 1];
    const values = (check as Partial<OneOfCheck<unknown>>).values;
    if (values !== undefined) return [`${String(values[0])}x`, '', String(values[0]).toUpperCase(), 0];
    return [];
  })();
  return [...near, ...poisonValues];
}

/** The fields of a type's payload, with their (unwrapped) checks and whether they are optional. */
export function fieldsOf(type: NodeEventType): readonly { readonly name: string; readonly check: Check<unknown>; readonly optional: boolean }[] {
  return Object.entries<Check<unknown>>(nodePayloadChecks[type].shape).map(([name, check]) => {
    const optionalOf = (check as Partial<OptionalCheck<unknown>>).optionalOf;
    return { name, check: optionalOf ?? check, optional: optionalOf !== undefined };
  });
}

/** A value that must fail validation, the error code it must produce and, if any, an issue path. */
export interface InvalidCase {
  readonly value: unknown;
  readonly code: Extract<ModactorErrorCode, 'invalid-event' | 'unknown-event-type' | 'invalid-payload'>;
  /** Some issue must be at this path or inside it (see {@link isAtOrInside}). */
  readonly path?: string;
  /** What was done to a valid event, for failure reports. */
  readonly mutation: string;
}

/** True when `issuePath` is `path` or a path inside it (`payload.a` contains `payload.a[0]`, `payload.a.b`). */
export function isAtOrInside(issuePath: string, path: string): boolean {
  return issuePath === path || issuePath.startsWith(`${path}.`) || issuePath.startsWith(`${path}[`);
}

/**
 * A value that must fail node catalogue validation: a valid event of one of `types` with one field
 * replaced by a wrong value, a required field removed, an unknown field added, or a non-object
 * payload (`invalid-payload` at `path`); an unknown type (`unknown-event-type`); or not an event
 * at all (`invalid-event`).
 */
export function invalidNodeEventArbitraryOf(types: readonly NodeEventType[] = nodeEventTypes): fc.Arbitrary<InvalidCase> {
  const events = fc.oneof(...types.map((type) => eventArbitraryOf(type) as fc.Arbitrary<NodeEvent>));

  const fieldMutation: fc.Arbitrary<InvalidCase> = events.chain((event) =>
    fc.constantFrom(...fieldsOf(event.type)).chain((field) =>
      fc.constantFrom(...invalidValuesFor(field.check)).map((bad) => ({
        value: { type: event.type, payload: { ...event.payload, [field.name]: bad } },
        code: 'invalid-payload' as const,
        path: `payload.${field.name}`,
        mutation: `set ${event.type}.${field.name} to ${describeReceived(bad)}`,
      })),
    ),
  );

  const missingField: fc.Arbitrary<InvalidCase> = events.chain((event) =>
    fc.constantFrom(...fieldsOf(event.type).filter((field) => !field.optional)).map((field) => {
      const payload: Record<string, unknown> = { ...event.payload };
      delete payload[field.name];
      return {
        value: { type: event.type, payload },
        code: 'invalid-payload' as const,
        path: `payload.${field.name}`,
        mutation: `removed ${event.type}.${field.name}`,
      };
    }),
  );

  const unknownField: fc.Arbitrary<InvalidCase> = fc
    .tuple(events, fc.stringMatching(/^[a-z][A-Za-z0-9]{0,11}$/), fc.anything())
    .filter(([event, key]) => !fieldsOf(event.type).some((field) => field.name === key))
    .map(([event, key, extra]) => ({
      value: { type: event.type, payload: { ...event.payload, [key]: extra } },
      code: 'invalid-payload' as const,
      path: `payload.${key}`,
      mutation: `added unknown field ${event.type}.${key}`,
    }));

  const notAnObjectPayload: fc.Arbitrary<InvalidCase> = fc
    .tuple(fc.constantFrom(...types), fc.constantFrom<unknown>(null, undefined, 'payload', 7, [], [{}], new Map()))
    .map(([type, payload]) => ({
      value: { type, payload },
      code: 'invalid-payload' as const,
      path: 'payload',
      mutation: `payload of ${type} replaced by ${describeReceived(payload)}`,
    }));

  const unknownType: fc.Arbitrary<InvalidCase> = fc
    .tuple(fc.string({ maxLength: 30 }), fc.anything())
    .filter(([type]) => !nodeCatalogue.has(type))
    .map(([type, payload]) => ({
      value: { type, payload },
      code: 'unknown-event-type' as const,
      mutation: `unknown type ${describeReceived(type)}`,
    }));

  const notAnEvent: fc.Arbitrary<InvalidCase> = fc
    .oneof(
      fc.constantFrom<unknown>(null, undefined, 'NewBlock', 42, [], new Date(0)),
      events.map((event) => ({ payload: event.payload })),
      events.map((event) => ({ type: 1, payload: event.payload })),
      events.map((event) => ({ ...event, extra: true })),
      events.map((event) => ({ ...event, meta: { seq: -1 } })),
    )
    .map((value) => ({ value, code: 'invalid-event' as const, mutation: `not an event: ${describeReceived(value)}` }));

  return fc.oneof(
    { arbitrary: fieldMutation, weight: 4 },
    { arbitrary: missingField, weight: 2 },
    { arbitrary: unknownField, weight: 1 },
    { arbitrary: notAnObjectPayload, weight: 1 },
    { arbitrary: unknownType, weight: 1 },
    { arbitrary: notAnEvent, weight: 1 },
  );
}

/** {@link invalidNodeEventArbitraryOf} over every node event type. */
export const invalidNodeEventArbitrary: fc.Arbitrary<InvalidCase> = invalidNodeEventArbitraryOf();

// ---- hostile values ------------------------------------------------------------------------

/**
 * The kinds of hostile value {@link hostileEventArbitrary} plants: what an attacker or a careless
 * module hands to `publish`. Each is built fresh per run (proxies and getters keep state).
 */
export const HOSTILE_KINDS = [
  'cyclic',
  'deep',
  'huge-string',
  'huge-array',
  'huge-record',
  'proto-key',
  'bigint',
  'symbol',
  'function',
  'date',
  'typed-array',
  'map',
  'class-instance',
  'negative-zero',
  'null-prototype',
  'getter',
  'flipping-getter',
  'throwing-getter',
  'proxy',
  'throwing-proxy',
  'revoked-proxy',
] as const;

export type HostileKind = (typeof HOSTILE_KINDS)[number];

class Opaque {
  readonly height = 1;
}

/** Wraps `inner` (or stands instead of it) as a hostile value of `kind`. */
export function hostileValue(kind: HostileKind, inner: unknown): unknown {
  switch (kind) {
    case 'cyclic': {
      const cycle: Record<string, unknown> = { inner };
      cycle['self'] = cycle;
      return cycle;
    }
    case 'deep': {
      let deep: unknown = inner;
      for (let i = 0; i < 2_000; i++) deep = { nested: deep };
      return deep;
    }
    case 'huge-string':
      return 'x'.repeat(1 << 20);
    case 'huge-array':
      return new Array<unknown>(200_000).fill(inner);
    case 'huge-record': {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < 20_000; i++) record[`k${i}`] = 1;
      return record;
    }
    case 'proto-key':
      return JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`) as unknown;
    case 'bigint':
      return 10n ** 30n;
    case 'symbol':
      return Symbol('hostile');
    case 'function':
      return () => inner;
    case 'date':
      return new Date(0);
    case 'typed-array':
      return new Uint8Array(8);
    case 'map':
      return new Map([['height', 1]]);
    case 'class-instance':
      return new Opaque();
    case 'negative-zero':
      return -0;
    case 'null-prototype':
      return typeof inner === 'object' && inner !== null ? Object.assign(Object.create(null) as object, inner) : inner;
    case 'getter':
      return withGetter(inner, () => inner);
    case 'flipping-getter': {
      let reads = 0;
      return withGetter(inner, () => (++reads === 1 ? inner : { flipped: 10n }));
    }
    case 'throwing-getter':
      return withGetter(inner, () => {
        throw Object.create(null);
      });
    case 'proxy':
      return typeof inner === 'object' && inner !== null ? new Proxy(inner, {}) : inner;
    case 'throwing-proxy':
      return new Proxy(typeof inner === 'object' && inner !== null ? inner : {}, {
        get: () => {
          throw new Error('get trap');
        },
        // Hostile code throws what it likes, not only Errors.
        ownKeys: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a hostile non-Error throw
          throw Symbol('ownKeys trap');
        },
        getOwnPropertyDescriptor: () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- a hostile non-Error throw
          throw null;
        },
      });
    case 'revoked-proxy': {
      const { proxy, revoke } = Proxy.revocable(typeof inner === 'object' && inner !== null ? inner : {}, {});
      revoke();
      return proxy;
    }
  }
}

/**
 * A copy of the object `inner` whose first own field is a getter returning `read()`; a non-object
 * `inner` is returned as it is.
 */
function withGetter(inner: unknown, read: () => unknown): unknown {
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
  const copy: Record<string, unknown> = { ...(inner as Record<string, unknown>) };
  const key = Object.keys(copy)[0] ?? 'value';
  Object.defineProperty(copy, key, { enumerable: true, configurable: true, get: read });
  return copy;
}

/** Where in an event {@link hostileEventArbitrary} plants its hostile value. */
export type HostileSpot = 'event' | 'type' | 'payload' | 'field' | 'extra-field' | 'meta' | 'list';

/**
 * A valid event turned hostile at one spot. The value is built by `build()`, fresh on each call,
 * inside the property: fast-check itself must never touch it (it probes generated values, and a
 * revoked proxy throws on any probe). `describe` says what was done, for failure reports.
 */
export interface HostileCase {
  readonly build: () => unknown;
  readonly describe: string;
}

const listTypes = ['NodeStartupCompleted', 'MaintenanceCompleted'] as const;

/**
 * Valid events with one hostile value planted: instead of (or around) the whole event, its type,
 * its payload, one payload field, an extra field, its meta, or the list/record field of
 * `NodeStartupCompleted.components` / `MaintenanceCompleted.results`. Some stay valid (a plain
 * proxy, a consistent getter, a null-prototype payload), most must be refused.
 */
export const hostileEventArbitrary: fc.Arbitrary<HostileCase> = fc
  .tuple(
    nodeEventArbitrary,
    fc.constantFrom(...HOSTILE_KINDS),
    fc.constantFrom<HostileSpot>('event', 'type', 'payload', 'field', 'extra-field', 'meta', 'list'),
    fc.nat(),
  )
  .map(([event, kind, spot, pick]): HostileCase => {
    const payload = event.payload as unknown as Record<string, unknown>;
    const fields = Object.keys(payload);
    const field = fields[pick % Math.max(1, fields.length)] ?? 'missing';
    const listType = listTypes[pick % listTypes.length] as (typeof listTypes)[number];
    const build = (): unknown => {
      switch (spot) {
        case 'event':
          return hostileValue(kind, { ...event });
        case 'type':
          return { type: hostileValue(kind, event.type), payload: { ...payload } };
        case 'payload':
          return { type: event.type, payload: hostileValue(kind, { ...payload }) };
        case 'field':
          return { type: event.type, payload: { ...payload, [field]: hostileValue(kind, payload[field]) } };
        case 'extra-field':
          return { type: event.type, payload: { ...payload, extra: hostileValue(kind, 1) } };
        case 'meta':
          return { ...event, meta: hostileValue(kind, { source: 'node', seq: 1 }) };
        case 'list':
          return listType === 'NodeStartupCompleted'
            ? { type: listType, payload: { durationMs: 1, components: hostileValue(kind, ['a', 'b']) } }
            : { type: listType, payload: { maintenanceType: 'prune', success: true, durationMs: 1, results: hostileValue(kind, { a: 1 }) } };
      }
    };
    const where = spot === 'list' ? `the list of ${listType}` : `${spot} of ${event.type}${spot === 'field' ? `.${field}` : ''}`;
    const describe = `${kind} at ${where}`;
    return { build, describe, [fc.toStringMethod]: () => describe } as HostileCase;
  });
