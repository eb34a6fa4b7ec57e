/**
 * `modactor/metrics`: a node's Prometheus metrics (prom-client), collected at scrape time from the
 * statistics the node keeps, and an HTTP server for `/metrics`, `/healthz` and `/readyz`.
 *
 * @example
 * ```ts
 * import { serveMetrics } from 'modactor/metrics';
 * const server = await serveMetrics(node, { port: 9464 });
 * ```
 */
export { createNodeMetrics } from './metrics/node-metrics.js';
export type { MetricsSource, NodeMetricsOptions } from './metrics/node-metrics.js';
export { serveMetrics } from './metrics/metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics/metrics-server.js';
