/**
 * The oracle of the publishes campaign, written from docs/events.md and docs/event-system.md (not
 * from src/): for an input described by a {@link Spec}, whether the node must accept it, and then
 * exactly what every subscriber gets and which fields are read; or with which code(s) it must
 * refuse it.
 *
 * What the documents say, and how it is read here:
 *
 * - The catalogue tables (types, payload fields, run-time types `hash` `id` `text` `count`
 *   `amount` `percent`, the enums, `components` an array of id, `results` a flat dictionary of
 *   strings, finite numbers and booleans) are {@link DOCUMENTED_CATALOGUE}, copied from the page.
 * - Payload objects are strict: an unknown field is an issue and its value is never read; a missing
 *   required field, or any field present with the value `undefined`, is an issue. Arrays, `null`
 *   and class instances are not payload objects; plain literals and `Object.create(null)` objects
 *   are. A `__proto__` own key is a field like any other.
 * - Each field is read once (a getter called once, a proxy asked once); what was read is what is
 *   checked and delivered. Getters and proxy traps that throw, revoked proxies, cycles, deep
 *   nesting, BigInt, symbols, functions and class instances are refused with a typed error.
 * - Limits: an array holds at most 10,000 elements and a record at most 10,000 keys, checked
 *   before any element is read. Strings have no limit.
 * - The returned event is fresh deep-frozen plain data, `Object.prototype` objects, surviving a
 *   JSON round trip unchanged (`-0` delivered as `0`).
 * - `invalid-event`: not a plain object; `type` missing or not a string; a top-level field other
 *   than `type`, `payload`, `meta`; `meta` not `{ source?: string, seq?: count, time?: finite
 *   number }`; reading the envelope threw. `unknown-event-type`: `type` not in the catalogue.
 *   `invalid-payload`: the payload does not match (a missing `payload` does not). A payload value
 *   whose reading throws does not match its type, so it is `invalid-payload`.
 * - Publishing through the EventManager (`node.events.publish`, `ctx.publish`) stamps
 *   `{ source, seq, time }`: the event's own `meta` is not even read. `catalogue.check` without a
 *   meta checks and copies the event's `meta`.
 * - `ctx.publish` is the same path plus `not-permitted` for a reserved type and for a type outside
 *   the module's `publishes` list (omitted: any type of the catalogue).
 *
 * Where the documents do not order two refusals (an unknown field at the top level and an invalid
 * payload; an invalid payload and a type the module may not publish), every applicable code is
 * allowed. Symbol-keyed properties are not fields (a JSON object has none): ignored, never read.
 */
import { ReadCounts, type ArraySpec, type Field, type ObjectSpec, type Spec } from './hostile.js';

/** A payload field's run-time type, as the tables name it. */
export type FieldType =
  | 'hash'
  | 'id'
  | 'text'
  | 'count'
  | 'amount'
  | 'percent'
  | 'boolean'
  | 'ids'
  | 'scalars'
  | { readonly oneOf: readonly string[] };

export interface FieldRule {
  readonly name: string;
  readonly type: FieldType;
  readonly optional: boolean;
}

const req = (name: string, type: FieldType): FieldRule => ({ name, type, optional: false });
const opt = (name: string, type: FieldType): FieldRule => ({ name, type, optional: true });
const HEALTH: FieldType = { oneOf: ['healthy', 'degraded', 'unhealthy'] };

