import { EventType, defineModule, nonNegativeInteger, object, optional, positiveInteger, type Check, type ModuleDefinition } from 'modactor';

/** Options of the {@link mempoolWatcher} module. */
export interface MempoolWatcherOptions {
  readonly name?: string;
  /** Mailbox capacity; a watcher that must absorb bursts wants a big one. Default the node's. */
  readonly mailboxCapacity?: number;
  /** Transactions a block confirms (removes from the pool). Default 300. */
  readonly blockCapacity?: number;
  /** Pool size above which the watcher reports itself `degraded`. Default 300. */
  readonly highWater?: number;
  /** Pool size at or below which it reports `healthy` again. Default 150. */
  readonly lowWater?: number;
}

/**
 * The options {@link mempoolWatcher} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  mailboxCapacity: optional(positiveInteger),
  blockCapacity: optional(nonNegativeInteger),
  highWater: optional(nonNegativeInteger),
  lowWater: optional(nonNegativeInteger),
} satisfies Record<Exclude<keyof MempoolWatcherOptions, 'name'>, Check<unknown>>);

/**
 * The mempool watcher: adds every `NewTransaction` to a pool and lets every `NewBlock` confirm up
 * to `blockCapacity` of them, oldest first. A pool above `highWater` makes it `degraded` (a flood
 * shows up as a health change), back under `lowWater` it is `healthy` again.
 */
export default function mempoolWatcher(options: MempoolWatcherOptions = {}): ModuleDefinition {
  const blockCapacity = options.blockCapacity ?? 300;
  const highWater = options.highWater ?? 300;
  const lowWater = options.lowWater ?? 150;
  return defineModule({
    name: options.name ?? 'mempool-watcher',
    version: '1.0.0',
    subscribe: [EventType.NewTransaction, EventType.NewBlock],
    ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
    create(ctx) {
      const pool = new Set<string>();
      let congested = false;
      const check = (): void => {
        if (!congested && pool.size > highWater) {
          congested = true;
          ctx.reportHealth('degraded');
        } else if (congested && pool.size <= lowWater) {
          congested = false;
          ctx.reportHealth('healthy');
        }
      };
      return {
        handle(event) {
          if (event.type === 'NewTransaction') {
            pool.add(event.payload.txHash);
          } else if (event.type === 'NewBlock') {
            let confirmed = 0;
            for (const tx of pool) {
              if (confirmed++ >= blockCapacity) break;
              pool.delete(tx);
            }
          }
          check();
        },
      };
    },
  });
}
