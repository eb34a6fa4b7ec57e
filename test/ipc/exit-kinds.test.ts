/**
 * How a process module's host actor ends, as the module supervisor sees it: killed at its stop
 * timeout (a failure neither thrown nor rejected), stopped from outside the node, stopping itself,
 * or failing under a transient policy; and a host of its own that throws as it starts (the node's
 * own hosts start asynchronously: their start failures are rejections). Every test awaits the
 * lifecycle events (or log lines) that prove the state; a race between a restart and a give-up is
 * decided by whichever event comes first.
 */
import { describe, expect, it } from 'vitest';
import {
  EventType,
  createNode,
  type ActorContext,
  type LoadableModule,
  type NodeEvent,
  type NodeEventMap,
  type ProcessModule,
} from '../../src/index.js';
import { STOP_MARGIN_MS } from '../../src/ipc/process-host.js';
import { createIncarnation } from '../../src/node/event-router.js';
import { exited } from '../../torture/lib/processes.js';
import { sdkFixture } from './fixtures.js';
import { brief, hash, logCapture, observer, realNode, type Observer } from './helpers.js';

/** Resolves with the first event after `from` that restarts `name` (its next ModuleLoaded) or gives it up (unhealthy). */
function restartedOrGivenUp(obs: Observer, name: string, from: number): Promise<NodeEvent> {
  return obs.waitFor(
    (e) =>
      brief(e) === `ModuleLoaded(${name})` ||
      (e.type === 'ModuleHealthChanged' && e.payload.moduleName === name && e.payload.newHealth === 'unhealthy'),
    { from },
  );
}

/** `module`, with the actor context of each incarnation of its host kept, for the test to act as its host would. */
function withHostContexts(module: ProcessModule): { module: LoadableModule<NodeEventMap>; hosts: ActorContext<unknown>[] } {
  const hosts: ActorContext<unknown>[] = [];
  const hostBehavior = module.instanceBehavior;
  if (hostBehavior === undefined) throw new Error('a process module has a host behaviour');
  return {
    hosts,
    module: {
      ...module,
      instanceBehavior: (services) => {
        const factory = hostBehavior(services);
        return {
          create(ctx) {
            hosts.push(ctx);
            return factory.create(ctx);
          },
        };
      },
    },
  };
}

/** The lifecycle events of module `name` the observer saw, in order (its health changes included). */
const lifecycleOf = (obs: Observer, name: string): string[] =>
  obs.seen.filter((s) => s.startsWith('Module') && (s.includes(`(${name})`) || s.includes(`(${name}:`)));

describe('a process module whose child leaves a process holding its pipes', () => {
  it('cannot finish its stop after its crash: its host is killed at the stop timeout, ModuleCrashed still names the crash, the crash log both, and it is restarted', { timeout: 30_000 }, async () => {
    const logs = logCapture('warn');
    const node = createNode({ logger: logs.logger });
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await node.load(obs.module);
    const leaky = sdkFixture('leaky', 'orphan', { subscribe: [EventType.NewBlock], shutdownTimeoutMs: 100 });
    await node.load(leaky);
    node.publisher.newBlock(hash(1), 1);
    const orphan = await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'orphan');
    const orphanPid = Number(orphan.type === 'HealthCheck' ? orphan.payload.healthReport : NaN);
    try {
      // The child failed and was killed, but the process it left holds its stderr: the host's stop
      // waits for the end of its pipes until the kernel kills the host, past the stop timeout.
      await obs.waitForBrief('ModuleLoaded(leaky)', { count: 2 });
      expect(exited(orphanPid)).toBe(false);
      const timeout = `did not stop within ${100 + STOP_MARGIN_MS} ms`;
      expect(lifecycleOf(obs, 'leaky')).toEqual(['ModuleLoaded(leaky)', 'ModuleCrashed(leaky)', 'ModuleUnloaded(leaky)', 'ModuleLoaded(leaky)']);
      const crashed = obs.events.find((e) => e.type === 'ModuleCrashed');
      expect(crashed?.payload).toEqual({ moduleName: 'leaky', error: 'crashed, leaving a process behind' });
      // The crash log carries the failure it was stopping for, and the kill.
      const crashLogs = logs.lines.filter((l) => l['module'] === 'leaky' && l['msg'] === 'module crashed');
      expect(crashLogs).toHaveLength(1);
      expect(crashLogs[0]).toMatchObject({ level: 40, err: { message: 'crashed, leaving a process behind' }, killed: timeout });
      expect((await node.modules()).find((m) => m.name === 'leaky')).toMatchObject({ state: 'running', restarts: 1 });
    } finally {
      process.kill(orphanPid, 'SIGKILL');
    }
    await node.shutdown();
  });
});