/** The node catalogue as docs/events.md tabulates it, in the page's order. */
export const DOCUMENTED_CATALOGUE: Readonly<Record<string, readonly FieldRule[]>> = {
  NewBlock: [req('blockHash', 'hash'), req('height', 'count')],
  NewTransaction: [req('txHash', 'hash')],
  BlockDisconnected: [req('hash', 'hash'), req('height', 'count')],
  ChainReorg: [req('oldTip', 'hash'), req('newTip', 'hash')],
  GovernanceProposalCreated: [req('proposalId', 'id'), req('repository', 'id'), req('prNumber', 'count'), req('tier', 'count')],
  GovernanceProposalVoted: [req('proposalId', 'id'), req('voter', 'id'), req('vote', 'id')],
  GovernanceProposalMerged: [req('proposalId', 'id'), req('repository', 'id'), req('prNumber', 'count')],
  WebhookSent: [req('webhookUrl', 'id'), req('eventType', 'id'), req('success', 'boolean')],
  WebhookFailed: [req('webhookUrl', 'id'), req('eventType', 'id'), req('error', 'text')],
  GovernanceForkDetected: [req('forkId', 'id'), req('rulesetVersion', 'id'), req('adoptionCount', 'count')],
  PeerConnected: [req('peerAddr', 'id'), req('transportType', 'id'), req('services', 'count'), req('version', 'count'), opt('peerNodeId', 'id')],
  PeerDisconnected: [req('peerAddr', 'id'), req('reason', 'id')],
  PeerBanned: [req('peerAddr', 'id'), req('reason', 'id'), req('banDurationSeconds', 'count')],
  PeerUnbanned: [req('peerAddr', 'id')],
  MessageReceived: [req('peerAddr', 'id'), req('messageType', 'id'), req('messageSize', 'count'), req('protocolVersion', 'count')],
  MessageSent: [req('peerAddr', 'id'), req('messageType', 'id'), req('messageSize', 'count')],
  BroadcastStarted: [req('messageType', 'id'), req('targetPeers', 'count')],
  BroadcastCompleted: [req('messageType', 'id'), req('successful', 'count'), req('failed', 'count')],
  ModuleLoaded: [req('moduleName', 'id'), req('version', 'id')],
  ModuleUnloaded: [req('moduleName', 'id'), req('version', 'id')],
  ModuleReloaded: [req('moduleName', 'id'), req('oldVersion', 'id'), req('newVersion', 'id')],
  ModuleStarted: [req('moduleName', 'id')],
  ModuleStopped: [req('moduleName', 'id')],
  ModuleCrashed: [req('moduleName', 'id'), req('error', 'text')],
  ModuleHealthChanged: [req('moduleName', 'id'), req('oldHealth', HEALTH), req('newHealth', HEALTH)],
  ModuleStateChanged: [req('moduleName', 'id'), req('oldState', 'id'), req('newState', 'id')],
  NodeStartupCompleted: [req('durationMs', 'amount'), req('components', 'ids')],
  NodeShutdown: [req('reason', 'id'), req('timeoutSeconds', 'count')],
  NodeShutdownCompleted: [req('durationMs', 'amount')],
  DataMaintenance: [
    req('operation', { oneOf: ['cleanup', 'flush', 'both'] }),
    req('urgency', { oneOf: ['low', 'medium', 'high'] }),
    req('reason', { oneOf: ['periodic', 'shutdown', 'low_disk', 'manual'] }),
    opt('targetAgeDays', 'count'),
    opt('timeoutSeconds', 'count'),
  ],
  MaintenanceStarted: [req('maintenanceType', 'id'), opt('estimatedDurationSeconds', 'count')],
  MaintenanceCompleted: [req('maintenanceType', 'id'), req('success', 'boolean'), req('durationMs', 'amount'), opt('results', 'scalars')],
  HealthCheck: [req('checkType', 'id'), req('nodeHealthy', 'boolean'), opt('healthReport', 'text')],
  DiskSpaceLow: [req('availableBytes', 'count'), req('totalBytes', 'count'), req('percentFree', 'percent'), req('diskPath', 'id')],
  ResourceLimitWarning: [
    req('resourceType', 'id'),
    req('usagePercent', 'amount'),
    req('currentUsage', 'amount'),
    req('limit', 'amount'),
    req('thresholdPercent', 'percent'),
  ],
};

export const DOCUMENTED_TYPES: readonly string[] = Object.keys(DOCUMENTED_CATALOGUE);

/** The module-lifecycle family and the three node types: published by the node alone. */
export const DOCUMENTED_RESERVED: ReadonlySet<string> = new Set([
  'ModuleLoaded',
  'ModuleUnloaded',
  'ModuleReloaded',
  'ModuleStarted',
  'ModuleStopped',
  'ModuleCrashed',
  'ModuleHealthChanged',
  'ModuleStateChanged',
  'NodeStartupCompleted',
  'NodeShutdown',
  'NodeShutdownCompleted',
]);

