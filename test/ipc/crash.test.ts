/**
 * Crashes of process modules with real child processes: killed, hung, failing handlers. Every test
 * awaits the lifecycle events that prove the state (no sleeping and polling).
 */
import { describe, expect, it } from 'vitest';
import { EventType, type NodeEvent } from '../../src/index.js';
import { echoModule } from '../../actors/process-modules.js';
import { sdkFixture } from './fixtures.js';
import { accounting, brief, hash, observer, realNode } from './helpers.js';

const isEcho = (event: NodeEvent): boolean => event.type === 'HealthCheck' && event.payload.checkType.startsWith('echo:');

describe('a process module killed mid-stream', () => {
  it('is removed, ModuleCrashed, restarted, re-announced, and its stats account for every event', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await node.load(obs.module);
    const echo = echoModule({ subscribe: [EventType.NewBlock] });
    await node.load(echo);
    const firstPid = echo.status().pid;
    expect(firstPid).toBeTypeOf('number');

    for (let h = 1; h <= 20; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(10)');
    process.kill(firstPid as number, 'SIGKILL');
    // More events while the child is dying: they are lost with it, or refused, but counted.
    for (let h = 21; h <= 40; h++) node.publisher.newBlock(hash(h), h);

    const crashed = await obs.waitForBrief('ModuleCrashed(echo)');
    expect((crashed.payload as { error: string }).error).toBe('process exited unexpectedly (signal SIGKILL)');
    await obs.waitForBrief('ModuleLoaded(echo)', { count: 2 });
    const secondPid = echo.status().pid;
    expect(secondPid).toBeTypeOf('number');
    expect(secondPid).not.toBe(firstPid);

    // In order: crashed, unloaded, then loaded again.
    const lifecycle = obs.seen.filter((s) => /Module\w+\(echo\)/.test(s));
    expect(lifecycle).toEqual(['ModuleLoaded(echo)', 'ModuleCrashed(echo)', 'ModuleUnloaded(echo)', 'ModuleLoaded(echo)']);
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['echo']);

    for (let h = 41; h <= 60; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(60)');
    expect((await node.modules()).find((m) => m.name === 'echo')).toMatchObject({ state: 'running', restarts: 1 });

    // Unloading waits for the child to exit, so every acknowledgement and echo has arrived.
    await node.unload('echo');
    const stats = await node.events.getDeliveryStats('echo');
    if (stats === undefined) throw new Error('no stats');
    const { offered, pending } = accounting(stats);
    expect(offered).toBe(60);
    expect(pending).toBe(0);
    expect(stats.handlerFailed).toBe(0);
    expect(stats.incarnations).toBe(2);
    // Every acknowledged event was echoed, once. The killed child may also have echoed the one it
    // was handling when it died: handled there, but never acknowledged, so counted lost.
    const echoes = obs.events.filter(isEcho).map(brief);
    expect(new Set(echoes).size).toBe(echoes.length);
    expect(echoes.length).toBeGreaterThanOrEqual(stats.handled);
    expect(echoes.length).toBeLessThanOrEqual(stats.handled + 1);
    expect(echoes).toContain('echo NewBlock(60)');
    expect(stats.handled + stats.lostOnCrash + stats.failed).toBe(60);
    expect(echo.status()).toMatchObject({ spawned: 2, crashes: 1, state: 'down' });
    await node.shutdown();
  });
});

describe('a hung process module', () => {
  it('stops heartbeating, is marked unhealthy, killed and restarted', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const echo = echoModule({ name: 'sleepy', subscribe: [EventType.NewBlock], heartbeat: { intervalMs: 200, missed: 3 } });
    await node.load(echo);
    const pid = echo.status().pid as number;
    process.kill(pid, 'SIGSTOP'); // hung: alive, silent

    const unhealthy = await obs.waitForBrief('ModuleHealthChanged(sleepy: healthy->unhealthy)');
    expect(unhealthy).toBeDefined();
    const crashed = await obs.waitForBrief('ModuleCrashed(sleepy)');
    expect((crashed.payload as { error: string }).error).toBe('no heartbeat for 3 intervals of 200 ms: unhealthy, killed');
    await obs.waitForBrief('ModuleLoaded(sleepy)', { count: 2 });
    expect(echo.status()).toMatchObject({ heartbeatTimeouts: 1, crashes: 1 });
    expect(echo.status().pid).not.toBe(pid);
    // The stopped child was killed, not left behind.
    expect(() => process.kill(pid, 0)).toThrow();

    // Restarted and serving again, healthy. (Health changes are coalesced: whether the `degraded`
    // of the crash is published before `healthy` depends on how soon the restart came.)
    node.publisher.newBlock(hash(1), 1);
    await obs.waitForBrief('echo NewBlock(1)');
    const healthy = await obs.waitFor((e) => e.type === 'ModuleHealthChanged' && e.payload.moduleName === 'sleepy' && e.payload.newHealth === 'healthy');
    expect(obs.events.indexOf(healthy)).toBeGreaterThan(obs.events.indexOf(crashed));
    await node.shutdown();
  });
});

describe('a process module whose handler fails', () => {
  it('counts handlerFailed, crashes with the handler error, and is restarted', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed]);
    await node.load(obs.module);
    const module = sdkFixture('fragile', 'crash-at', { subscribe: [EventType.NewBlock] }, ['--height', '3']);
    await node.load(module);
    for (let h = 1; h <= 5; h++) node.publisher.newBlock(hash(h), h);
    const crashed = await obs.waitForBrief('ModuleCrashed(fragile)');
    expect((crashed.payload as { error: string }).error).toBe('crashed at height 3');
    await obs.waitForBrief('ModuleLoaded(fragile)', { count: 2 });
    await node.unload('fragile');
    const stats = await node.events.getDeliveryStats('fragile');
    expect(stats).toMatchObject({ successful: 5, handled: 2, handlerFailed: 1, lostOnCrash: 2 });
    await node.shutdown();
  });
});
