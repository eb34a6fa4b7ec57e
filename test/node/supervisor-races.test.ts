/**
 * The module supervisor where its messages race: health windows whose timer fired while the
 * supervisor was busy, a window's end, a shutdown that starts late on the clock or meets a module
 * not started yet, hosts that cannot be built, reports from incarnations a restart or an unload
 * replaced; on a simulated clock, turns ordered by the scheduler.
 */
import { describe, expect, it } from 'vitest';
import {
  createNode,
  createSimulatedScheduler,
  defineModule,
  isModactorError,
  type LoadableModule,
  type ModactorNode,
  type ModuleDefinition,
  type ModuleHealth,
  type NodeEvent,
  type NodeEventMap,
} from '../../src/index.js';
import { nodeInternals } from '../../src/node/node.js';
import { memoryLogger } from '../kernel/support.js';
import { block, drive, rejection, settle } from './support.js';

const WATCHED = new Set(['ModuleHealthChanged', 'ModuleStateChanged', 'ModuleStarted', 'ModuleStopped', 'NodeShutdownCompleted', 'NewBlock']);

/** A node on a simulated clock (health interval 100 ms), what it publishes (with times) and its log lines. */
function watchedNode(options: { shutdownTimeoutMs?: number } = {}) {
  const { logger, lines } = memoryLogger('info');
  const scheduler = createSimulatedScheduler({ seed: 1, autoRun: false });
  const node: ModactorNode = createNode({ scheduler, logger, healthIntervalMs: 100, ...options });
  const events: { type: string; payload: unknown; time: number }[] = [];
  nodeInternals(node).router.tap((event) => {
    if (WATCHED.has(event.type)) events.push({ type: event.type, payload: event.payload, time: event.meta?.time as number });
  });
  /** The health changes published, as `name: old->new @time`. */
  const healthChanges = () =>
    events
      .filter((event) => event.type === 'ModuleHealthChanged')
      .map(({ payload, time }) => {
        const p = payload as { moduleName: string; oldHealth: ModuleHealth; newHealth: ModuleHealth };
        return `${p.moduleName}: ${p.oldHealth}->${p.newHealth} @${time}`;
      });
  return { node, scheduler, events, lines, healthChanges };
}

/** A module that reports the health `healthAt[height]` for each NewBlock it takes (nothing for other heights). */
function reporter(name: string, healthAt: Record<number, ModuleHealth>, more: Partial<ModuleDefinition> = {}): ModuleDefinition {
  return defineModule({
    name,
    version: '1.0.0',
    subscribe: ['NewBlock'],
    handle(event: NodeEvent, ctx) {
      const health = event.type === 'NewBlock' ? healthAt[event.payload.height] : undefined;
      if (health !== undefined) ctx.reportHealth(health);
    },
    ...more,
  });
}

/** A module whose `stop` takes `ms` on the node's clock. */
function slowToStop(name: string, ms: number): ModuleDefinition {
  return defineModule({
    name,
    version: '1.0.0',
    subscribe: ['NewBlock'],
    handle: () => undefined,
    stop: (ctx) => ctx.delay(ms),
  });
}