/** Membership events: offered in order past the routine bound (docs/event-system.md). */
export const DOCUMENTED_MEMBERSHIP: ReadonlySet<string> = new Set(['ModuleLoaded', 'ModuleCrashed', 'ModuleUnloaded']);

/** Critical events take the priority lane: NodeShutdown, and DataMaintenance with urgency `high`. */
export function documentedCritical(type: string, payload: unknown): boolean {
  return type === 'NodeShutdown' || (type === 'DataMaintenance' && (payload as { urgency?: unknown }).urgency === 'high');
}

/** Most elements of an array and keys of a record. */
export const DOCUMENTED_MAX_ENTRIES = 10_000;

export type RefusalCode = 'invalid-event' | 'unknown-event-type' | 'invalid-payload' | 'not-permitted';

/** Who publishes: node code through the EventManager, a module through `ctx.publish`, or a bare `catalogue.check`. */
export type Publisher =
  | { readonly kind: 'node' }
  | { readonly kind: 'module'; readonly publishes: ReadonlySet<string> | null }
  | { readonly kind: 'catalogue' };

export interface ExpectedEvent {
  readonly type: string;
  readonly payload: unknown;
  /** Only for `catalogue.check` of an event that has one: the copy of its meta. */
  readonly meta?: unknown;
}

/** The oracle's verdict, and the reads it implies (for an accepted input: exactly those). */
export type Verdict = (
  | { readonly accepted: true; readonly event: ExpectedEvent }
  | { readonly accepted: false; readonly codes: ReadonlySet<RefusalCode> }
) & { readonly reads: ReadCounts; readonly cyclic: boolean };

/** A read that threw. */
const THREW: unique symbol = Symbol('threw');
type Read = Spec | typeof THREW;

/** What kind of value a spec is, as a reader finds out (`unreadable`: asking threw). */
type Kind = 'primitive' | 'function' | 'instance' | 'plain' | 'not-plain' | 'array' | 'unreadable';

class Reader {
  readonly reads = new ReadCounts();
  cyclic = false;

  kind(spec: Spec): Kind {
    switch (spec.k) {
      case 'value':
        return 'primitive';
      case 'function':
        return 'function';
      case 'instance':
        return 'instance';
      case 'object':
        return spec.proto === 'inherited' ? 'not-plain' : 'plain';
      case 'array':
      case 'repeat':
        return 'array';
      case 'nest':
        return spec.array ? 'array' : 'plain';
      case 'ref':
        this.cyclic = true;
        return this.kind(spec.to);
      case 'proxy':
        if (spec.trap === 'revoked') return 'unreadable';
        if (spec.trap === 'getPrototypeOf' && spec.target.k === 'object') return 'unreadable';
        return this.kind(spec.target);
    }
  }

  /** The own enumerable string keys of a plain object (or THREW). */
  keys(spec: Spec): string[] | typeof THREW {
    switch (spec.k) {
      case 'object':
        return spec.fields.filter((f): f is Field & { key: string } => typeof f.key === 'string').map((f) => f.key);
      case 'nest':
        return !spec.array && spec.levels > 1 ? ['a'] : [];
      case 'ref':
        return this.keys(spec.to);
      case 'proxy':
        return spec.trap === 'ownKeys' || spec.trap === 'revoked' ? THREW : this.keys(spec.target);
      default:
        return [];
    }
  }

  /** Reads one field (counted), or THREW. */
  get(spec: Spec, key: string): Read {
    switch (spec.k) {
      case 'object': {
        const field = spec.fields.find((f) => f.key === key);
        if (field === undefined) return { k: 'value', v: undefined };
        if (field.access === 'data') return field.value;
        const count = this.reads.get(field, '');
        this.reads.add(field, '');
        if (field.access === 'throws') return THREW;
        return count > 0 && field.access === 'flips' && field.later !== undefined ? field.later : field.value;
      }
      case 'array':
        return spec.items[Number(key)] ?? { k: 'value', v: undefined };
      case 'repeat':
        return { k: 'value', v: spec.item };
      case 'nest':
        return spec.levels > 1 && key === (spec.array ? '0' : 'a') ? { k: 'nest', levels: spec.levels - 1, array: spec.array } : { k: 'value', v: undefined };
      case 'ref':
        return this.get(spec.to, key);
      case 'proxy':
        if (spec.trap === 'revoked') return THREW;
        this.reads.add(spec, key);
        if (spec.trap === 'get') return THREW;
        return this.get(spec.target, key);
      default:
        return { k: 'value', v: undefined };
    }
  }

