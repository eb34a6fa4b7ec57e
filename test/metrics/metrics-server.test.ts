import { afterEach, describe, expect, it } from 'vitest';
import { createNode, defineModule, isModactorError, type ModactorNode, type ModuleDefinition, type ModuleInfo } from '../../src/index.js';
import { createNodeMetrics, serveMetrics, type MetricsServer } from '../../src/metrics.js';
import { injectNodeFault } from '../../src/node/node.js';
import { gate, simNode } from '../scenarios/helpers.js';
import { parseExposition, series, type Exposition } from './exposition.js';

const hash = (n: number): string => n.toString(16).padStart(64, '0');
const BLOCKS = 20;

/** A node with a steady, a stuck (capacity 2), a crashing and a watching module, after a burst of blocks. */
async function busyNode(): Promise<{ node: ModactorNode; release: () => void }> {
  const node = createNode({ shutdownTimeoutMs: 500 });
  const steadyDone = gate();
  const stuckHeld = gate();
  const stuckBusy = gate();
  const crashyBack = gate();
  let crashyLoads = 0;
  const modules: ModuleDefinition[] = [
    defineModule({
      name: 'steady',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      handle(event) {
        if (event.type === 'NewBlock' && event.payload.height === BLOCKS) steadyDone.open();
      },
    }),
    defineModule({
      name: 'stuck',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      mailboxCapacity: 2,
      handle() {
        stuckBusy.open();
        return stuckHeld.promise;
      },
    }),
    defineModule({
      name: 'crashy',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      handle(event) {
        if (event.type === 'NewBlock' && event.payload.height === 3) throw new Error('boom at 3');
      },
    }),
    defineModule({
      name: 'watcher',
      version: '1.0.0',
      subscribe: ['ModuleLoaded'],
      handle(event) {
        if (event.type === 'ModuleLoaded' && event.payload.moduleName === 'crashy' && ++crashyLoads === 2) crashyBack.open();
      },
    }),
  ];
  for (const m of modules) await node.load(m);
  node.publisher.newBlock(hash(1), 1);
  await stuckBusy.promise;
  for (let height = 2; height <= BLOCKS; height++) node.publisher.newBlock(hash(height), height);
  await Promise.all([steadyDone.promise, crashyBack.promise]);
  return { node, release: stuckHeld.open };
}

