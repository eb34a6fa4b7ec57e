/**
 * Fuzzed publishes for the publishes campaign: a valid event of a random type (its payload built
 * from the documented field types), then, most of the time, changes that keep it valid in hostile
 * ways (getters, flipping getters, transparent proxies, null-prototype objects, symbol keys, `-0`,
 * huge strings, a `meta` that publishing ignores) and changes that make it invalid (hostile values
 * anywhere: cyclic, deep, BigInt, symbols, functions, class instances, proxies whose traps throw,
 * revoked proxies, getters that throw, `__proto__` keys, unknown and missing fields, arrays and
 * records past their limit). The generator labels nothing: the oracle decides.
 */
import type { Random } from '../../src/kernel/random.js';
import { DOCUMENTED_CATALOGUE, DOCUMENTED_MAX_ENTRIES, DOCUMENTED_TYPES, type FieldType } from './event-oracle.js';
import {
  INSTANCE_KINDS,
  data,
  plain,
  value,
  type ArraySpec,
  type Container,
  type Field,
  type ObjectSpec,
  type Primitive,
  type Spec,
  type Trap,
} from './hostile.js';

const chance = (rng: Random, p: number): boolean => rng.next() < p;
const pick = <T>(rng: Random, items: readonly T[]): T => items[rng.int(items.length)] as T;

let hugeStrings: { readonly mib1: string; readonly mib16: string } | null = null;
/** One MiB and 16 MiB strings, made once (a string is a value: sharing it shares nothing mutable). */
function huge(): { readonly mib1: string; readonly mib16: string } {
  hugeStrings ??= { mib1: 'h'.repeat(1 << 20), mib16: 'H'.repeat(16 << 20) };
  return hugeStrings;
}

/** Keys that trip naive code: prototype names, the empty key, a long one, a near-miss of a real field. */
const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'odd key', 'k'.repeat(300), 'timeoutSecs', 'blockhash', 'meta'];

const hex = (rng: Random, length: number): string => {
  let out = '';
  for (let i = 0; i < length; i++) out += '0123456789abcdef'[rng.int(16)];
  return out;
};

function someString(rng: Random, empty: boolean): string {
  const r = rng.next();
  if (r < 0.005) return huge().mib1;
  if (r < 0.0055) return huge().mib16;
  if (empty && r < 0.1) return '';
  return pick(rng, [
    'a',
    'peer-1',
    '203.0.113.7:8333',
    ' ',
    '\u0000',
    '\ud800',
    '𝔘nicode ✓',
    '__proto__',
    'constructor',
    `s-${rng.int(1_000_000)}`,
    'x'.repeat(1 + rng.int(200)),
  ]);
}

function someCount(rng: Random): number {
  return pick(rng, [0, -0, 1, Number.MAX_SAFE_INTEGER, rng.int(1_000_000_000), 840_000]);
}

/** A valid value of a documented field type. */
export function validValue(rng: Random, type: FieldType): Spec {
  if (typeof type === 'object') return value(pick(rng, type.oneOf));
  switch (type) {
    case 'hash':
      return value(hex(rng, 64));
    case 'id':
      return value(someString(rng, false));
    case 'text':
      return value(someString(rng, true));
    case 'count':
      return value(someCount(rng));
    case 'amount':
      return value(pick(rng, [0, -0, 0.5, 1e308, 5e-324, rng.next() * 1e6]));
    case 'percent':
      return value(pick(rng, [0, -0, 100, 99.99, rng.next() * 100]));
    case 'boolean':
      return value(chance(rng, 0.5));
    case 'ids':
      return { k: 'array', items: Array.from({ length: rng.int(5) }, () => value(someString(rng, false))) };
    case 'scalars':
      return plain(
        Array.from({ length: rng.int(5) }, (_, i) =>
          data(`${pick(rng, ODD_KEYS)}${i === 0 ? '' : i}`, value(pick(rng, [someString(rng, true), rng.next() * 100 - 50, -0, true, false]))),
        ),
      );
  }
}

/** A value no documented field type admits (of any kind: wrong scalars and hostile objects). */
function invalidValue(rng: Random, enclosing: readonly Container[]): Spec {
  const r = rng.int(20);
  switch (r) {
    case 0:
      return value(pick(rng, [1n, 2n ** 70n, -0n]));
    case 1:
      return value(pick(rng, [Symbol('s'), Symbol.iterator]));
    case 2:
      return { k: 'function' };
    case 3:
      return { k: 'instance', of: pick(rng, INSTANCE_KINDS) };
    case 4:
      return { k: 'nest', levels: pick(rng, [65, 70, 10_000]), array: chance(rng, 0.5) };
    case 5:
      return enclosing.length > 0 ? { k: 'ref', to: pick(rng, enclosing) } : value(null);
    case 6:
      return { k: 'proxy', target: plain([data('a', value(1))]), trap: pick(rng, ['none', 'get', 'ownKeys', 'getPrototypeOf', 'revoked'] as const) };
    case 7:
      return { k: 'proxy', target: { k: 'array', items: [value('a')] }, trap: pick(rng, ['none', 'get', 'revoked'] as const) };
    case 8:
      return plain([data('a', value(1))], pick(rng, ['object', 'null', 'inherited'] as const));
    case 9:
      return { k: 'array', items: [] };
    default:
      return value(
        pick<Primitive>(rng, [
          undefined,
          null,
          '',
          'AB'.repeat(32),
          hex(rng, 63),
          hex(rng, 65),
          `${hex(rng, 63)}g`,
          -1,
          1.5,
          2 ** 53,
          -(2 ** 53),
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          100.5,
          -1e-300,
          '5',
          'true',
          true,
          huge().mib1,
        ]),
      );
  }
}