describe('health windows', () => {
  it('publishes a change that waited in a window when the window ends, not later', async () => {
    const { node, scheduler, healthChanges } = watchedNode();
    await drive(scheduler, node.load(reporter('m', { 1: 'degraded', 2: 'unhealthy' })));
    await scheduler.advanceBy(1000);
    node.events.publish(block(1)); // published at once: the window runs to 1100
    await scheduler.advanceBy(30);
    node.events.publish(block(2)); // waits for the window's end
    await settle(scheduler);
    expect(healthChanges()).toEqual(['m: healthy->degraded @1000', 'm: degraded->unhealthy @1100']);
    await drive(scheduler, node.shutdown());
  });

  it('leaves a change reported as its window ends, with the window\'s timer due, to that timer', async () => {
    const { node, scheduler, events } = watchedNode();
    await drive(scheduler, node.load(reporter('m', { 1: 'degraded', 2: 'unhealthy', 3: 'healthy' })));
    node.events.publish(block(1)); // published at once: the window runs to 100
    await scheduler.runUntilIdle();
    // Two steps due at 100 too, set before the window's timer: block 3 (a report as the window
    // ends), then block 4, published before the window's timer fires.
    scheduler.setTimer(100, () => node.events.publish(block(3)));
    scheduler.setTimer(100, () => node.events.publish(block(4)));
    await scheduler.advanceBy(10);
    node.events.publish(block(2)); // waits: the window's timer is set for 100
    await settle(scheduler);
    const order = events
      .filter((event) => event.type === 'NewBlock' || event.type === 'ModuleHealthChanged')
      .map(({ type, payload }) => (type === 'NewBlock' ? `block ${(payload as { height: number }).height}` : `${(payload as { oldHealth: string }).oldHealth}->${(payload as { newHealth: string }).newHealth}`));
    // The last report (healthy, at 100) is published by the window's timer, after block 4.
    expect(order).toEqual(['block 1', 'healthy->degraded', 'block 2', 'block 3', 'block 4', 'degraded->healthy']);
    await drive(scheduler, node.shutdown());
  });

  it('ignores a window whose timer fired before its module was unloaded, while the supervisor was busy', async () => {
    const { node, scheduler, healthChanges } = watchedNode();
    await drive(scheduler, node.load(reporter('m', { 1: 'degraded', 2: 'unhealthy' })));
    await drive(scheduler, node.load(slowToStop('slow', 500)));
    node.events.publish(block(1)); // published at once: the window runs to 100
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(10);
    node.events.publish(block(2)); // waits: the window's timer is set for 100
    await scheduler.runUntilIdle();
    // The supervisor is busy stopping `slow` until 510; m's unload waits behind it, and m's window
    // timer fires at 100, its message behind the unload.
    const slowGone = node.unload('slow');
    const mGone = node.unload('m');
    await drive(scheduler, Promise.all([slowGone, mGone]));
    await settle(scheduler);
    expect(healthChanges()).toEqual(['m: healthy->degraded @0']);
    expect(node.status()).toMatchObject({ state: 'running' });
    expect(await drive(scheduler, node.modules())).toEqual([]);
    await drive(scheduler, node.load(reporter('m', {})));
    await drive(scheduler, node.shutdown());
  });

  it('ignores a window whose timer fired before its module was reloaded, while the supervisor was busy', async () => {
    const { node, scheduler, healthChanges } = watchedNode();
    await drive(scheduler, node.load(reporter('m', { 1: 'degraded', 2: 'unhealthy' })));
    await drive(scheduler, node.load(slowToStop('slow', 500)));
    node.events.publish(block(1));
    await scheduler.runUntilIdle();
    await scheduler.advanceBy(10);
    node.events.publish(block(2)); // waits: the window's timer is set for 100
    await scheduler.runUntilIdle();
    const slowGone = node.unload('slow');
    const reloaded = node.reload('m');
    await drive(scheduler, Promise.all([slowGone, reloaded]));
    await settle(scheduler);
    // The reloaded module starts healthy with a window of its own: the old one published nothing more.
    expect(healthChanges()).toEqual(['m: healthy->degraded @0']);
    expect(node.status()).toMatchObject({ state: 'running' });
    expect(await drive(scheduler, node.modules())).toMatchObject([{ name: 'm', state: 'running', health: 'healthy' }]);
    await drive(scheduler, node.shutdown());
  });

  it('gives a reloaded module a window of its own: the old window\'s timer is cancelled', async () => {
    const { node, scheduler, healthChanges } = watchedNode();
    await drive(scheduler, node.load(reporter('m', { 1: 'degraded', 2: 'unhealthy', 3: 'degraded', 4: 'unhealthy' })));
    node.events.publish(block(1)); // at 0: published, the window runs to 100
    await scheduler.advanceBy(10);
    node.events.publish(block(2)); // at 10: waits for 100
    await scheduler.advanceBy(10);
    await drive(scheduler, node.reload('m')); // at 20: a new record, healthy
    await scheduler.advanceBy(10);
    node.events.publish(block(3)); // at 30: published, the new window runs to 130
    await scheduler.advanceBy(10);
    node.events.publish(block(4)); // at 40: waits for 130
    await settle(scheduler);
    expect(healthChanges()).toEqual(['m: healthy->degraded @0', 'm: healthy->degraded @30', 'm: degraded->unhealthy @130']);
    await drive(scheduler, node.shutdown());
  });
});

