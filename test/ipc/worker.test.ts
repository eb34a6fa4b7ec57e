/**
 * Worker-thread isolation: the same manifest, protocol and contract as a child process.
 */
import { describe, expect, it } from 'vitest';
import { EventType } from '../../src/index.js';
import { echoModule } from '../../actors/process-modules.js';
import { sdkFixture } from './fixtures.js';
import { hash, observer, realNode } from './helpers.js';

describe('a worker-thread module', () => {
  it('handshakes, gets the replay, is announced, handles events in order and stops gracefully', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleStopped]);
    await node.load(obs.module);
    const worker = echoModule({ name: 'w', isolation: 'worker' });
    expect(worker.kind).toBe('worker');
    await node.load(worker);
    expect(worker.status()).toMatchObject({ isolation: 'worker', state: 'running', pid: undefined });
    expect(worker.status().threadId).toBeTypeOf('number');
    for (let h = 1; h <= 50; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(50)');
    expect(obs.seen.filter((s) => s.startsWith('echo'))).toEqual([
      'echo ModuleLoaded(obs)',
      'echo ModuleLoaded(w)',
      ...Array.from({ length: 50 }, (_, i) => `echo NewBlock(${i + 1})`),
    ]);
    await node.unload('w');
    expect(await node.events.getDeliveryStats('w')).toMatchObject({ successful: 52, handled: 52, lostOnCrash: 0 });
    expect(worker.status()).toMatchObject({ state: 'down', crashes: 0 });
    await node.shutdown();
  });

  it('gets the declarative filter of its manifest, evaluated by the node', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const worker = echoModule({ name: 'wf', isolation: 'worker', subscribe: [EventType.NewBlock], filter: { NewBlock: { height: { in: [2, 4] } } } });
    await node.load(worker);
    for (let h = 1; h <= 5; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(4)');
    expect(obs.seen).toEqual(['echo NewBlock(2)', 'echo NewBlock(4)']);
    expect(await node.events.getDeliveryStats('wf')).toMatchObject({ successful: 2, filtered: 3 });
    await node.shutdown();
  });

  it('crashes on a failing handler and is restarted, with the same accounting', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed]);
    await node.load(obs.module);
    const module = sdkFixture('wfragile', 'crash-at', { subscribe: [EventType.NewBlock], isolation: 'worker' }, ['--height', '2']);
    await node.load(module);
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    const crashed = await obs.waitForBrief('ModuleCrashed(wfragile)');
    expect((crashed.payload as { error: string }).error).toBe('crashed at height 2');
    await obs.waitForBrief('ModuleLoaded(wfragile)', { count: 2 });
    node.publisher.newBlock(hash(4), 4);
    await obs.waitForBrief('echo NewBlock(4)');
    await node.unload('wfragile');
    expect(await node.events.getDeliveryStats('wfragile')).toMatchObject({ successful: 4, handled: 2, handlerFailed: 1, lostOnCrash: 1 });
    await node.shutdown();
  });

  it('is detected hung when its thread spins, terminated and restarted', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const module = sdkFixture('spinner', 'spin-at', { subscribe: [EventType.NewBlock], isolation: 'worker', heartbeat: { intervalMs: 100, missed: 3 } }, [
      '--height',
      '1',
    ]);
    await node.load(module);
    node.publisher.newBlock(hash(1), 1);
    await obs.waitForBrief('ModuleHealthChanged(spinner: healthy->unhealthy)');
    const crashed = await obs.waitForBrief('ModuleCrashed(spinner)');
    expect((crashed.payload as { error: string }).error).toBe('no heartbeat for 3 intervals of 100 ms: unhealthy, killed');
    await obs.waitForBrief('ModuleLoaded(spinner)', { count: 2 });
    expect(module.status()).toMatchObject({ heartbeatTimeouts: 1, state: 'running' });
    await node.shutdown();
  });
});
