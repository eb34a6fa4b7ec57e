/**
 * What a node says about a module's life: the lifecycle events it publishes, in order and with
 * their payloads, its log lines (level, message, `module` binding, fields), and what its calls
 * answer; on a simulated clock.
 */
import { describe, expect, it } from 'vitest';
import { createNode, createSimulatedScheduler, defineModule, type ModactorNode, type ModuleDefinition, type ModuleHealth, type NodeEvent } from '../../src/index.js';
import { nodeInternals } from '../../src/node/node.js';
import { memoryLogger } from '../kernel/support.js';
import { block, drive, rejection, settle } from './support.js';

const LIFECYCLE = new Set([
  'ModuleStateChanged',
  'ModuleStarted',
  'ModuleStopped',
  'ModuleReloaded',
  'ModuleHealthChanged',
  'NodeShutdown',
  'NodeShutdownCompleted',
]);

/** A node on a simulated clock, the lifecycle events it publishes and its log lines. */
function recordedNode(options: { shutdownTimeoutMs?: number } = {}) {
  const { logger, lines } = memoryLogger('info');
  const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false });
  const node: ModactorNode = createNode({ scheduler, logger, healthIntervalMs: 10, ...options });
  const events: [string, unknown][] = [];
  const times: number[] = [];
  nodeInternals(node).router.tap((event) => {
    if (!LIFECYCLE.has(event.type)) return;
    events.push([event.type, event.payload]);
    times.push(event.meta?.time as number);
  });
  // What the module supervisor (the actor /modules) logged about module `name`, without pino's own fields.
  const logs = (name: string) =>
    lines.filter((line) => line.actor === '/modules' && line.module === name).map(({ hostname: _h, pid: _p, time: _t, actor: _a, ...rest }) => rest);
  return { node, scheduler, events, times, lines, logs };
}

/** A module m of version 1.2.3 that throws on the blocks `crashOn` says. */
function module(crashOn: (height: number) => boolean, more: Partial<ModuleDefinition> = {}): ModuleDefinition {
  return defineModule({
    name: 'm',
    version: '1.2.3',
    subscribe: ['NewBlock'],
    restart: { backoff: { minMs: 100, maxMs: 100, jitter: 0 } },
    handle(event: NodeEvent) {
      if (event.type === 'NewBlock' && crashOn(event.payload.height)) throw new RangeError(`boom on ${event.payload.height}`);
    },
    ...more,
  });
}

const state = (oldState: string, newState: string): [string, unknown] => ['ModuleStateChanged', { moduleName: 'm', oldState, newState }];

