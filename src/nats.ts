/**
 * `modactor/nats`: nodes on several machines sharing one bus over a NATS server. Core NATS carries
 * events at most once, JetStream the durable types (replayed to a node that was away), a
 * JetStream key-value bucket the membership; remote modules are `<nodeId>/<module>` everywhere.
 * Also a real `nats-server` for tests and local clusters, and the bus's Prometheus metrics.
 *
 * @example
 * ```ts
 * import { createNode } from 'modactor';
 * import { connectBus } from 'modactor/nats';
 * const node = createNode();
 * const bus = await connectBus(node, { servers: 'nats://10.0.0.5:4222', nodeId: 'eu-1', durableTypes: ['NewBlock'] });
 * ```
 */
export { connectBus } from './nats/connect-bus.js';
export type { ConnectBusOptions } from './nats/connect-bus.js';
export type { Bus, BusConnectionChange } from './nats/bus.js';
export type { BusSettings, BusTlsOptions } from './nats/bus-options.js';
export type { BusStats, BusPathStats } from './nats/bus-stats.js';
export { createBusMetrics } from './nats/bus-metrics.js';
export type { BusMetricsOptions, BusMetricsSource } from './nats/bus-metrics.js';
export { startNatsServer, obtainNatsServer, NatsServerUnavailable, MIN_NATS_SERVER_VERSION } from './nats/server.js';
export type { RunningNatsServer, NatsServerOptions, NatsServerBinary, ObtainOptions } from './nats/server.js';
