/**
 * `connectBus(node, options)`: joins a node made by `createNode` to other nodes over a NATS server.
 * The node's own port (`src/node/bus-port.ts`) is wired to the bus (`joinBus`): local events go
 * out, remote events come in through the node's validated, stamped, counted path, remote modules
 * are announced and retired in its registry as `<nodeId>/<module>`.
 */
import type { Logger } from 'pino';
import type { EventMap } from '../events/catalogue.js';
import { busPort } from '../node/bus-port.js';
import { nodeInternals, type ModactorNode } from '../node/node.js';
import type { BusSettings } from './bus-options.js';
import { joinBus, type Bus } from './bus.js';

/** Options of {@link connectBus}: the bus's settings and this node's id on the bus. */
export interface ConnectBusOptions extends BusSettings {
  /**
   * This node's id, unique on the bus: 1 to 128 characters of any kind (escaped in subjects).
   * Its modules are `<nodeId>/<module>` on the other nodes. A restarted node keeps its id.
   */
  readonly nodeId: string;
  /** The bus's logger (a child with `module: 'nats-bus'` is made). Default the node's. */
  readonly logger?: Logger;
}

/**
 * Joins `node` to the bus on `options.servers`. Resolves once connected, with the durable stream,
 * this node's durable consumer and the membership bucket in place and every subscription running;
 * from then on the node's events reach the other nodes' subscribers and theirs reach its own, and
 * every module of every node is announced to every `ModuleLoaded` subscriber exactly once.
 *
 * Rejects with a `ModactorError` for bad options (`invalid-argument` naming the field, or
 * `unknown-event-type` for a durable type the node's catalogue lacks) before connecting, and with
 * the NATS client's error when the server cannot be reached or refuses the credentials.
 *
 * The bus runs on the node's scheduler (heartbeats, deadlines) and logs through its logger. It
 * leaves on `bus.close()`, or by itself once the node has shut down (after `NodeShutdownCompleted`,
 * when the node's modules have stopped and their membership was withdrawn).
 *
 * @example
 * ```ts
 * import { createNode } from 'modactor';
 * import { connectBus } from 'modactor/nats';
 *
 * const node = createNode();
 * const bus = await connectBus(node, { servers: 'nats://127.0.0.1:4222', nodeId: 'eu-1', durableTypes: ['NewBlock'] });
 * await node.load(indexer);   // announced on every node as ModuleLoaded('eu-1/indexer')
 * await node.start();
 * // ...
 * await bus.close();          // or node.shutdown(), which closes it too
 * await node.shutdown();
 * ```
 */
export async function connectBus<E extends EventMap>(node: ModactorNode<E>, options: ConnectBusOptions): Promise<Bus> {
  const { nodeId, logger, ...settings } = (options ?? {}) as Partial<ConnectBusOptions>;
  const { router } = nodeInternals(node);
  const bus = await joinBus(busPort(node, nodeId as string), {
    ...(settings as BusSettings),
    scheduler: node.scheduler,
    logger: logger ?? node.system.logger,
    catalogue: router.catalogue,
  });
  // Leaves with the node: once it has shut down, nothing is left to send or to deliver to.
  const close = (): Promise<void> => {
    stop();
    return bus.close();
  };
  const stop = router.tap((event) => {
    if (event.type !== 'NodeShutdownCompleted') return;
    close().catch((error: unknown) => node.system.logger.warn({ err: error, module: 'nats-bus' }, 'leaving the bus after the node shut down failed'));
  });
  return { ...bus, close };
}