describe('the life of a module as the node tells it', () => {
  it('loaded, crashed, restarted, unloaded: lifecycle events, health, log lines and answers', async () => {
    const { node, scheduler, events, logs } = recordedNode();
    const loaded = await drive(scheduler, node.load(module((h) => h === 1)));
    expect(loaded).toEqual({ name: 'm', version: '1.2.3', state: 'running', health: 'healthy', restarts: 0, instanceId: expect.any(String) as string, queued: 0 });
    node.events.publish(block(1));
    await settle(scheduler);
    const [running] = await drive(scheduler, node.modules());
    expect(running).toMatchObject({ name: 'm', state: 'running', restarts: 1 });
    expect(running?.instanceId).not.toBe(loaded.instanceId);
    const unloaded = await drive(scheduler, node.unload('m'));
    expect(unloaded).toEqual({ ...running, state: 'stopped', queued: 0 });
    expect(events).toEqual([
      state('loading', 'subscribing'),
      state('subscribing', 'running'),
      ['ModuleStarted', { moduleName: 'm' }],
      state('running', 'crashed'),
      ['ModuleHealthChanged', { moduleName: 'm', oldHealth: 'healthy', newHealth: 'degraded' }],
      state('crashed', 'restarting'),
      state('restarting', 'subscribing'),
      state('subscribing', 'running'),
      ['ModuleStarted', { moduleName: 'm' }],
      ['ModuleHealthChanged', { moduleName: 'm', oldHealth: 'degraded', newHealth: 'healthy' }],
      state('running', 'stopping'),
      state('stopping', 'stopped'),
      ['ModuleStopped', { moduleName: 'm' }],
    ]);
    expect(logs('m')).toEqual([
      { level: 30, msg: 'module loaded', module: 'm', version: '1.2.3' },
      { level: 40, msg: 'module crashed', module: 'm', err: expect.objectContaining({ type: 'RangeError', message: 'boom on 1' }) as unknown },
      { level: 30, msg: 'module restarted', module: 'm', restarts: 1 },
      { level: 30, msg: 'module unloaded', module: 'm' },
    ]);
    await drive(scheduler, node.shutdown());
  });

  it('shut down: NodeShutdown with the deadline in seconds, modules stopped in reverse load order, a straggler killed and named', async () => {
    const { node, scheduler, events, lines, logs } = recordedNode({ shutdownTimeoutMs: 1500 });
    const stuck = defineModule({
      name: 'stuck',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      handle: () => new Promise<void>(() => undefined), // never finishes
    });
    await drive(scheduler, node.load(module(() => false)));
    await drive(scheduler, node.load(stuck));
    node.events.publish(block(1));
    await settle(scheduler);
    events.length = 0;
    await drive(scheduler, node.shutdown('maintenance window'));
    expect(events).toEqual([
      ['NodeShutdown', { reason: 'maintenance window', timeoutSeconds: 2 }],
      ['ModuleStateChanged', { moduleName: 'stuck', oldState: 'running', newState: 'stopping' }],
      ['ModuleStateChanged', { moduleName: 'stuck', oldState: 'stopping', newState: 'stopped' }],
      ['ModuleStopped', { moduleName: 'stuck' }],
      state('running', 'stopping'),
      state('stopping', 'stopped'),
      ['ModuleStopped', { moduleName: 'm' }],
      ['NodeShutdownCompleted', { durationMs: 1500 }],
    ]);
    expect(logs('stuck').at(-1)).toEqual({ level: 40, msg: 'module did not stop in time: killed', module: 'stuck', timeoutMs: 0 });
    expect(logs('m').at(-1)).toEqual({ level: 30, msg: 'module unloaded', module: 'm' });
    const killed = lines.filter((line) => line.msg === 'modules killed at the shutdown deadline');
    expect(killed).toHaveLength(1);
    expect(killed[0]).toMatchObject({ level: 40, actor: '/modules', killed: ['stuck'] });
  });

  it('a shutdown where every module stops in time kills nothing and says nothing of it', async () => {
    const { node, scheduler, events, lines } = recordedNode({ shutdownTimeoutMs: 1000 });
    await drive(scheduler, node.load(module(() => false)));
    events.length = 0;
    await drive(scheduler, node.shutdown());
    expect(events[0]).toEqual(['NodeShutdown', { reason: 'requested', timeoutSeconds: 1 }]);
    expect(events.at(-1)).toEqual(['NodeShutdownCompleted', { durationMs: 0 }]);
    expect(lines.filter((line) => line.msg === 'modules killed at the shutdown deadline')).toEqual([]);
  });

  it('stopped for good past its restart intensity: unhealthy, the last failure as the reason', async () => {
    const { node, scheduler, events, logs } = recordedNode();
    await drive(scheduler, node.load(module(() => true, { restart: { maxRestarts: 1, withinMs: 60_000, backoff: { minMs: 100, maxMs: 100, jitter: 0 } } })));
    node.events.publish(block(1));
    await settle(scheduler);
    node.events.publish(block(2));
    await settle(scheduler);
    await scheduler.advanceBy(1000);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    // Its second crash came within the health interval after it was healthy again: that degraded
    // waited, then was overtaken by unhealthy (and not published after it).
    expect(events.slice(-3)).toEqual([
      state('running', 'crashed'),
      state('crashed', 'stopped'),
      ['ModuleHealthChanged', { moduleName: 'm', oldHealth: 'healthy', newHealth: 'unhealthy' }],
    ]);
    expect(logs('m').slice(-2)).toEqual([
      { level: 40, msg: 'module crashed', module: 'm', err: expect.objectContaining({ message: 'boom on 2' }) as unknown },
      { level: 40, msg: 'module stopped for good', module: 'm', reason: 'more than 1 restarts within 60000 ms (last: boom on 2)' },
    ]);
    await drive(scheduler, node.shutdown());
  });

  it('temporary: stopped for good at its first crash', async () => {
    const { node, scheduler, logs } = recordedNode();
    await drive(scheduler, node.load(module(() => true, { restart: { type: 'temporary' } })));
    node.events.publish(block(1));
    await settle(scheduler);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(logs('m').at(-1)).toEqual({ level: 40, msg: 'module stopped for good', module: 'm', reason: 'boom on 1' });
    await drive(scheduler, node.shutdown());
  });

  it('reloaded: stopped and started again with its new version, ModuleReloaded naming both', async () => {
    const { node, scheduler, events } = recordedNode();
    await drive(scheduler, node.load(module(() => false)));
    events.length = 0;
    const info = await drive(scheduler, node.reload('m', { ...module(() => false), version: '2.0.0' }));
    expect(info).toMatchObject({ name: 'm', version: '2.0.0', state: 'running', restarts: 0 });
    expect(events).toEqual([
      state('running', 'stopping'),
      state('stopping', 'stopped'),
      ['ModuleStopped', { moduleName: 'm' }],
      state('loading', 'subscribing'),
      state('subscribing', 'running'),
      ['ModuleStarted', { moduleName: 'm' }],
      ['ModuleReloaded', { moduleName: 'm', oldVersion: '1.2.3', newVersion: '2.0.0' }],
    ]);
    await drive(scheduler, node.shutdown());
  });

  it('reloaded to a version that does not start: the reload answers the failure, no ModuleReloaded', async () => {
    const { node, scheduler, events } = recordedNode();
    await drive(scheduler, node.load(module(() => false)));
    events.length = 0;
    const bad = new Error('bad 2.0.0');
    const broken = defineModule({
      name: 'm',
      version: '2.0.0',
      subscribe: ['NewBlock'],
      async setup() {
        await Promise.resolve();
        throw bad;
      },
      handle: () => undefined,
    });
    const outcome = await rejection(scheduler, node.reload('m', broken));
    expect(outcome).toMatchObject({ code: 'module-startup-failed', message: 'Module "m" failed to start: bad 2.0.0' });
    expect((outcome as { cause?: unknown }).cause).toBe(bad);
    expect(events.map(([type]) => type)).not.toContain('ModuleReloaded');
    expect(await drive(scheduler, node.modules())).toEqual([]);
    await drive(scheduler, node.shutdown());
  });

  it('logs the error of a handler that rejects as the crash', async () => {
    const { node, scheduler, logs } = recordedNode();
    const rejecting = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      restart: { backoff: { minMs: 100, maxMs: 100, jitter: 0 } },
      async handle() {
        await Promise.resolve();
        throw new TypeError('rejected on purpose');
      },
    });
    await drive(scheduler, node.load(rejecting));
    node.events.publish(block(1));
    await settle(scheduler);
    const crashed = logs('m').filter((line) => line.msg === 'module crashed');
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({ level: 40, err: { type: 'TypeError', message: 'rejected on purpose' } });
    await drive(scheduler, node.shutdown());
  });

  it('refuses what names no loaded module, or the wrong one, or one loaded twice, with typed errors', async () => {
    const { node, scheduler } = recordedNode();
    const refusal = (promise: Promise<unknown>) => rejection(scheduler, promise);
    await drive(scheduler, node.load(module(() => false)));
    expect(await refusal(node.load(module(() => false)))).toMatchObject({ code: 'duplicate-module', message: 'Expected a module name not yet loaded, got "m" twice' });
    for (const call of [() => node.unload('x'), () => node.reload('x'), () => node.events.subscribe('x', ['NewBlock'])]) {
      expect(await refusal(call())).toMatchObject({ code: 'unknown-module', message: 'Expected a loaded module, got "x"' });
    }
    expect(await refusal(node.events.unsubscribe('x', ['NewBlock']))).toBeNull();
    const other = defineModule({ name: 'n', version: '1.0.0', subscribe: ['NewBlock'], handle: () => undefined });
    expect(await refusal(node.reload('m', other))).toMatchObject({ code: 'invalid-argument', message: 'Expected a module named "m", got "n"' });
    expect((await drive(scheduler, node.modules())).map((info) => info.name)).toEqual(['m']);
    await drive(scheduler, node.shutdown());
  });
});

