/**
 * The module supervisor where its messages race: health windows whose timer fired while the
 * supervisor was busy, a window's end, a shutdown that starts late on the clock or meets a module
 * not started yet, hosts that cannot be built, a setup that failed, reports from incarnations an
 * unload or a reload replaced, subscriptions made while a module starts, an incarnation that ends
 * between its subscription and its announcement, an event manager slow to answer; on a simulated
 * clock, turns ordered by the scheduler.
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
  type Schedulable,
  type Scheduler,
} from '../../src/index.js';
import { busPort } from '../../src/node/bus-port.js';
import { createIncarnation } from '../../src/node/event-router.js';
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
function reporter(name: string, healthAt: Record<number, ModuleHealth>): ModuleDefinition {
  return defineModule({
    name,
    version: '1.0.0',
    subscribe: ['NewBlock'],
    handle(event: NodeEvent, ctx) {
      const health = event.type === 'NewBlock' ? healthAt[event.payload.height] : undefined;
      if (health !== undefined) ctx.reportHealth(health);
    },
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

describe('reports from an incarnation that is no longer its module\'s', () => {
  it('ignores the health an incarnation reports while its module is reloaded', async () => {
    const { node, scheduler, healthChanges } = watchedNode();
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
    await drive(scheduler, node.reload('m'));
    await settle(scheduler);
    expect(healthChanges()).toEqual([]);
    expect(await drive(scheduler, node.modules())).toMatchObject([{ name: 'm', state: 'running', health: 'healthy' }]);
    await drive(scheduler, node.shutdown());
  });

  it('ignores an overflow of an incarnation whose module was unloaded while its membership events piled up', async () => {
    const { node, scheduler, lines } = watchedNode();
    const stuck = defineModule({
      name: 'stuck',
      version: '1.0.0',
      subscribe: ['ModuleLoaded'],
      mailboxCapacity: 1,
      membershipCapacity: 1,
      shutdownTimeoutMs: 100,
      handle: () => new Promise<void>(() => undefined),
    });
    await drive(scheduler, node.load(stuck));
    await settle(scheduler); // it holds its own ModuleLoaded, for ever
    const port = busPort(node, 'here');
    const unloaded = node.unload('stuck');
    await scheduler.runUntilIdle(); // the supervisor waits for it to stop (killed at 100 ms)
    for (const module of ['a', 'b', 'c']) port.announceRemote('there', module, '1.0.0'); // more than it has room for
    await drive(scheduler, unloaded);
    await settle(scheduler);
    expect(lines.filter((line) => line.msg === 'membership events dropped: the module does not take its events')).toEqual([]);
    expect(node.status()).toMatchObject({ state: 'running' });
    await drive(scheduler, node.load(reporter('m', {})));
    await drive(scheduler, node.shutdown());
  });
});

describe('subscriptions', () => {
  it('drops unknown types from a module\'s run-time subscription', async () => {
    const { node, scheduler } = watchedNode();
    const curious = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      setup(ctx) {
        ctx.subscribe(['NewTransaction', 'NoSuchType' as 'NewBlock']);
      },
      handle: () => undefined,
    });
    await drive(scheduler, node.load(curious));
    await settle(scheduler);
    expect(await drive(scheduler, node.events.getSubscribers('NewTransaction'))).toEqual(['m']);
    expect(await drive(scheduler, node.events.getSubscribers('NoSuchType'))).toEqual([]);
    await drive(scheduler, node.shutdown());
  });

  it('subscribes a module to types added from outside while it starts only with its handshake', async () => {
    const { node, scheduler } = watchedNode();
    let openSetup!: () => void;
    const seen: string[] = [];
    const slow = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      setup: () =>
        new Promise<void>((resolve) => {
          openSetup = resolve;
        }),
      handle(event: NodeEvent) {
        seen.push(event.type);
      },
    });
    const loading = node.load(slow);
    await scheduler.runUntilIdle(); // its incarnation started, its setup runs
    const subscribed = node.events.subscribe('m', ['NewTransaction']);
    await scheduler.runUntilIdle();
    await subscribed; // answered at once: the handshake will carry it
    // Not subscribed yet: its handshake has not happened.
    expect(node.publisher.newTransaction('ab'.repeat(32))).toMatchObject({ enqueued: 0 });
    const subscribers = node.events.getSubscribers('NewTransaction');
    await scheduler.runUntilIdle(); // no timer fires: the load's answer stays due
    expect(await subscribers).toEqual([]);
    openSetup();
    await drive(scheduler, loading);
    expect(await drive(scheduler, node.events.getSubscribers('NewTransaction'))).toEqual(['m']);
    node.publisher.newTransaction('cd'.repeat(32));
    await settle(scheduler);
    expect(seen).toEqual(['NewTransaction']);
    await drive(scheduler, node.shutdown());
  });

  it('subscribes a loaded or reloaded module to its own types only', async () => {
    const { node, scheduler } = watchedNode();
    // The router's record of what each module's current incarnation is subscribed to.
    const typesOf = (name: string) =>
      (nodeInternals(node).router as unknown as { byModule: Map<string, { types: readonly string[] }> }).byModule.get(name)?.types;
    await drive(scheduler, node.load(reporter('m', {})));
    await settle(scheduler);
    expect(typesOf('m')).toEqual(['NewBlock']);
    await drive(scheduler, node.reload('m'));
    await settle(scheduler);
    expect(typesOf('m')).toEqual(['NewBlock']);
    await drive(scheduler, node.shutdown());
  });
});

describe('an incarnation that ends during its handshake', () => {
  it('is not announced when it ended between its subscription and its announcement: its load fails', async () => {
    const { node, scheduler, events } = watchedNode();
    await drive(scheduler, node.load(reporter('first', {})));
    // A host that stops itself on the first event it takes: the ModuleLoaded of `first`, replayed
    // to it as its subscription is made, before the supervisor asks for its announcement.
    const quitter: LoadableModule<NodeEventMap> = {
      name: 'q',
      version: '1.0.0',
      subscribe: ['ModuleLoaded'],
      restart: { type: 'temporary' },
      instanceBehavior: (services) => ({
        create(actx) {
          const incarnation = createIncarnation<NodeEventMap>({
            name: 'q',
            version: '1.0.0',
            ref: actx.self,
            stats: services.router.statsFor('q'),
            capacity: actx.mailboxCapacity,
          });
          return {
            onStart() {
              services.report({ kind: 'instance-started', incarnation });
              services.report({ kind: 'handshake', incarnation, types: ['ModuleLoaded'] });
            },
            receive() {
              actx.stopSelf();
            },
          };
        },
      }),
    };
    const refused = await rejection(scheduler, node.load(quitter));
    expect(isModactorError(refused) && refused.code).toBe('module-startup-failed');
    expect((refused as Error).message).toBe('Module "q" failed to start: not restarted');
    expect(events.filter((event) => event.type === 'ModuleStarted').map((event) => event.payload)).toEqual([{ moduleName: 'first' }]);
    expect(await drive(scheduler, node.events.getLoadedModules())).toEqual(['first']);
    await drive(scheduler, node.shutdown());
  });
});

describe('the event manager, slow to answer', () => {
  it('is waited for up to a minute: a load completes though the event manager gets no turn for ten seconds', async () => {
    const inner = createSimulatedScheduler({ seed: 1, autoRun: false });
    // The node's scheduler, but the event manager's turns are held while `starving`.
    let starving = true;
    const held: Schedulable[] = [];
    const scheduler: Scheduler = {
      kind: 'simulated',
      throughput: inner.throughput,
      now: () => inner.now(),
      setTimer: (delayMs, fn) => inner.setTimer(delayMs, fn),
      random: () => inner.random(),
      newId: () => inner.newId(),
      enqueue(task) {
        if (starving && (task as unknown as { path?: string }).path === '/events') held.push(task);
        else inner.enqueue(task);
      },
    };
    const node = createNode({ scheduler });
    const loading = node.load(reporter('m', {}));
    await inner.advanceBy(10_000); // the supervisor asked the event manager to subscribe m, and waits
    expect(held).not.toEqual([]);
    starving = false;
    for (const task of held.splice(0)) inner.enqueue(task);
    expect(await drive(inner, loading)).toMatchObject({ name: 'm', state: 'running' });
    expect(node.status()).toMatchObject({ state: 'running' });
    await drive(inner, node.shutdown());
  });
});