/** Modules by state and health, keyed as the series of `modactor_modules` are. */
function census(modules: readonly ModuleInfo[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of modules) out[`health=${m.health},state=${m.state}`] = (out[`health=${m.health},state=${m.state}`] ?? 0) + 1;
  return out;
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(url, init);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

async function scrape(server: MetricsServer): Promise<Exposition> {
  const { status, type, body } = await get(`${server.url}/metrics`);
  expect(status).toBe(200);
  expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(body);
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function started(node: ModactorNode, release: () => void, options: Parameters<typeof createNodeMetrics>[1] = {}): Promise<MetricsServer> {
  const server = await serveMetrics(node, { port: 0, registry: createNodeMetrics(node, options) });
  cleanup.push(async () => {
    release();
    await node.shutdown();
    await server.close();
  });
  return server;
}

describe('serveMetrics /metrics', () => {
  it('serves the delivery statistics, published counts and module list of the node, per module', async () => {
    const { node, release } = await busyNode();
    const server = await started(node, release);
    const metrics = await scrape(server);
    const stats = await node.events.getAllDeliveryStats();
    const modules = await node.modules();
    const published = await node.events.getPublishedCounts();

    const expected = (pick: (name: string) => number): Record<string, number> =>
      Object.fromEntries([...stats.keys()].map((name) => [`module=${name}`, pick(name)]));
    const stat = (name: string) => stats.get(name) ?? expect.unreachable(`stats of ${name}`);
    expect(series(metrics, 'modactor_events_delivered_total')).toEqual(expected((n) => stat(n).successful));
    expect(series(metrics, 'modactor_events_handled_total')).toEqual(expected((n) => stat(n).handled));
    const dropped: Record<string, number> = {};
    for (const [name, s] of stats) {
      dropped[`module=${name},reason=channel_full`] = s.channelFull;
      dropped[`module=${name},reason=closed`] = s.failed;
      dropped[`module=${name},reason=serialization`] = s.serializationFailed;
      dropped[`module=${name},reason=lost_on_crash`] = s.lostOnCrash;
    }
    expect(series(metrics, 'modactor_events_dropped_total')).toEqual(dropped);
    expect(series(metrics, 'modactor_events_published_total')).toEqual(Object.fromEntries([...published].map(([t, c]) => [`type=${t}`, c])));
    const info = (name: string) => modules.find((m) => m.name === name) ?? expect.unreachable(`module ${name}`);
    expect(series(metrics, 'modactor_mailbox_depth')).toEqual(expected((n) => info(n).queued));
    expect(series(metrics, 'modactor_module_restarts_total')).toEqual(expected((n) => info(n).restarts));
    expect(series(metrics, 'modactor_module_health')).toEqual(expected((n) => ({ healthy: 0, degraded: 1, unhealthy: 2 })[info(n).health]));

    // And those statistics are what the burst did: 1 in hand + 2 queued at the stuck module, the rest dropped.
    expect(series(metrics, 'modactor_events_dropped_total')['module=stuck,reason=channel_full']).toBe(BLOCKS - 3);
    expect(series(metrics, 'modactor_mailbox_depth')['module=stuck']).toBe(2);
    expect(series(metrics, 'modactor_events_delivered_total')['module=steady']).toBe(BLOCKS);
    expect(series(metrics, 'modactor_module_restarts_total')['module=crashy']).toBe(1);
    expect(series(metrics, 'modactor_events_published_total')['type=NewBlock']).toBe(BLOCKS);
    expect(series(metrics, 'modactor_modules')).toEqual(census(modules));
    expect(Object.values(census(modules)).reduce((a, b) => a + b)).toBe(4);
    expect(Object.fromEntries(metrics.types)).toMatchObject({
      modactor_events_delivered_total: 'counter',
      modactor_events_dropped_total: 'counter',
      modactor_events_published_total: 'counter',
      modactor_module_restarts_total: 'counter',
      modactor_mailbox_depth: 'gauge',
      modactor_module_health: 'gauge',
      modactor_modules: 'gauge',
    });
  });

  it('gives the first maxModules modules a label of their own and sums the others under _other', async () => {
    const { node, release } = await busyNode();
    const server = await started(node, release, { maxModules: 2 });
    const metrics = await scrape(server);
    const stats = await node.events.getAllDeliveryStats();
    const sum = (pick: (s: NonNullable<ReturnType<typeof stats.get>>) => number): number =>
      ['crashy', 'watcher'].reduce((total, name) => total + pick(stats.get(name) ?? expect.unreachable(name)), 0);
    // Load order: steady and stuck come first.
    expect(Object.keys(series(metrics, 'modactor_events_delivered_total')).sort()).toEqual(['module=_other', 'module=steady', 'module=stuck']);
    expect(series(metrics, 'modactor_events_delivered_total')['module=_other']).toBe(sum((s) => s.successful));
    expect(series(metrics, 'modactor_events_handled_total')['module=_other']).toBe(sum((s) => s.handled));
    expect(series(metrics, 'modactor_events_dropped_total')['module=_other,reason=closed']).toBe(sum((s) => s.failed));
    expect(series(metrics, 'modactor_module_restarts_total')['module=_other']).toBe(1);
    expect(series(metrics, 'modactor_modules')).toEqual(census(await node.modules()));
  });

  it('keeps the exposition bounded for a node with 500 modules', async () => {
    const node = createNode();
    for (let i = 0; i < 500; i++) await node.load(defineModule({ name: `m${i}`, version: '1.0.0', subscribe: ['NewBlock'], handle() {} }));
    const server = await started(node, () => undefined, { maxModules: 20 });
    const metrics = await scrape(server);
    const delivered = series(metrics, 'modactor_events_delivered_total');
    expect(Object.keys(delivered)).toHaveLength(21);
    expect(delivered['module=m0']).toBe(0);
    expect(delivered['module=m19']).toBe(0);
    expect(delivered['module=m20']).toBeUndefined();
    expect(metrics.samples.length).toBeLessThan(300);
    expect(series(metrics, 'modactor_modules')).toEqual({ 'health=healthy,state=running': 500 });
  });

  it('still serves the final statistics once the node stopped, with no module listed', async () => {
    const { node, release } = await busyNode();
    const server = await started(node, release);
    release();
    await node.shutdown();
    const metrics = await scrape(server);
    const stats = await node.events.getAllDeliveryStats();
    expect(series(metrics, 'modactor_events_handled_total')['module=stuck']).toBe(stats.get('stuck')?.handled);
    expect(series(metrics, 'modactor_modules')).toEqual({});
  });

  it('refuses a maxModules that is not a non-negative integer with a typed error', () => {
    const node = createNode();
    cleanup.push(() => node.shutdown());
    for (const bad of [-1, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => createNodeMetrics(node, { maxModules: bad })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
  });
});

describe('serveMetrics probes', () => {
  it('answers /healthz, and /readyz once the node started, 503 while it shuts down and once it stopped', async () => {
    const node = createNode({ shutdownTimeoutMs: 5000 });
    const stopping = gate();
    const stopEntered = gate();
    await node.load(
      defineModule({
        name: 'slow-stop',
        version: '1.0.0',
        subscribe: [],
        create: () => ({
          handle() {},
          stop: async () => {
            stopEntered.open();
            await stopping.promise;
          },
        }),
      }),
    );
    const server = await serveMetrics(node, { port: 0 });
    cleanup.push(() => server.close());
    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: not started (node.start() not called yet)\n' });
    await node.start();
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });

    const shutdown = node.shutdown();
    await stopEntered.promise;
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: shutting-down\n' });
    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200 });
    stopping.open();
    await shutdown;
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: stopped\n' });
  });

  it('holds /readyz at 503 while the application\'s ready() condition does not hold', async () => {
    const node = createNode();
    let connected = false;
    const server = await serveMetrics(node, { port: 0, ready: () => connected });
    cleanup.push(async () => {
      await node.shutdown();
      await server.close();
    });
    await node.start();
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: the application is not ready\n' });
    connected = true;
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 200 });
  });

  it('answers 503 with the failure on /readyz, and 500 on /metrics, once a node actor failed', async () => {
    const { node, scheduler } = simNode(7);
    await node.load(defineModule({ name: 'm', version: '1.0.0', subscribe: ['NewBlock'], handle() {} }));
    await node.start();
    const server = await serveMetrics(node, { port: 0 });
    cleanup.push(async () => {
      await node.shutdown();
      await server.close();
    });
    injectNodeFault(node, 'events', new Error('a bug in a node actor'));
    await scheduler.runAll();
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/^not ready: failed: .*\/events/);
    expect(await get(`${server.url}/metrics`)).toMatchObject({ status: 500, body: 'metrics unavailable\n' });
  });

  it('answers 404 to other paths and 405 to other methods', async () => {
    const node = createNode();
    const server = await serveMetrics(node, { port: 0 });
    cleanup.push(async () => {
      await node.shutdown();
      await server.close();
    });
    expect((await get(`${server.url}/`)).status).toBe(404);
    expect((await get(`${server.url}/metrics/x`)).status).toBe(404);
    expect((await get(`${server.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await get(`${server.url}/metrics?x=1`)).status).toBe(200);
  });

  it('refuses a bad port with a typed error before listening', async () => {
    const node = createNode();
    cleanup.push(() => node.shutdown());
    for (const port of [-1, 65_536, 1.5]) {
      const error: unknown = await serveMetrics(node, { port }).catch((e: unknown) => e);
      expect(isModactorError(error, 'invalid-argument')).toBe(true);
    }
  });
});