describe('a module that does not start', () => {
  it('answers the load with module-startup-failed carrying what its setup threw, after one attempt', async () => {
    const { node, scheduler, events, logs } = recordedNode();
    const thrown = new Error('no config');
    let attempts = 0;
    const failing = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      setup() {
        attempts++;
        throw thrown;
      },
      handle: () => undefined,
    });
    const outcome = await rejection(scheduler, node.load(failing));
    expect(outcome).toMatchObject({ code: 'module-startup-failed', message: 'Module "m" failed to start: no config' });
    expect((outcome as { cause?: unknown }).cause).toBe(thrown);
    expect(attempts).toBe(1);
    expect(events.map(([type]) => type)).not.toContain('ModuleStarted');
    expect(events.filter(([type]) => type === 'ModuleHealthChanged')).toEqual([
      ['ModuleHealthChanged', { moduleName: 'm', oldHealth: 'healthy', newHealth: 'degraded' }],
      ['ModuleHealthChanged', { moduleName: 'm', oldHealth: 'degraded', newHealth: 'unhealthy' }],
    ]);
    expect(logs('m')).toEqual([
      { level: 40, msg: 'module crashed', module: 'm', err: expect.objectContaining({ message: 'no config' }) as unknown },
      { level: 40, msg: 'module failed to start', module: 'm', reason: 'no config' },
    ]);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    await drive(scheduler, node.shutdown());
  });

  it('answers a load whose module is unloaded before it started with module-startup-failed', async () => {
    const { node, scheduler } = recordedNode();
    const slow = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      setup: () => new Promise<void>(() => undefined), // never ready
      handle: () => undefined,
    });
    const loading = node.load(slow).then(
      () => null,
      (error: unknown) => error,
    );
    await scheduler.runUntilIdle();
    expect(await drive(scheduler, node.unload('m'))).toMatchObject({ name: 'm', state: 'stopped' });
    expect(await drive(scheduler, loading)).toMatchObject({ code: 'module-startup-failed', message: 'Module "m" was stopped before it finished starting' });
    await drive(scheduler, node.shutdown());
  });
});

