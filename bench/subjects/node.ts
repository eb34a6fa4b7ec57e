import type { BenchEvent, Subject, SubjectFactory } from '../lib/subject.js';

/**
 * modactor at the node level: `createNode`, one module per subscriber (`defineModule` subscribing
 * to `NewBlock`), and `node.events.publish(event)` (validation, routing, non-blocking offers).
 *
 * The node layer (src/node/) is being written while this file is; it is reached through a dynamic
 * import and the minimal shape below, so the bench type-checks and runs (reporting "skipped")
 * before `createNode` is exported. Once the node layer lands, check the receipt field names in
 * {@link acceptedFrom} against the real `publish` receipt.
 */
interface NodeModuleSpec {
  name: string;
  version: string;
  subscribe: readonly string[];
  mailboxCapacity?: number;
  handle(event: BenchEvent, ctx: unknown): void | Promise<void>;
}

interface BenchNode {
  load(module: unknown): Promise<unknown>;
  start(): Promise<void>;
  events: { publish(event: BenchEvent): unknown };
  shutdown(): Promise<void>;
}

export interface NodeApi {
  createNode(options?: Record<string, unknown>): BenchNode;
  defineModule(spec: NodeModuleSpec): unknown;
  EventType: { readonly NewBlock: string; readonly ModuleLoaded: string };
}

/** The node API if `src/index.ts` exports it yet, otherwise null. */
export async function loadNodeApi(): Promise<NodeApi | null> {
  const api = (await import('../../src/index.js')) as unknown as Partial<NodeApi>;
  if (typeof api.createNode !== 'function' || typeof api.defineModule !== 'function' || api.EventType === undefined) return null;
  return api as NodeApi;
}

export const NODE_SKIPPED = 'node layer not built yet';

/** How many offers a publish receipt says were accepted (enqueued), whatever its exact shape. */
export function acceptedFrom(receipt: unknown, n: number): number {
  if (typeof receipt === 'object' && receipt !== null) {
    const r = receipt as Record<string, unknown>;
    for (const key of ['enqueued', 'delivered', 'successful', 'accepted']) {
      const v = r[key];
      if (typeof v === 'number') return v;
    }
    const dropped = r['dropped'] ?? r['channelFull'];
    const failed = r['failed'];
    if (typeof dropped === 'number') return n - dropped - (typeof failed === 'number' ? failed : 0);
  }
  throw new Error(`Unrecognized publish receipt ${JSON.stringify(receipt)}: update acceptedFrom in bench/subjects/node.ts`);
}

/**
 * Loads one module per subscriber into a fresh node; `publish` goes through `node.events.publish`.
 * With `storeDir`, the node keeps a store there (every NewBlock appended, group commit with
 * fdatasync: the cost of durability on the publish path).
 */
export function nodeSubject(api: NodeApi, options: { loadConcurrency?: number; storeDir?: string } = {}): SubjectFactory {
  return async ({ n, capacity, handler }) => {
    const node = api.createNode(options.storeDir === undefined ? {} : { store: { dir: options.storeDir } });
    await node.start();
    const concurrency = options.loadConcurrency ?? 100;
    for (let start = 0; start < n; start += concurrency) {
      const batch: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(n, start + concurrency); i++) {
        batch.push(
          node.load(
            api.defineModule({
              name: `sub${i}`,
              version: '1.0.0',
              subscribe: [api.EventType.NewBlock],
              mailboxCapacity: capacity,
              handle: (event) => handler(event, i),
            }),
          ),
        );
      }
      await Promise.all(batch);
    }
    const subject: Subject = {
      publish(event) {
        const receipt = node.events.publish(event);
        if (typeof receipt === 'object' && receipt !== null && typeof (receipt as PromiseLike<unknown>).then === 'function') {
          return (receipt as PromiseLike<unknown>).then((r) => acceptedFrom(r, n));
        }
        return acceptedFrom(receipt, n);
      },
    };
    return subject;
  };
}
