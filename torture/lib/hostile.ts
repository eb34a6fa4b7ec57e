/**
 * Hostile inputs as descriptions. A {@link Spec} says what a value is made of (plain objects,
 * getters that flip or throw, proxies whose traps throw, revoked proxies, cycles, deep nesting,
 * class instances, BigInt, symbols, huge strings); {@link build} makes a fresh value from it,
 * counting every read of a getter and of a proxy's `get` trap. The oracle reads the description,
 * never the value, so nothing the node does to the value (or the value does to the node) can
 * change what the oracle expects.
 */

export type Primitive = string | number | boolean | null | undefined | bigint | symbol;

/** Class instances that are objects but not plain ones. */
export const INSTANCE_KINDS = ['Date', 'Map', 'Uint8Array', 'Number', 'String', 'Boolean', 'Error', 'RegExp', 'Promise', 'Custom', 'ArrayBuffer'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

/**
 * How a proxy misbehaves: `none` is a transparent proxy (reads counted), the others throw from
 * that trap; `revoked` is a revoked proxy (every operation throws). Array proxies only get `none`,
 * `get` and `revoked`: whether a reader of an array asks for its keys or prototype is not
 * specified, so those traps would not decide anything.
 */
export type Trap = 'none' | 'get' | 'ownKeys' | 'getPrototypeOf' | 'revoked';

/** How a field is held: a data property, a getter, a getter that throws, or one that answers differently after its first read. */
export type Access = 'data' | 'getter' | 'throws' | 'flips';

export interface Field {
  key: string | symbol;
  value: Spec;
  access: Access;
  /** What a `flips` getter answers from its second read on. */
  later?: Spec;
}

/** A plain object (`proto` `object` or `null`), or one whose prototype is another object (`inherited`). */
export interface ObjectSpec {
  readonly k: 'object';
  proto: 'object' | 'null' | 'inherited';
  fields: Field[];
}

export interface ArraySpec {
  readonly k: 'array';
  items: Spec[];
}

export interface ProxySpec {
  readonly k: 'proxy';
  readonly target: ObjectSpec | ArraySpec;
  readonly trap: Trap;
}

/** What a {@link Spec} `ref` may point at: an enclosing container (a cycle). */
export type Container = ObjectSpec | ArraySpec | ProxySpec;

export type Spec =
  | { readonly k: 'value'; readonly v: Primitive }
  | { readonly k: 'function' }
  | { readonly k: 'instance'; readonly of: InstanceKind }
  | ObjectSpec
  | ArraySpec
  /** An array of `length` copies of one primitive (the big arrays). */
  | { readonly k: 'repeat'; readonly length: number; readonly item: Primitive }
  | ProxySpec
  /** The container `to`, which encloses this position: a cycle. */
  | { readonly k: 'ref'; readonly to: Container }
  /** `levels` nested objects `{ a: { a: ... } }` (or arrays `[[...]]`), the innermost empty. */
  | { readonly k: 'nest'; readonly levels: number; readonly array: boolean };

export const value = (v: Primitive): Spec => ({ k: 'value', v });
export const data = (key: string | symbol, spec: Spec): Field => ({ key, value: spec, access: 'data' });
export const plain = (fields: Field[], proto: ObjectSpec['proto'] = 'object'): ObjectSpec => ({ k: 'object', proto, fields });

/** Reads counted per site (a getter's field, or a proxy) and key (`''` for a getter). */
export class ReadCounts {
  private readonly sites = new Map<object, Map<string, number>>();

  add(site: object, key: string): void {
    let keys = this.sites.get(site);
    if (keys === undefined) this.sites.set(site, (keys = new Map<string, number>()));
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }

  get(site: object, key: string): number {
    return this.sites.get(site)?.get(key) ?? 0;
  }

  /** Every site and key read at least once. */
  *entries(): Generator<{ readonly site: object; readonly key: string; readonly count: number }> {
    for (const [site, keys] of this.sites) for (const [key, count] of keys) yield { site, key, count };
  }
}

/** A value made from a spec, with what it is made of. */
export interface Built {
  readonly value: unknown;
  /** Every object made for it: proxies, their targets, what getters answer. */
  readonly objects: ReadonlySet<object>;
  /** Reads of its getters and proxies so far. */
  readonly reads: ReadCounts;
  /** Changes every writable data field of every object made, in place: the publisher reusing its object. */
  mutate(): void;
}

/** What a getter or trap throws: something different each time, never only Errors. */
const THROWN: readonly (() => unknown)[] = [
  () => new Error('trap'),
  () => Object.create(null) as unknown,
  () => Symbol('thrown'),
  () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  () => ({
    toString() {
      throw new Error('no string form');
    },
  }),
  () => 42n,
];
let thrownNext = 0;
const thrown = (): unknown => (THROWN[thrownNext++ % THROWN.length] as () => unknown)();

class Custom {
  readonly x = 1;
}

function instance(of: InstanceKind): object {
  switch (of) {
    case 'Date':
      return new Date(0);
    case 'Map':
      return new Map([['a', 1]]);
    case 'Uint8Array':
      return new Uint8Array([1, 2, 3]);
    case 'Number':
      return Object(5) as object;
    case 'String':
      return Object('text') as object;
    case 'Boolean':
      return Object(true) as object;
    case 'Error':
      return new Error('an error as data');
    case 'RegExp':
      return /x/;
    case 'Promise':
      return Promise.resolve(1);
    case 'Custom':
      return new Custom();
    case 'ArrayBuffer':
      return new ArrayBuffer(8);
  }
}

/** Makes a fresh value from `spec`. */
export function build(spec: Spec): Built {
  const objects = new Set<object>();
  const reads = new ReadCounts();
  const made = new Map<Container, object>();

  const make = (s: Spec): unknown => {
    switch (s.k) {
      case 'value':
        return s.v;
      case 'function':
        return function hostile() {
          return 1;
        };
      case 'instance': {
        const made = instance(s.of);
        objects.add(made);
        return made;
      }
      case 'repeat': {
        const array = new Array<Primitive>(s.length).fill(s.item);
        objects.add(array);
        return array;
      }
      case 'nest': {
        let inner: object = s.array ? [] : {};
        objects.add(inner);
        for (let level = 1; level < s.levels; level++) {
          inner = s.array ? [inner] : { a: inner };
          objects.add(inner);
        }
        return inner;
      }
      case 'ref': {
        const target = made.get(s.to);
        if (target === undefined) throw new Error('a ref to a container that does not enclose it');
        return target;
      }
      case 'object':
      case 'array':
        return container(s, null);
      case 'proxy':
        return container(s.target, s);
    }
  };

  /** A container, registered before its fields are made (so refs inside it find it). */
  const container = (s: ObjectSpec | ArraySpec, proxy: ProxySpec | null): object => {
    const target: object =
      s.k === 'array' ? [] : s.proto === 'null' ? (Object.create(null) as object) : s.proto === 'inherited' ? (Object.create({ inherited: true }) as object) : {};
    objects.add(target);
    let result = target;
    if (proxy !== null) {
      result = proxyOf(target, proxy);
      objects.add(result);
      made.set(proxy, result);
    }
    // A ref to the target spec is the target itself; a ref to the proxy spec is the proxy.
    made.set(s, target);
    if (s.k === 'array') {
      for (const item of s.items) (target as unknown[]).push(make(item));
    } else {
      for (const field of s.fields) define(target, field);
    }
    return result;
  };

  const define = (target: object, field: Field): void => {
    if (field.access === 'data') {
      Object.defineProperty(target, field.key, { value: make(field.value), writable: true, enumerable: true, configurable: true });
      return;
    }
    const first = field.access === 'throws' ? undefined : make(field.value);
    const later = field.access === 'flips' && field.later !== undefined ? make(field.later) : first;
    Object.defineProperty(target, field.key, {
      enumerable: true,
      configurable: true,
      get() {
        const count = reads.get(field, '');
        reads.add(field, '');
        if (field.access === 'throws') throw thrown();
        return count === 0 ? first : later;
      },
    });
  };

  const proxyOf = (target: object, spec: ProxySpec): object => {
    const handler: ProxyHandler<object> = {
      get(t, key, receiver) {
        if (typeof key === 'string') reads.add(spec, key);
        if (spec.trap === 'get') throw thrown();
        return Reflect.get(t, key, receiver) as unknown;
      },
    };
    if (spec.trap === 'ownKeys') handler.ownKeys = () => { throw thrown(); };
    if (spec.trap === 'getPrototypeOf') handler.getPrototypeOf = () => { throw thrown(); };
    if (spec.trap !== 'revoked') return new Proxy(target, handler);
    const { proxy, revoke } = Proxy.revocable(target, handler);
    revoke();
    return proxy;
  };

  const value = make(spec);
  return {
    value,
    objects,
    reads,
    mutate() {
      for (const object of objects) {
        let keys: (string | symbol)[];
        try {
          if (Object.isFrozen(object)) continue;
          keys = Reflect.ownKeys(object);
        } catch {
          continue; // a revoked proxy, or one whose traps throw: its target is in the set too
        }
        for (const key of keys.slice(0, 100)) {
          try {
            const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
            if (descriptor?.writable !== true) continue;
            Reflect.set(object, key, typeof descriptor.value === 'number' ? -1 : 'mutated');
          } catch {
            // a revoked proxy
          }
        }
      }
    },
  };
}

/** A short description of a spec for failure reports (containers cut after a few fields). */
export function describeSpec(spec: Spec, depth = 0): string {
  if (depth > 4) return '…';
  switch (spec.k) {
    case 'value': {
      const v = spec.v;
      if (typeof v === 'string') return v.length > 24 ? `string(${v.length})${JSON.stringify(v.slice(0, 12))}…` : JSON.stringify(v);
      if (typeof v === 'bigint') return `${String(v)}n`;
      if (typeof v === 'symbol') return 'Symbol()';
      if (Object.is(v, -0)) return '-0';
      return String(v);
    }
    case 'function':
      return 'function';
    case 'instance':
      return `new ${spec.of}`;
    case 'repeat':
      return `[${describeSpec(value(spec.item))} x ${spec.length}]`;
    case 'nest':
      return `${spec.array ? '[' : '{a:'}x${spec.levels}`;
    case 'ref':
      return '<cycle>';
    case 'proxy':
      return `Proxy(${spec.trap})${describeSpec(spec.target, depth + 1)}`;
    case 'array':
      return `[${spec.items.slice(0, 4).map((item) => describeSpec(item, depth + 1)).join(', ')}${spec.items.length > 4 ? `, … ${spec.items.length}` : ''}]`;
    case 'object': {
      const proto = spec.proto === 'object' ? '' : `(${spec.proto} proto)`;
      const fields = spec.fields.slice(0, 8).map((f) => {
        const key = typeof f.key === 'symbol' ? '[Symbol]' : JSON.stringify(f.key);
        const how = f.access === 'data' ? '' : `${f.access} `;
        const later = f.access === 'flips' && f.later !== undefined ? ` then ${describeSpec(f.later, depth + 1)}` : '';
        return `${key}: ${how}${describeSpec(f.value, depth + 1)}${later}`;
      });
      return `${proto}{${fields.join(', ')}${spec.fields.length > 8 ? `, … ${spec.fields.length}` : ''}}`;
    }
  }
}