describe('the health of a module as the node tells it', () => {
  const healthOf: Record<number, ModuleHealth> = { 1: 'degraded', 2: 'unhealthy', 3: 'healthy', 4: 'healthy', 5: 'degraded' };
  const reporter = defineModule({
    name: 'm',
    version: '1.0.0',
    subscribe: ['NewBlock'],
    handle(event, ctx) {
      if (event.type === 'NewBlock') ctx.reportHealth(healthOf[event.payload.height] as ModuleHealth);
    },
  });
  const health = (oldHealth: ModuleHealth, newHealth: ModuleHealth): [string, unknown] => ['ModuleHealthChanged', { moduleName: 'm', oldHealth, newHealth }];

  it('publishes at most one change per interval: reports in between wait, and the last one is published when the interval ends', async () => {
    const { node, scheduler, events, times } = recordedNode(); // healthIntervalMs: 10
    await drive(scheduler, node.load(reporter));
    events.length = 0;
    times.length = 0;
    const start = scheduler.now();
    node.events.publish(block(1)); // published at once
    node.events.publish(block(2)); // within the interval: waits...
    node.events.publish(block(3)); // ...and is replaced by this one
    await scheduler.runUntilIdle();
    expect(events).toEqual([health('healthy', 'degraded')]);
    expect((await drive(scheduler, node.modules()))[0]?.health).toBe('degraded');
    await scheduler.advanceBy(10);
    expect(events).toEqual([health('healthy', 'degraded'), health('degraded', 'healthy')]);
    expect(times).toEqual([start, start + 10]);
    await scheduler.advanceBy(50);
    node.events.publish(block(4)); // no change: nothing
    node.events.publish(block(5)); // the interval is over: published at once
    await scheduler.runUntilIdle();
    expect(events).toEqual([health('healthy', 'degraded'), health('degraded', 'healthy'), health('healthy', 'degraded')]);
    expect(times.at(-1)).toBe(scheduler.now()); // without waiting
    await drive(scheduler, node.shutdown());
  });

  it('publishes a change at once when the interval since the last one is over, with nothing waiting', async () => {
    const { node, scheduler, events } = recordedNode(); // healthIntervalMs: 10
    await drive(scheduler, node.load(reporter));
    events.length = 0;
    node.events.publish(block(1));
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(50);
    node.events.publish(block(3));
    await scheduler.runUntilIdle(); // no timer runs
    expect(events).toEqual([health('healthy', 'degraded'), health('degraded', 'healthy')]);
    await drive(scheduler, node.shutdown());
  });

  it('ignores what an incarnation reports once its module is unloaded', async () => {
    const { node, scheduler, events } = recordedNode();
    const leaving = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      handle: () => undefined,
      stop(ctx) {
        ctx.reportHealth('degraded');
      },
    });
    await drive(scheduler, node.load(leaving));
    events.length = 0;
    await drive(scheduler, node.unload('m'));
    await settle(scheduler);
    expect(events.map(([type]) => type)).not.toContain('ModuleHealthChanged');
    expect(node.status().state).toBe('running');
    await drive(scheduler, node.load(module(() => false)));
    await drive(scheduler, node.shutdown());
  });

  it('marks a module that does not take its membership events unhealthy, and says so once', async () => {
    const { node, scheduler, events, logs } = recordedNode();
    const stuck = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['ModuleLoaded'],
      mailboxCapacity: 1,
      membershipCapacity: 1,
      handle: () => new Promise<void>(() => undefined),
    });
    await drive(scheduler, node.load(stuck));
    for (const name of ['a', 'b', 'c', 'd']) {
      await drive(scheduler, node.load(defineModule({ name, version: '1.0.0', subscribe: ['NewBlock'], handle: () => undefined })));
    }
    expect(events.filter(([type]) => type === 'ModuleHealthChanged')).toEqual([health('healthy', 'unhealthy')]);
    expect(logs('m').filter((line) => line.level === 40)).toEqual([
      { level: 40, msg: 'membership events dropped: the module does not take its events', module: 'm', membershipCapacity: 1 },
    ]);
    expect((await drive(scheduler, node.modules()))[0]).toMatchObject({ name: 'm', health: 'unhealthy' });
    await drive(scheduler, node.shutdown());
  });
});