/** Any value, valid for some field or not. */
function anyValue(rng: Random, enclosing: readonly Container[]): Spec {
  return chance(rng, 0.5) ? invalidValue(rng, enclosing) : validValue(rng, pick(rng, ['id', 'text', 'count', 'amount', 'boolean', 'hash'] as const));
}

/** The types module `narrow` may publish in the campaign (three of them reserved to nobody). */
export const NARROW_PUBLISHES = ['NewBlock', 'HealthCheck', 'PeerConnected', 'MaintenanceCompleted', 'DataMaintenance', 'DiskSpaceLow'] as const;

/** A field of `payload` holding a container of `kind` (components or results), if its type has one. */
function containerField(payload: ObjectSpec, kind: 'array' | 'object'): Field | undefined {
  return payload.fields.find((f) => f.access === 'data' && f.value.k === kind && (kind === 'array' || f.key === 'results'));
}

/**
 * One input: an event of a random type (with `narrow`, mostly a type module `narrow` may publish),
 * changed 0 to 3 times.
 */
export function generateInput(rng: Random, narrow: boolean): Spec {
  const type = narrow && chance(rng, 0.65) ? pick(rng, NARROW_PUBLISHES) : pick(rng, DOCUMENTED_TYPES);
  const rules = DOCUMENTED_CATALOGUE[type] ?? [];
  const payload = plain(rules.filter((rule) => !rule.optional || chance(rng, 0.5)).map((rule) => data(rule.name, validValue(rng, rule.type))));
  const envelope = plain([data('type', value(type)), data('payload', payload)]);
  let result: Spec = envelope;

  // Hostile but valid: the input stays what it was.
  if (chance(rng, 0.5)) disguise(rng, envelope, payload);
  const changes = chance(rng, 0.35) ? 0 : 1 + rng.int(3);
  for (let i = 0; i < changes; i++) result = change(rng, result, envelope, payload);
  return result;
}

/** Changes that keep the event valid: getters, flips whose first answer is valid, proxies, null prototypes, symbol keys, a meta. */
function disguise(rng: Random, envelope: ObjectSpec, payload: ObjectSpec): void {
  for (const field of payload.fields) {
    const r = rng.next();
    if (r < 0.15) field.access = 'getter';
    else if (r < 0.25) {
      field.access = 'flips';
      field.later = invalidValue(rng, [envelope, payload]);
    }
  }
  if (chance(rng, 0.2)) payload.proto = 'null';
  if (chance(rng, 0.15)) envelope.proto = 'null';
  if (chance(rng, 0.15)) payload.fields.push(data(Symbol('hidden'), invalidValue(rng, [])));
  if (chance(rng, 0.2)) {
    const typeField = envelope.fields[0] as Field;
    typeField.access = chance(rng, 0.5) ? 'getter' : 'flips';
    typeField.later = value(pick(rng, ['NodeShutdown', 'HealthCheck', 'Bogus']));
  }
  if (chance(rng, 0.2)) envelope.fields.push(data('meta', someMeta(rng, envelope)));
  const payloadField = envelope.fields.find((f) => f.key === 'payload') as Field;
  if (chance(rng, 0.15)) payloadField.value = { k: 'proxy', target: payload, trap: 'none' };
  const components = containerField(payload, 'array');
  if (components !== undefined && chance(rng, 0.3)) components.value = { k: 'proxy', target: components.value as ArraySpec, trap: 'none' };
}

/** A meta: the valid kind, or one `catalogue.check` refuses (publishing ignores it either way). */
function someMeta(rng: Random, envelope: ObjectSpec): Spec {
  const r = rng.int(6);
  if (r < 2) {
    return plain(
      [data('source', value('node')), data('seq', value(someCount(rng))), data('time', value(rng.next() * 1e9))].filter(() => chance(rng, 0.7)),
    );
  }
  if (r === 2) return plain([data('source', value(5)), data('seq', value(-1))]);
  if (r === 3) return plain([data('forged', value(true)), data('source', value('node'))]);
  if (r === 4) return plain([{ key: 'source', value: value('node'), access: 'throws' }]);
  return invalidValue(rng, [envelope]);
}

