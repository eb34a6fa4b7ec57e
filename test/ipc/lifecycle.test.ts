/**
 * Lifecycle across the process boundary: hotloading, graceful stop and shutdown, a stop the child
 * ignores, and a node that dies under its children.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EventType, type NodeEvent } from '../../src/index.js';
import { blockIndexerModule, echoModule } from '../../actors/process-modules.js';
import { exited } from '../../torture/lib/processes.js';
import { sdkFixture } from './fixtures.js';
import { hash, observer, realNode } from './helpers.js';

const isEcho = (s: string): boolean => s.startsWith('echo ');

describe("the guide's hotload scenario across processes", () => {
  it('gives a process module loaded into a running node every loaded module, and announces it to them', { timeout: 30_000 }, async () => {
    const node = realNode();
    const a = observer('a', [EventType.ModuleLoaded, EventType.NewBlock, EventType.HealthCheck]);
    await node.load(a.module);
    node.publisher.newBlock(hash(1), 1);
    await a.waitForBrief('NewBlock(1)');
    await node.load(echoModule({ name: 'b' }));
    node.publisher.newBlock(hash(2), 2);
    await a.waitForBrief('echo NewBlock(2)');
    // b (in its own process) saw a by replay, itself once, then the live block.
    expect(a.seen.filter(isEcho)).toEqual(['echo ModuleLoaded(a)', 'echo ModuleLoaded(b)', 'echo NewBlock(2)']);
    expect(a.seen.filter((s) => !isEcho(s))).toEqual(['ModuleLoaded(a)', 'NewBlock(1)', 'ModuleLoaded(b)', 'NewBlock(2)']);

    // A third module, hotloaded into the process-module node: announced to both, once.
    await node.load(echoModule({ name: 'c' }));
    await a.waitForBrief('echo ModuleLoaded(c)', { count: 2 });
    expect(a.seen.filter((s) => s === 'echo ModuleLoaded(c)')).toHaveLength(2);
    expect(a.seen.filter((s) => s === 'ModuleLoaded(c)')).toHaveLength(1);
    expect(a.seen.filter((s) => s === 'echo ModuleLoaded(b)')).toHaveLength(2); // b live, c by replay
    expect(await node.events.getLoadedModules()).toEqual(['a', 'b', 'c']);
    await node.shutdown();
  });
});

describe('the bundled block indexer', () => {
  it('indexes blocks in its own process and answers maintenance with its figures', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.MaintenanceStarted, EventType.MaintenanceCompleted, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    await node.load(blockIndexerModule());
    for (const h of [1, 2, 3, 5]) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('ModuleHealthChanged(block-indexer: healthy->degraded)'); // 4 is missing
    node.publisher.newBlock(hash(4), 4);
    await obs.waitForBrief('ModuleHealthChanged(block-indexer: degraded->healthy)');
    node.publisher.dataMaintenance('cleanup', 'low', 'manual');
    const completed = await obs.waitFor((e) => e.type === 'MaintenanceCompleted');
    expect(completed.payload).toMatchObject({ maintenanceType: 'block-index', success: true, results: { indexed: 5, tipHeight: 5, pruned: 0 } });
    expect(obs.seen.filter((s) => s.startsWith('Maintenance'))).toEqual(['MaintenanceStarted', 'MaintenanceCompleted']);
    await node.shutdown();
  });
});

describe('stopping a process module', () => {
  it('lets it take NodeShutdown and stop gracefully on shutdown, without a crash', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleCrashed, EventType.ModuleStopped]);
    await node.load(obs.module);
    const echo = echoModule({ subscribe: [EventType.NodeShutdown, EventType.NewBlock] });
    await node.load(echo);
    const pid = echo.status().pid as number;
    node.publisher.newBlock(hash(7), 7);
    await node.shutdown();
    // The NodeShutdown barrier waited for the child to handle it (its echo arrived first).
    expect(obs.seen).toEqual(['echo NewBlock(7)', 'echo NodeShutdown', 'ModuleStopped(echo)']);
    expect(echo.status()).toMatchObject({ state: 'down', crashes: 0 });
    expect(exited(pid)).toBe(true);
  });

  it('kills a child that does not stop within its shutdown timeout, and counts what it held as lost', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await node.load(obs.module);
    const stuck = sdkFixture('stubborn', 'stuck', { subscribe: [EventType.NewBlock], shutdownTimeoutMs: 600 });
    await node.load(stuck);
    const pid = stuck.status().pid as number;
    for (let h = 0; h < 5; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitFor((e: NodeEvent) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    await node.unload('stubborn');
    expect(exited(pid)).toBe(true);
    expect(obs.seen).toEqual(['HealthCheck(stuck)', 'ModuleUnloaded(stubborn)']);
    expect(await node.events.getDeliveryStats('stubborn')).toMatchObject({ successful: 5, handled: 0, lostOnCrash: 5 });
    expect(stuck.status()).toMatchObject({ state: 'down', crashes: 0 });
    await node.shutdown();
  });
});

describe('a node killed under its process modules', () => {
  it('takes its children with it: they exit when their channel closes', { timeout: 30_000 }, async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const script = new URL('./fixtures/host-script.ts', import.meta.url).pathname;
    // The host imports actors/, which import `modactor`: resolved to this checkout's sources.
    const host = spawn(process.execPath, ['--conditions=modactor-source', '--import', tsx, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = new Promise<void>((resolve) => host.on('close', () => resolve()));
    const lines = createInterface({ input: host.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('ready ')) resolve(line);
      });
      host.on('exit', (code) => reject(new Error(`host exited early (${String(code)})`)));
    });
    const pids = ready.split(' ').slice(1).map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(exited(pid)).toBe(false);

    host.kill('SIGKILL');
    // The children inherited the host's stdout and stderr: 'close' (every pipe at end-of-file)
    // comes only once the host and every child holding them have exited.
    await closed;
    for (const pid of pids) expect(exited(pid)).toBe(true);
  });
});