  /** An array's length (a proxy's is read through its `get` trap, uncounted), or THREW. */
  length(spec: Spec): number | typeof THREW {
    switch (spec.k) {
      case 'array':
        return spec.items.length;
      case 'repeat':
        return spec.length;
      case 'nest':
        return spec.levels > 1 ? 1 : 0;
      case 'ref':
        return this.length(spec.to);
      case 'proxy':
        return spec.trap === 'get' || spec.trap === 'revoked' ? THREW : this.length(spec.target);
      default:
        return THREW;
    }
  }
}

/** A scalar read, `-0` as `0` (a JSON round trip cannot tell them apart). */
const primitive = (spec: Read): { ok: true; v: unknown } | { ok: false } =>
  spec !== THREW && spec.k === 'value' ? { ok: true, v: Object.is(spec.v, -0) ? 0 : spec.v } : { ok: false };

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks one payload field's value against its documented type; the parsed copy, or undefined when it does not match. */
function checkField(reader: Reader, type: FieldType, spec: Read): { ok: true; v: unknown } | { ok: false } {
  if (spec === THREW) return { ok: false };
  if (typeof type === 'object') {
    const p = primitive(spec);
    return p.ok && typeof p.v === 'string' && type.oneOf.includes(p.v) ? p : { ok: false };
  }
  switch (type) {
    case 'ids':
      return checkIds(reader, spec);
    case 'scalars':
      return checkScalars(reader, spec);
    default: {
      const p = primitive(spec);
      if (!p.ok) {
        reader.kind(spec); // a cycle is noticed here too
        return p;
      }
      const v = p.v;
      const ok =
        type === 'hash'
          ? typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
          : type === 'id'
            ? typeof v === 'string' && v.length > 0
            : type === 'text'
              ? typeof v === 'string'
              : type === 'count'
                ? isCount(v)
                : type === 'amount'
                  ? isFinite(v) && v >= 0
                  : type === 'percent'
                    ? isFinite(v) && v >= 0 && v <= 100
                    : typeof v === 'boolean';
      return ok ? p : { ok: false };
    }
  }
}

/** `components`: an array of at most 10,000 ids (the length checked before any element is read). */
function checkIds(reader: Reader, spec: Spec): { ok: true; v: unknown } | { ok: false } {
  if (reader.kind(spec) !== 'array') return { ok: false };
  const length = reader.length(spec);
  if (length === THREW || length > DOCUMENTED_MAX_ENTRIES) return { ok: false };
  const out: unknown[] = [];
  let ok = true;
  for (let i = 0; i < length; i++) {
    const element = checkField(reader, 'id', reader.get(spec, String(i)));
    if (element.ok) out.push(element.v);
    else ok = false;
  }
  return ok ? { ok: true, v: out } : { ok: false };
}

/** `results`: a plain object of at most 10,000 keys whose values are strings, finite numbers or booleans. */
function checkScalars(reader: Reader, spec: Spec): { ok: true; v: unknown } | { ok: false } {
  if (reader.kind(spec) !== 'plain') return { ok: false };
  const keys = reader.keys(spec);
  if (keys === THREW || keys.length > DOCUMENTED_MAX_ENTRIES) return { ok: false };
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const key of keys) {
    const p = primitive(reader.get(spec, key));
    if (p.ok && (typeof p.v === 'string' || typeof p.v === 'boolean' || isFinite(p.v))) {
      Object.defineProperty(out, key, { value: p.v, enumerable: true, writable: true, configurable: true });
    } else {
      ok = false;
    }
  }
  return ok ? { ok: true, v: out } : { ok: false };
}

