/** Helpers of the node-level store tests: nodes on a simulated disk and clock, modules that record. */
import {
  createNode,
  createSimulatedScheduler,
  defineModule,
  type ModactorNode,
  type ModuleDefinition,
  type NodeEvent,
  type NodeOptions,
  type SimulatedScheduler,
} from '../../src/index.js';
import { createMemoryDisk, type MemoryDisk } from '../../src/store/memory-disk.js';
import { openEventLog } from '../../src/store/event-log.js';
import { loadState } from '../../src/store/state-file.js';
import type { NodeStoreOptions } from '../../src/node/durable.js';

export const DIR = '/data';

/** A block hash for height `n`. */
export const hash = (n: number): string => n.toString(16).padStart(64, '0');

/** A NewBlock event of height `n`. */
export const block = (n: number): NodeEvent => ({ type: 'NewBlock', payload: { blockHash: hash(n), height: n } });

/** A node on `disk` (a fresh mount: a new process), on its own simulated scheduler. */
export function diskNode(
  disk: MemoryDisk,
  options: { seed?: number; store?: Partial<NodeStoreOptions>; node?: Partial<NodeOptions> } = {},
): { node: ModactorNode; scheduler: SimulatedScheduler } {
  const scheduler = createSimulatedScheduler({ seed: options.seed ?? 1, autoRun: false });
  const node = createNode({ scheduler, ...options.node, store: { dir: DIR, fs: disk.mount(), ...options.store } });
  return { node, scheduler };
}

/** Runs `round` (then the macrotasks it queued) until `promise` settles; throws past `limit` rounds. */
async function until<T>(promise: Promise<T>, round: () => Promise<unknown>, limit: number, name: string): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  for (let rounds = 0; !settled; rounds++) {
    if (rounds > limit) throw new Error(`${name}: the system went quiet with the promise still pending`);
    await round();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return tracked;
}

/** Drives `scheduler` (actors, virtual timers, the disk's promises) until `promise` settles. */
export function drive<T>(scheduler: SimulatedScheduler, promise: Promise<T>): Promise<T> {
  return until(promise, () => scheduler.runAll(), 200, 'drive');
}

/** Drives `scheduler` and lets every call waiting at `disk`'s gate through, until `promise` settles. */
export function driveGated<T>(scheduler: SimulatedScheduler, disk: MemoryDisk, promise: Promise<T>): Promise<T> {
  return until(promise, async () => {
    await scheduler.runAll();
    await disk.release(disk.waiting);
  }, 500, 'driveGated');
}

/**
 * Runs actors and the disk's promises until `promise` settles, without moving the clock: the event
 * log's group commit (a timer) does not happen meanwhile, so what was appended stays unwritten.
 */
export function withoutTime<T>(scheduler: SimulatedScheduler, promise: Promise<T>): Promise<T> {
  return until(promise, () => scheduler.runUntilIdle(), 100, 'withoutTime');
}

/** What `promise` rejected with (null when it resolved), driving `scheduler`. */
export async function rejection(scheduler: SimulatedScheduler, promise: Promise<unknown>): Promise<unknown> {
  return drive(scheduler, promise).then(
    () => null,
    (error: unknown) => error,
  );
}

/** Runs the node until nothing is left to do (actors, timers, disk calls). */
export async function settle(scheduler: SimulatedScheduler): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await scheduler.runAll();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A module recording the heights (and seqs) of the NewBlock events it handles. */
export function heights(
  name: string,
  options: {
    replay?: ModuleDefinition['replay'];
    mailboxCapacity?: number;
    handle?: (event: NodeEvent) => void | Promise<void>;
    restart?: ModuleDefinition['restart'];
    subscribe?: ModuleDefinition['subscribe'];
  } = {},
): { module: ModuleDefinition; seen: number[]; seqs: number[] } {
  const seen: number[] = [];
  const seqs: number[] = [];
  const module = defineModule({
    name,
    version: '1.0.0',
    subscribe: options.subscribe ?? ['NewBlock'],
    ...(options.replay === undefined ? {} : { replay: options.replay }),
    ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
    ...(options.restart === undefined ? {} : { restart: options.restart }),
    async handle(event) {
      await options.handle?.(event);
      if (event.type === 'NewBlock') {
        seen.push(event.payload.height);
        seqs.push(event.meta?.seq as number);
      }
    },
  });
  return { module, seen, seqs };
}

/** Heights from `from` to `to` inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** The NewBlock heights in the log on `disk`, in order (a fresh read-only look). */
export async function loggedHeights(disk: MemoryDisk): Promise<number[]> {
  const log = await openEventLog({ dir: DIR, fs: disk.mount(), readOnly: true });
  const out: number[] = [];
  for await (const event of log.read()) if (event.type === 'NewBlock') out.push((event.payload as { height: number }).height);
  await log.close();
  return out;
}

/** What the saved state holds for `module` on `disk`. */
export async function savedModule(disk: MemoryDisk, module: string) {
  const { loaded } = await loadState(disk.mount(), DIR);
  return loaded.modules[module];
}

export { createMemoryDisk };