describe('subscriptions added to a module from outside', () => {
  it('are kept across its restarts and its reload; removed ones stay removed', async () => {
    const { node, scheduler } = recordedNode();
    const seen: string[] = [];
    const watcher = (version: string) =>
      defineModule({
        name: 'm',
        version,
        subscribe: ['NewBlock'],
        restart: { maxRestarts: 10, withinMs: 60_000, backoff: { minMs: 100, maxMs: 100, jitter: 0 } },
        handle(event: NodeEvent) {
          if (event.type === 'NewBlock' && event.payload.height === 0) throw new Error('crash on request');
          seen.push(event.type === 'NewBlock' ? `b${event.payload.height}` : event.type);
        },
      });
    const crash = async () => {
      node.events.publish(block(0));
      await settle(scheduler);
    };
    const transaction = async () => {
      node.publisher.newTransaction('ab'.repeat(32));
      await settle(scheduler);
    };
    await drive(scheduler, node.load(watcher('1.0.0')));
    await drive(scheduler, node.events.subscribe('m', ['NewTransaction']));
    await transaction();
    await crash();
    await transaction();
    expect(seen).toEqual(['NewTransaction', 'NewTransaction']);

    await drive(scheduler, node.events.unsubscribe('m', ['NewTransaction']));
    await transaction();
    await crash();
    await transaction();
    node.events.publish(block(1));
    await settle(scheduler);
    expect(seen).toEqual(['NewTransaction', 'NewTransaction', 'b1']);

    await drive(scheduler, node.events.subscribe('m', ['NewTransaction']));
    await drive(scheduler, node.reload('m', watcher('2.0.0')));
    await transaction();
    expect(seen.at(-1)).toBe('NewTransaction');
    const [info] = await drive(scheduler, node.modules());
    expect(info).toMatchObject({ version: '2.0.0', restarts: 0 });
    await drive(scheduler, node.shutdown());
  });
});