describe('a transient process module', () => {
  it('whose handler fails is restarted: a crash is an abnormal exit', { timeout: 30_000 }, async () => {
    const node = createNode({ logger: logCapture('silent').logger });
    const obs = observer('obs', [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    await node.load(sdkFixture('fragile', 'crash-at', { subscribe: [EventType.NewBlock], restart: { type: 'transient' } }, ['--height', '1']));
    node.publisher.newBlock(hash(1), 1);
    const crashed = await obs.waitForBrief('ModuleCrashed(fragile)');
    expect(crashed.payload).toEqual({ moduleName: 'fragile', error: 'crashed at height 1' });
    const next = await restartedOrGivenUp(obs, 'fragile', obs.events.indexOf(crashed) + 1);
    expect(brief(next)).toBe('ModuleLoaded(fragile)');
    expect((await node.modules()).find((m) => m.name === 'fragile')).toMatchObject({ state: 'running', restarts: 1 });
    await node.shutdown();
  });

  it('stopped from outside the node (its actor stopped through node.system) is not restarted: unloaded without a crash, unhealthy, no longer listed, logged as not restarted', { timeout: 30_000 }, async () => {
    const logs = logCapture('warn');
    const node = createNode({ logger: logs.logger });
    const obs = observer('obs', [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const leaving = sdkFixture('leaving', 'echo', { subscribe: [EventType.NewBlock], restart: { type: 'transient' } });
    await node.load(leaving);
    const pid = leaving.status().pid as number;
    const host = node.system.lookup('/modules/leaving');
    if (host === undefined) throw new Error('no host actor');
    await node.system.stop(host);

    await obs.waitForBrief('ModuleUnloaded(leaving)');
    // The supervisor answers once it has dealt with the end it published: the module is gone.
    expect((await node.modules()).map((m) => m.name)).toEqual(['obs']);
    await obs.waitForBrief('ModuleHealthChanged(leaving: degraded->unhealthy)');
    const given = await logs.waitFor((l) => l['module'] === 'leaving' && l['msg'] === 'module stopped for good');
    expect(given).toMatchObject({ level: 40, reason: 'not restarted' });
    expect(lifecycleOf(obs, 'leaving')).toEqual([
      'ModuleLoaded(leaving)',
      'ModuleUnloaded(leaving)',
      'ModuleHealthChanged(leaving: healthy->degraded)',
      'ModuleHealthChanged(leaving: degraded->unhealthy)',
    ]);
    expect(logs.lines.filter((l) => l['msg'] === 'module crashed')).toEqual([]);
    // Stopped, not killed: its child was asked to stop, and did.
    expect(exited(pid)).toBe(true);
    expect(leaving.status()).toMatchObject({ state: 'down', crashes: 0, spawned: 1 });
    await node.shutdown();
  });
});

describe('a permanent process module whose host actor stops itself', () => {
  it('is restarted, without a crash: a normal exit of a permanent module is restarted too', { timeout: 30_000 }, async () => {
    const logs = logCapture('warn');
    const node = createNode({ logger: logs.logger });
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded, EventType.ModuleHealthChanged]);
    await node.load(obs.module);
    const echo = sdkFixture('quitter', 'echo', { subscribe: [EventType.NewBlock] });
    const { module, hosts } = withHostContexts(echo);
    await node.load(module);
    expect(hosts).toHaveLength(1);
    hosts[0]?.stopSelf();

    const unloaded = await obs.waitForBrief('ModuleUnloaded(quitter)');
    const next = await restartedOrGivenUp(obs, 'quitter', obs.events.indexOf(unloaded) + 1);
    expect(brief(next)).toBe('ModuleLoaded(quitter)');
    expect(hosts).toHaveLength(2);
    node.publisher.newBlock(hash(1), 1);
    await obs.waitForBrief('echo NewBlock(1)');
    expect(obs.seen.filter((s) => s.startsWith('ModuleCrashed'))).toEqual([]);
    expect(logs.lines.filter((l) => l['msg'] === 'module crashed' || l['msg'] === 'module stopped for good')).toEqual([]);
    expect((await node.modules()).find((m) => m.name === 'quitter')).toMatchObject({ state: 'running', restarts: 1 });
    expect(echo.status()).toMatchObject({ spawned: 2, crashes: 0 });
    await node.shutdown();
  });
});

describe('a module host of its own (LoadableModule.instanceBehavior) that throws as it starts', () => {
  it('fails the load with module-startup-failed, what it threw as the cause', async () => {
    const node = realNode();
    const thrown = new Error('no connection to the backend');
    const module: LoadableModule<NodeEventMap> = {
      name: 'own-host',
      version: '1.0.0',
      subscribe: [],
      instanceBehavior: (services) => ({
        create(ctx) {
          const incarnation = createIncarnation<NodeEventMap>({
            name: 'own-host',
            version: '1.0.0',
            ref: ctx.self,
            stats: services.router.statsFor('own-host'),
            capacity: ctx.mailboxCapacity,
            crash: ctx,
          });
          return {
            onStart() {
              services.report({ kind: 'instance-started', incarnation });
              throw thrown;
            },
            receive: () => undefined,
          };
        },
      }),
    };
    const outcome = await node.load(module).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(outcome).toMatchObject({ code: 'module-startup-failed', message: 'Module "own-host" failed to start: no connection to the backend' });
    expect((outcome as { cause?: unknown }).cause).toBe(thrown);
    expect(await node.modules()).toEqual([]);
    await node.shutdown();
  });
});
