/**
 * The trust boundary: every message from a module child is validated. Misbehaving modules are
 * disconnected with a clear reason; the host and the other modules keep running.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, isModactorError, type NodeEvent } from '../../src/index.js';
import { echoModule } from '../../actors/process-modules.js';
import { rawFixture, sdkFixture } from './fixtures.js';
import { hash, logCapture, observer, realNode } from './helpers.js';

const errorOf = (event: NodeEvent): string => (event.payload as { error: string }).error;

describe('a module sending malformed, oversized or out-of-protocol messages', () => {
  it('is disconnected with a clear reason while the host and the other modules keep running', { timeout: 40_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.NewBlock]);
    await node.load(obs.module);
    const echo = echoModule({ subscribe: [EventType.NewBlock] });
    await node.load(echo);
    const offenders = {
      flooder: rawFixture('flooder', 'garbage'),
      giant: rawFixture('giant', 'oversized'),
      stranger: rawFixture('stranger', 'unknown-type'),
      overeager: rawFixture('overeager', 'ack-overflow'),
      burrower: rawFixture('burrower', 'deep', { maxMessageBytes: 2 * 1024 * 1024 }),
    };
    // Loaded side by side; each behaves until its first events, then misbehaves and is disconnected.
    await Promise.all(Object.values(offenders).map((m) => node.load(m)));
    const crashes = Object.keys(offenders).map((name) => obs.waitForBrief(`ModuleCrashed(${name})`));
    node.publisher.newBlock(hash(0), 0);
    const [flooder, giant, stranger, overeager, burrower] = await Promise.all(crashes);
    expect(errorOf(flooder as NodeEvent)).toMatch(/^protocol violation: malformed message: not JSON .*: disconnected$/);
    expect(errorOf(giant as NodeEvent)).toMatch(/^protocol violation: a message of more than \d+ bytes exceeds the limit of 65536: disconnected$/);
    expect(errorOf(stranger as NodeEvent)).toBe('protocol violation: unknown message type "bogus": disconnected');
    expect(errorOf(overeager as NodeEvent)).toBe('protocol violation: ack of 6 events with 1 in flight: disconnected');
    expect(errorOf(burrower as NodeEvent)).toBe('protocol violation: message nested more than 66 levels deep: disconnected');
    for (const module of Object.values(offenders)) {
      const status = module.status();
      expect(status).toMatchObject({ protocolViolations: 1, crashes: 1, spawned: 1, framesViolating: 1 });
      // Every frame read ended in exactly one outcome.
      expect(status.framesReceived).toBe(status.framesAccepted + status.framesRefused + status.framesViolating);
    }
    // The megabyte nested 512 Ki levels deep was refused after a scan, never parsed: only the
    // small frames before it (hello, ready, heartbeats) were.
    expect(offenders.burrower.status().charsParsed).toBeLessThan(1000);

    // The host and the well-behaved module are fine: the offenders are gone (temporary), echo serves.
    for (let h = 1; h <= 10; h++) node.publisher.newBlock(hash(h), h);
    await obs.waitForBrief('echo NewBlock(10)');
    for (const name of Object.keys(offenders)) {
      expect((await node.events.getDeliveryStats(name))?.lostOnCrash).toBe(1);
    }
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['obs', 'echo']);
    expect((await node.modules()).map((m) => `${m.name}:${m.state}`)).toEqual(['obs:running', 'echo:running']);
    expect(echo.status()).toMatchObject({ crashes: 0, protocolViolations: 0 });
    await node.shutdown();
  });

  it('refuses a child that says ready before hello, speaks another protocol, or claims another name', { timeout: 30_000 }, async () => {
    const node = realNode();
    const cases = [
      [rawFixture('eager', 'ready-first'), 'Module "eager" failed to start: protocol violation: "ready" is not allowed while the module is spawning: disconnected'],
      [rawFixture('future', 'protocol-mismatch'), 'Module "future" failed to start: protocol mismatch: the host speaks version 2, the module 99'],
      [rawFixture('impostor', 'impostor'), 'Module "impostor" failed to start: identity mismatch: the manifest says impostor@1.0.0, the module says someone-else@1.0.0'],
    ] as const;
    const results = await Promise.allSettled(cases.map(([module]) => node.load(module)));
    results.forEach((result, i) => {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as unknown;
      expect(isModactorError(error, 'module-startup-failed')).toBe(true);
      expect((error as Error).message).toBe(cases[i]?.[1]);
    });
    expect(await node.modules()).toEqual([]);
    await node.shutdown();
  });
});

describe('publishing across the boundary', () => {
  it('refuses an unpermitted type with a clear error to the child, and rate-limits publishes', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.NewBlock, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const module = sdkFixture('chatty', 'publisher', {
      subscribe: [EventType.NewBlock],
      publishes: [EventType.HealthCheck],
      publishRateLimit: { perSecond: 0.01, burst: 10 },
    }, ['--burst', '50']);
    await node.load(module);
    node.publisher.newBlock(hash(1), 1);
    // The child reports health 'degraded' once every publish of its burst has its answer.
    await obs.waitForBrief('ModuleHealthChanged(chatty: healthy->degraded)');
    const reports = obs.events.filter((e) => e.type === 'HealthCheck' && e.payload.checkType === 'publisher');
    expect(reports.map((e) => (e.payload as { healthReport?: string }).healthReport)).toEqual([
      'refused not-permitted: Module "chatty" may not publish NewBlock (its manifest permits: HealthCheck)',
    ]);
    // The unpermitted NewBlock never reached anyone but the node's own publish.
    expect(obs.seen.filter((s) => s.startsWith('NewBlock'))).toEqual(['NewBlock(1)']);
    // 10 tokens: the report took one, 9 of the 50 burst publishes got through, 41 were refused.
    const burst = obs.events.filter((e) => e.type === 'HealthCheck' && e.payload.checkType === 'burst');
    expect(burst).toHaveLength(9);
    expect(module.status()).toMatchObject({ published: 10, refusedNotPermitted: 1, refusedRateLimited: 41, crashes: 0 });
    expect((await node.modules()).find((m) => m.name === 'chatty')?.state).toBe('running');
    await node.shutdown();
  });

  it('refuses a type only the node publishes with not-permitted, even when the manifest lists it', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const module = sdkFixture('forger', 'publisher', {
      subscribe: [EventType.NewBlock],
      publishes: [EventType.HealthCheck, EventType.ModuleLoaded],
    }, ['--forge', '--burst', '0']);
    await node.load(module);
    node.publisher.newBlock(hash(1), 1);
    await obs.waitForBrief('ModuleHealthChanged(forger: healthy->degraded)');
    const reports = obs.events.filter((e) => e.type === 'HealthCheck' && e.payload.checkType === 'publisher');
    expect(reports.map((e) => (e.payload as { healthReport?: string }).healthReport)).toEqual([
      'refused not-permitted: Module "forger" may not publish ModuleLoaded (its manifest permits: HealthCheck)',
    ]);
    expect(obs.events.filter((e) => e.type === 'ModuleLoaded').map((e) => e.payload.moduleName)).toEqual(['obs', 'forger']);
    expect(module.status()).toMatchObject({ refusedNotPermitted: 1, crashes: 0 });
    await node.shutdown();
  });
});

describe('a publish that cannot be serialized in the child', () => {
  it('is refused by the SDK with serialization-failed, nothing sent to the node', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const module = sdkFixture('bigint', 'unserializable', { subscribe: [EventType.NewBlock] });
    await node.load(module);
    node.publisher.newBlock(hash(1), 1);
    const report = await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'unserializable');
    expect((report.payload as { healthReport?: string }).healthReport).toBe('refused serialization-failed');
    expect(module.status()).toMatchObject({ published: 1, framesRefused: 0, framesViolating: 0, crashes: 0 });
    await node.shutdown();
  });
});

describe('the publish rate limit of a module', () => {
  it('survives its restarts: a child that crashes gets no fresh allowance', { timeout: 30_000 }, async () => {
    const logs = logCapture();
    const node = createNode({ logger: logs.logger });
    const module = sdkFixture('chatty', 'publisher', {
      subscribe: [EventType.NewBlock],
      publishes: [EventType.HealthCheck],
      publishRateLimit: { perSecond: 0.01, burst: 10 },
    }, ['--burst', '50']);
    const obs = observer('obs', [EventType.ModuleLoaded]);
    await node.load(obs.module);
    await node.load(module);
    const burstDone = (n: number): Promise<unknown> =>
      logs.waitFor((l) => l['msg'] === 'burst done' && l['module'] === 'chatty' && logs.lines.filter((x) => x['msg'] === 'burst done').length >= n);
    node.publisher.newBlock(hash(1), 1);
    await burstDone(1);
    expect(module.status()).toMatchObject({ published: 10, refusedRateLimited: 41 });

    // A fresh child, the same module: the bucket is where the last child left it.
    process.kill(module.status().pid as number, 'SIGKILL');
    await obs.waitForBrief('ModuleLoaded(chatty)', { count: 2 });
    node.publisher.newBlock(hash(2), 2);
    await burstDone(2);
    expect(module.status()).toMatchObject({ spawned: 2, published: 10, refusedRateLimited: 41 + 51 });
    await node.shutdown();
  });
});