/** A payload against its type's rules: the parsed copy, or not ok. */
function checkPayload(reader: Reader, rules: readonly FieldRule[], spec: Read): { ok: true; v: unknown } | { ok: false } {
  if (spec === THREW || reader.kind(spec) !== 'plain') return { ok: false };
  const keys = reader.keys(spec);
  if (keys === THREW) return { ok: false };
  let ok = true;
  for (const key of keys) if (!rules.some((rule) => rule.name === key)) ok = false; // unknown: never read
  const out: Record<string, unknown> = {};
  for (const rule of rules) {
    if (!keys.includes(rule.name)) {
      if (!rule.optional) ok = false;
      continue;
    }
    const read = reader.get(spec, rule.name);
    if (read !== THREW && read.k === 'value' && read.v === undefined) {
      ok = false;
      continue;
    }
    const field = checkField(reader, rule.type, read);
    if (field.ok) out[rule.name] = field.v;
    else ok = false;
  }
  return ok ? { ok: true, v: out } : { ok: false };
}

/** `meta` checked by `catalogue.check`: `{ source?: string, seq?: count, time?: finite number }`. */
function checkMeta(reader: Reader, spec: Read): { ok: true; v: unknown } | { ok: false } {
  if (spec === THREW || reader.kind(spec) !== 'plain') return { ok: false };
  const keys = reader.keys(spec);
  if (keys === THREW) return { ok: false };
  const rules: Record<string, (v: unknown) => boolean> = {
    source: (v) => typeof v === 'string',
    seq: isCount,
    time: isFinite,
  };
  const out: Record<string, unknown> = {};
  let ok = true;
  for (const key of keys) {
    const rule = rules[key];
    if (rule === undefined || !Object.hasOwn(rules, key)) {
      ok = false;
      continue;
    }
    const p = primitive(reader.get(spec, key));
    if (p.ok && rule(p.v)) out[key] = p.v;
    else ok = false;
  }
  return ok ? { ok: true, v: out } : { ok: false };
}

/** The verdict on publishing the input `spec` as `publisher`. */
export function oracle(spec: Spec, publisher: Publisher): Verdict {
  const reader = new Reader();
  const refuse = (...codes: RefusalCode[]): Verdict => ({ accepted: false, codes: new Set(codes), reads: reader.reads, cyclic: reader.cyclic });
  if (reader.kind(spec) !== 'plain') return refuse('invalid-event');
  const keys = reader.keys(spec);
  if (keys === THREW || !keys.includes('type')) return refuse('invalid-event');
  const typeRead = primitive(reader.get(spec, 'type'));
  if (!typeRead.ok || typeof typeRead.v !== 'string') return refuse('invalid-event');
  const type = typeRead.v;
  const codes = new Set<RefusalCode>();
  if (keys.some((key) => key !== 'type' && key !== 'payload' && key !== 'meta')) codes.add('invalid-event');
  let meta: unknown;
  if (publisher.kind === 'catalogue' && keys.includes('meta')) {
    const checked = checkMeta(reader, reader.get(spec, 'meta'));
    if (checked.ok) meta = checked.v;
    else codes.add('invalid-event');
  }
  const rules = Object.hasOwn(DOCUMENTED_CATALOGUE, type) ? DOCUMENTED_CATALOGUE[type] : undefined;
  let payload: unknown;
  if (rules === undefined) {
    codes.add('unknown-event-type');
  } else {
    const read: Read = keys.includes('payload') ? reader.get(spec, 'payload') : { k: 'value', v: undefined };
    if (read === THREW) {
      codes.add('invalid-event'); // reading the envelope threw
    } else {
      const checked = checkPayload(reader, rules, read);
      if (checked.ok) payload = checked.v;
      else codes.add('invalid-payload');
    }
  }
  if (publisher.kind === 'module' && (DOCUMENTED_RESERVED.has(type) || (publisher.publishes !== null && !publisher.publishes.has(type)))) {
    codes.add('not-permitted');
  }
  if (codes.size > 0) return { accepted: false, codes, reads: reader.reads, cyclic: reader.cyclic };
  const event: ExpectedEvent = meta === undefined ? { type, payload } : { type, payload, meta };
  return { accepted: true, event, reads: reader.reads, cyclic: reader.cyclic };
}

/** The field keys of a container spec a reader may read (for comparing read counts). */
export function fieldKeys(spec: ObjectSpec | ArraySpec): string[] {
  if (spec.k === 'array') return spec.items.map((_, i) => String(i));
  return spec.fields.filter((f) => typeof f.key === 'string').map((f) => f.key as string);
}