describe('the shutdown barrier and deadline', () => {
  it('kills a module that never takes NodeShutdown at the deadline, counted from when the shutdown began', async () => {
    const { node, scheduler, events } = watchedNode({ shutdownTimeoutMs: 1000 });
    const stuck = defineModule({ name: 'stuck', version: '1.0.0', subscribe: ['NewBlock'], handle: () => new Promise<void>(() => undefined) });
    await drive(scheduler, node.load(stuck));
    node.events.publish(block(1)); // its handler never ends
    await scheduler.advanceBy(5000);
    await drive(scheduler, node.shutdown());
    expect(node.status()).toMatchObject({ state: 'stopped', killedAtShutdown: ['stuck'] });
    expect(events.filter((event) => event.type === 'NodeShutdownCompleted')).toEqual([
      { type: 'NodeShutdownCompleted', payload: { durationMs: 1000 }, time: 6000 },
    ]);
  });

  it('gives each module what is left of the deadline to stop, and reports how long the shutdown took', async () => {
    const { node, scheduler, events } = watchedNode({ shutdownTimeoutMs: 1000 });
    const stopped: string[] = [];
    const slow = defineModule({
      name: 'slow',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      handle: () => undefined,
      async stop(ctx) {
        await ctx.delay(200);
        stopped.push(ctx.name);
      },
    });
    await drive(scheduler, node.load(slow));
    await scheduler.advanceBy(5000);
    await drive(scheduler, node.shutdown());
    expect(stopped).toEqual(['slow']);
    expect(node.status()).toMatchObject({ state: 'stopped', killedAtShutdown: [] });
    expect(events.filter((event) => event.type === 'NodeShutdownCompleted')).toEqual([
      { type: 'NodeShutdownCompleted', payload: { durationMs: 200 }, time: 5200 },
    ]);
  });

  it('stops a module whose first incarnation has not started yet: its load is refused, the shutdown completes', async () => {
    const { node, scheduler, events, lines } = watchedNode();
    // A host that never reports its start (a process module still spawning its process).
    const silent: LoadableModule<NodeEventMap> = {
      name: 'silent',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      instanceBehavior: () => ({ create: () => ({ receive: () => undefined }) }),
    };
    const loading = node.load(silent);
    await scheduler.runUntilIdle(); // no timer fires: the load's answer stays due
    const modules = node.modules();
    await scheduler.runUntilIdle();
    expect(await modules).toMatchObject([{ name: 'silent', state: 'loading', instanceId: null }]);
    const shutdown = node.shutdown();
    const refused = await rejection(scheduler, loading);
    await drive(scheduler, shutdown);
    expect(isModactorError(refused) && refused.code).toBe('module-startup-failed');
    expect((refused as Error).message).toBe('Module "silent" was stopped before it finished starting');
    expect(events.filter((event) => event.type === 'ModuleStopped').map((event) => event.payload)).toEqual([{ moduleName: 'silent' }]);
    expect(node.status()).toMatchObject({ state: 'stopped', killedAtShutdown: [] });
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});

describe('a module whose host cannot be built', () => {
  const broken = (name: string): LoadableModule<NodeEventMap> => ({
    name,
    version: '2.0.0',
    subscribe: ['NewBlock'],
    instanceBehavior: () => {
      throw new RangeError('no host today');
    },
  });

  it('refuses its load with a typed error naming the module and the cause, and loads nothing', async () => {
    const { node, scheduler } = watchedNode();
    const refused = await rejection(scheduler, node.load(broken('b')));
    expect(isModactorError(refused) && refused.code).toBe('module-startup-failed');
    expect((refused as Error).message).toBe('Module "b" could not be started: no host today');
    expect((refused as Error).cause).toBeInstanceOf(RangeError);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(node.status().state).toBe('running');
    await drive(scheduler, node.shutdown());
  });

  it('refuses a reload to it with a typed error: the old module is stopped, nothing is loaded', async () => {
    const { node, scheduler } = watchedNode();
    await drive(scheduler, node.load(reporter('b', {})));
    const refused = await rejection(scheduler, node.reload('b', broken('b')));
    expect(isModactorError(refused) && refused.code).toBe('module-startup-failed');
    expect((refused as Error).message).toBe('Module "b" could not be started: no host today');
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(node.status().state).toBe('running');
    await drive(scheduler, node.shutdown());
  });
});

describe('a module whose setup failed', () => {
  it('is stopped without running a stop it never got, and without an onStop error', async () => {
    const { node, scheduler, lines } = watchedNode();
    const failing = defineModule({
      name: 'f',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      setup() {
        throw new RangeError('no setup today');
      },
      handle: () => undefined,
      stop: () => undefined,
    });
    const refused = await rejection(scheduler, node.load(failing));
    expect(isModactorError(refused) && refused.code).toBe('module-startup-failed');
    await settle(scheduler);
    expect(lines.filter((line) => line.msg === 'onStop failed')).toEqual([]);
    await drive(scheduler, node.shutdown());
  });
});
