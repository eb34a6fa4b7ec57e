import { EventType, defineModule, object, optional, positiveInteger, type Check, type Hash, type ModuleDefinition } from 'modactor';

/** Options of the {@link indexer} module. */
export interface IndexerOptions {
  /** Module name; default `indexer`. */
  readonly name?: string;
  /** Mailbox capacity; default the node's (100). */
  readonly mailboxCapacity?: number;
}

/**
 * The options {@link indexer} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  mailboxCapacity: optional(positiveInteger),
} satisfies Record<Exclude<keyof IndexerOptions, 'name'>, Check<unknown>>);

/**
 * The indexer: follows the chain from `NewBlock`, `BlockDisconnected` and `ChainReorg` and keeps a
 * tip (height and hash). A block that does not extend the tip by one is a gap: the indexer reports
 * itself `degraded` until it is back in step, so a missed block shows up in the node's health.
 *
 * @example
 * ```ts
 * import indexer from './actors/indexer.js';
 * await node.load(indexer());
 * ```
 */
export default function indexer(options: IndexerOptions = {}): ModuleDefinition {
  return defineModule({
    name: options.name ?? 'indexer',
    version: '1.0.0',
    subscribe: [EventType.NewBlock, EventType.BlockDisconnected, EventType.ChainReorg, EventType.ModuleLoaded, EventType.ModuleUnloaded],
    ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
    create(ctx) {
      // Fresh per incarnation: a restarted indexer starts from the next block it sees.
      let tip: { height: number; hash: Hash } | null = null;
      let inStep = true;
      const step = (ok: boolean): void => {
        if (ok === inStep) return;
        inStep = ok;
        ctx.reportHealth(ok ? 'healthy' : 'degraded');
      };
      return {
        handle(event) {
          switch (event.type) {
            case 'NewBlock': {
              const { height, blockHash } = event.payload;
              step(tip === null || height === tip.height + 1);
              tip = { height, hash: blockHash };
              return;
            }
            case 'BlockDisconnected':
              // The tip goes back one block; its hash is known again with the next block.
              if (tip !== null && event.payload.height === tip.height) tip = { height: tip.height - 1, hash: tip.hash };
              return;
            case 'ChainReorg':
              if (tip !== null) tip = { height: tip.height, hash: event.payload.newTip };
              return;
            default:
              return;
          }
        },
      };
    },
  });
}