/** One change: usually makes the event invalid, sometimes only stranger. */
function change(rng: Random, current: Spec, envelope: ObjectSpec, payload: ObjectSpec): Spec {
  const field = payload.fields.length > 0 ? pick(rng, payload.fields) : undefined;
  const payloadField = envelope.fields.find((f) => f.key === 'payload');
  switch (rng.int(16)) {
    case 0:
    case 1:
    case 2:
      if (field !== undefined) {
        field.value = invalidValue(rng, [envelope, payload]);
        field.access = pick(rng, ['data', 'data', 'getter', 'flips'] as const);
        field.later = validValue(rng, 'id');
      }
      return current;
    case 3:
      payload.fields.push(data(pick(rng, ODD_KEYS), anyValue(rng, [envelope, payload])));
      return current;
    case 4:
      if (field !== undefined) payload.fields = payload.fields.filter((f) => f !== field);
      return current;
    case 5:
      if (field !== undefined) {
        field.value = value(undefined);
        field.access = 'data';
      }
      return current;
    case 6:
      if (field !== undefined) field.access = 'throws';
      return current;
    case 7:
      if (payloadField !== undefined) payloadField.value = pick(rng, [invalidValue(rng, [envelope]), { k: 'proxy', target: payload, trap: pick(rng, TRAPS) }, { k: 'ref', to: envelope }]);
      return current;
    case 8:
      if (chance(rng, 0.25)) {
        envelope.proto = 'inherited';
        return current;
      }
      return pick(rng, [invalidValue(rng, []), { k: 'proxy', target: envelope, trap: pick(rng, TRAPS) }, { k: 'array', items: [current] }]);
    case 9: {
      const typeField = envelope.fields.find((f) => f.key === 'type');
      if (typeField === undefined) return current;
      typeField.value = pick(rng, [
        value(pick(rng, DOCUMENTED_TYPES)),
        value(pick(rng, ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'newblock', 'NewBlock ', 'Bogus'])),
        invalidValue(rng, [envelope]),
      ]);
      typeField.access = pick(rng, ['data', 'data', 'getter', 'throws', 'flips'] as const);
      typeField.later = value('NodeShutdown');
      return current;
    }
    case 10:
      envelope.fields.push(data(pick(rng, ['__proto__', 'extra', 'Type', 'source', 'seq']), anyValue(rng, [envelope])));
      return current;
    case 11:
      if (!envelope.fields.some((f) => f.key === 'meta')) envelope.fields.push(data('meta', someMeta(rng, envelope)));
      return current;
    case 12:
      envelope.fields = envelope.fields.filter((f) => f.key !== (chance(rng, 0.5) ? 'payload' : 'type'));
      return current;
    case 13:
      return bigContainer(rng, current, payload);
    case 14: {
      // A cycle or a trap inside a container field, when the type has one.
      const inner = containerField(payload, 'array') ?? containerField(payload, 'object');
      if (inner === undefined) return change(rng, current, envelope, payload);
      const container = inner.value as ObjectSpec | ArraySpec;
      if (chance(rng, 0.5)) {
        const cycle: Spec = { k: 'ref', to: pick(rng, [container, payload, envelope]) };
        if (container.k === 'array') container.items.push(cycle);
        else container.fields.push(data('loop', cycle));
      } else {
        inner.value = { k: 'proxy', target: container, trap: pick(rng, container.k === 'array' ? (['none', 'get', 'revoked'] as const) : TRAPS) };
      }
      return current;
    }
    default:
      if (field !== undefined) {
        field.access = 'flips';
        field.later = field.value;
        field.value = invalidValue(rng, [envelope, payload]);
      }
      return current;
  }
}

const TRAPS: readonly Trap[] = ['none', 'get', 'ownKeys', 'getPrototypeOf', 'revoked'];

/** Arrays and records at their limit and one past it. */
function bigContainer(rng: Random, current: Spec, payload: ObjectSpec): Spec {
  const length = DOCUMENTED_MAX_ENTRIES + (chance(rng, 0.5) ? 0 : 1);
  const components = containerField(payload, 'array');
  if (components !== undefined) {
    components.value = chance(rng, 0.5) ? { k: 'repeat', length, item: 'module' } : { k: 'repeat', length, item: chance(rng, 0.5) ? 1 : '' };
    return current;
  }
  const results = payload.fields.find((f) => f.key === 'results');
  if (results !== undefined) {
    results.value = plain(Array.from({ length }, (_, i) => data(`k${i}`, value(i))));
    return current;
  }
  // Any other type: a huge string where a hash or an id goes.
  const field = payload.fields.find((f) => f.value.k === 'value' && typeof f.value.v === 'string');
  if (field !== undefined) field.value = value(chance(rng, 0.5) ? huge().mib16 : huge().mib1);
  return current;
}
