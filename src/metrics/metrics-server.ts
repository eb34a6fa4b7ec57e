/**
 * A small HTTP server (node:http) for operators: `/metrics` (the Prometheus exposition),
 * `/healthz` (the process is alive) and `/readyz` (the node is running, not shutting down).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ModactorError, describeValue } from '../kernel/errors.js';
import type { NodeStatus } from '../node/node.js';
import { createNodeMetrics, type MetricsSource } from './node-metrics.js';

/** Options of {@link serveMetrics}. */
export interface MetricsServerOptions {
  /** The port; 0 picks a free one (read it from {@link MetricsServer.port}). */
  readonly port: number;
  /** The interface to listen on. Default `127.0.0.1`; `0.0.0.0` to be scraped from elsewhere. */
  readonly host?: string;
  /** The registry `/metrics` serves; default `createNodeMetrics(node)`. */
  readonly registry?: Registry;
  /** One more condition of readiness, the application's own (e.g. "its database is reachable"); default none. */
  readonly ready?: () => boolean;
}

/** Why a node is not ready, or null when it is: started, running, and the application's condition holds. */
function notReady(status: NodeStatus, ready: (() => boolean) | undefined): string | null {
  if (status.state !== 'running') return status.failure === undefined ? status.state : `${status.state}: ${status.failure}`;
  if (!status.started) return 'not started (node.start() not called yet)';
  return (ready?.() ?? true) ? null : 'the application is not ready';
}

/** A running metrics server. */
export interface MetricsServer {
  /** Where it listens, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves a node's metrics and probes over HTTP:
 *
 * - `GET /metrics`: the registry's exposition (Prometheus text format)
 * - `GET /healthz`: 200 while the process serves requests
 * - `GET /readyz`: 200 once the node was started (`node.start()`) while it runs (not shutting
 *   down, stopped or failed) and `ready()` holds; else 503 saying why
 *
 * Other paths answer 404, other methods 405. Resolves once it listens.
 *
 * @example
 * ```ts
 * import { serveMetrics } from 'modactor/metrics';
 * const server = await serveMetrics(node, { port: 9464, host: '0.0.0.0' });
 * // ... on shutdown:
 * await node.shutdown();
 * await server.close();
 * ```
 */
export async function serveMetrics(node: MetricsSource, options: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isSafeInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new ModactorError('invalid-argument', `expected a port from 0 to 65535, got ${describeValue(options.port)}`);
  }
  const registry = options.registry ?? createNodeMetrics(node);
  const log = node.system.logger.child({ component: 'metrics' });
  const host = options.host ?? '127.0.0.1';

  const answer = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') return answer(res, 404, 'not found: /metrics, /healthz, /readyz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return answer(res, 405, `method not allowed: ${String(req.method)}\n`);
    }
    if (path === '/healthz') return answer(res, 200, 'ok\n');
    if (path === '/readyz') {
      const why = notReady(node.status(), options.ready);
      return answer(res, why === null ? 200 : 503, why === null ? 'ready\n' : `not ready: ${why}\n`);
    }
    try {
      answer(res, 200, await registry.metrics(), registry.contentType);
    } catch (error) {
      log.warn({ err: error }, 'metrics scrape failed');
      answer(res, 500, 'metrics unavailable\n');
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'metrics server error'));
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'serving metrics');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
