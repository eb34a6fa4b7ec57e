/**
 * Module hosts that fail before they report their incarnation (a `LoadableModule.instanceBehavior`
 * whose create throws, at the first start or at a restart), and a module's actor stopped from
 * outside the node: the supervisor sees each end, answers the load or gives the module up, and
 * the node keeps its promises.
 */
import { describe, expect, it } from 'vitest';
import {
  type ActorContext,
  createNode,
  createSimulatedScheduler,
  defineModule,
  isModactorError,
  type LoadableModule,
  type ModactorNode,
  type ModuleDefinition,
  type NodeEventMap,
} from '../../src/index.js';
import { ModuleInstance } from '../../src/node/module-instance.js';
import { nodeInternals } from '../../src/node/node.js';
import { memoryLogger } from '../kernel/support.js';
import { block, drive, rejection, settle } from './support.js';

/** A node on a simulated clock, the lifecycle and health events it publishes, and its log lines. */
function observedNode() {
  const { logger, lines } = memoryLogger('info');
  const scheduler = createSimulatedScheduler({ seed: 7, autoRun: false });
  const node: ModactorNode = createNode({ scheduler, logger });
  const seen: string[] = [];
  nodeInternals(node).router.tap((event) => {
    const payload = event.payload as { moduleName?: string; newHealth?: string; newState?: string };
    if (event.type === 'ModuleHealthChanged') seen.push(`health ${payload.moduleName}: ${payload.newHealth}`);
    if (event.type === 'ModuleStateChanged') seen.push(`state ${payload.moduleName}: ${payload.newState}`);
    if (event.type === 'ModuleCrashed') seen.push(`crashed ${payload.moduleName}: ${(event.payload as { error: string }).error}`);
  });
  return { node, scheduler, seen, lines };
}

/** A module that throws on every NewBlock. */
const brittle = (name: string): ModuleDefinition =>
  defineModule({
    name,
    version: '1.0.0',
    subscribe: ['NewBlock'],
    handle() {
      throw new Error('handler failed');
    },
  });

/**
 * `definition` run by a host of its own, whose `create` throws from its `failFrom`-th incarnation
 * on (1: at once); the incarnations before are the node's own in-process ones.
 */
function ownHost(definition: ModuleDefinition, failFrom: number): { module: LoadableModule<NodeEventMap>; creates: () => number } {
  let creates = 0;
  return {
    creates: () => creates,
    module: {
      name: definition.name,
      version: definition.version,
      subscribe: definition.subscribe,
      instanceBehavior: (services) => ({
        create(actx) {
          creates++;
          if (creates >= failFrom) throw new RangeError(`host ${creates} cannot start`);
          return new ModuleInstance<NodeEventMap>(definition, services, null, actx, undefined);
        },
      }),
    },
  };
}

describe('a module host whose create throws', () => {
  it('at its first start: the load fails with module-startup-failed, what it threw as the cause, and nothing stays loaded', async () => {
    const { node, scheduler, lines } = observedNode();
    const host = ownHost(brittle('m'), 1);
    const refused = await rejection(scheduler, node.load(host.module));
    expect(isModactorError(refused, 'module-startup-failed')).toBe(true);
    expect((refused as Error).message).toBe('Module "m" failed to start: host 1 cannot start');
    expect((refused as Error).cause).toBeInstanceOf(RangeError);
    expect(host.creates()).toBe(1);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(lines.filter((l) => l.module === 'm').map((l) => l.msg)).toEqual(['module crashed', 'module failed to start']);
    // The name is free again, and the node goes on.
    await drive(scheduler, node.load(brittle('m')));
    expect((await drive(scheduler, node.modules())).map((m) => m.state)).toEqual(['running']);
    expect(node.status().state).toBe('running');
    await drive(scheduler, node.shutdown());
  });

  it('at each restart after a crash: the module is restarted up to its intensity, then given up, unhealthy and unlisted', async () => {
    const { node, scheduler, seen, lines } = observedNode();
    const host = ownHost(brittle('m'), 2);
    await drive(scheduler, node.load(host.module));
    node.events.publish(block(1));
    await settle(scheduler);
    // The first incarnation crashed; each restart's create threw, up to the intensity (3 in 10 s).
    expect(host.creates()).toBe(4);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(seen.filter((s) => s.includes(' m: '))).toEqual([
      'state m: subscribing',
      'state m: running',
      'crashed m: handler failed', // only its announced incarnation is said to crash
      'state m: crashed',
      'health m: degraded',
      'state m: stopped',
      'health m: unhealthy',
    ]);
    expect(lines.filter((l) => l.module === 'm' && l.msg === 'module crashed')).toHaveLength(4);
    expect(lines.filter((l) => l.module === 'm' && l.msg === 'module stopped for good')).toMatchObject([{ reason: expect.stringMatching(/host 4 cannot start/) as string }]);
    await drive(scheduler, node.shutdown());
  });
});

describe('a module whose actor is stopped from outside the node', () => {
  it('is given up, even a permanent one: the kernel does not restart a child stopped so, and the module does not stay crashed', async () => {
    const { node, scheduler, seen, lines } = observedNode();
    await drive(scheduler, node.load(brittle('m')));
    const ref = node.system.lookup('/modules/m');
    expect(ref?.isAlive).toBe(true);
    await drive(scheduler, node.system.stop(ref as NonNullable<typeof ref>));
    await settle(scheduler);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(seen.filter((s) => s.includes(' m: ')).slice(-4)).toEqual(['state m: crashed', 'health m: degraded', 'state m: stopped', 'health m: unhealthy']);
    expect(lines.filter((l) => l.module === 'm' && l.msg === 'module stopped for good')).toMatchObject([{ reason: 'not restarted' }]);
    await drive(scheduler, node.shutdown());
  });
});

describe('a module that crashes and then does not stop in time', () => {
  it('is killed at its stop timeout and restarted: ModuleCrashed names its crash, the crash log the kill too', async () => {
    const { node, scheduler, seen, lines } = observedNode();
    const slow = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      shutdownTimeoutMs: 100,
      handle() {
        throw new Error('handler failed');
      },
      stop: (ctx) => ctx.delay(10_000),
    });
    await drive(scheduler, node.load(slow));
    node.events.publish(block(1));
    await settle(scheduler);
    expect(seen.filter((s) => s.startsWith('crashed'))).toEqual(['crashed m: handler failed']);
    expect(lines.filter((l) => l.module === 'm' && l.msg === 'module crashed')).toMatchObject([
      { err: { message: 'handler failed' }, killed: expect.stringMatching(/^did not stop within \d+ ms$/) as string },
    ]);
    expect((await drive(scheduler, node.modules())).map(({ state, restarts }) => ({ state, restarts }))).toEqual([{ state: 'running', restarts: 1 }]);
    await drive(scheduler, node.shutdown());
  });
});

/** `definition` run by in-process incarnations whose actor contexts the test keeps (to end one as its host could). */
function keptHosts(definition: ModuleDefinition, restart: 'permanent' | 'transient'): { module: LoadableModule<NodeEventMap>; hosts: ActorContext<unknown>[] } {
  const hosts: ActorContext<unknown>[] = [];
  return {
    hosts,
    module: {
      name: definition.name,
      version: definition.version,
      subscribe: definition.subscribe,
      restart: { type: restart },
      instanceBehavior: (services) => ({
        create(actx) {
          hosts.push(actx);
          return new ModuleInstance<NodeEventMap>(definition, services, null, actx, undefined);
        },
      }),
    },
  };
}

describe('a module whose actor ends normally (its host stops itself)', () => {
  it('transient: is given up, not restarted (the kernel restarts a transient child only after a failure)', async () => {
    const { node, scheduler, seen, lines } = observedNode();
    const host = keptHosts(brittle('m'), 'transient');
    await drive(scheduler, node.load(host.module));
    host.hosts[0]?.stopSelf();
    await settle(scheduler);
    expect(host.hosts).toHaveLength(1);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    expect(seen.filter((s) => s.includes(' m: ')).slice(-4)).toEqual(['state m: crashed', 'health m: degraded', 'state m: stopped', 'health m: unhealthy']);
    expect(lines.filter((l) => l.module === 'm' && l.msg === 'module stopped for good')).toMatchObject([{ reason: 'not restarted' }]);
    await drive(scheduler, node.shutdown());
  });

  it('permanent: is restarted, without a crash', async () => {
    const { node, scheduler, seen } = observedNode();
    const host = keptHosts(brittle('m'), 'permanent');
    await drive(scheduler, node.load(host.module));
    host.hosts[0]?.stopSelf();
    await settle(scheduler);
    expect(host.hosts).toHaveLength(2);
    expect((await drive(scheduler, node.modules())).map(({ state, restarts }) => ({ state, restarts }))).toEqual([{ state: 'running', restarts: 1 }]);
    expect(seen.filter((s) => s.startsWith('crashed'))).toEqual([]);
    await drive(scheduler, node.shutdown());
  });
});

describe('a module unloaded while its restart waits out the backoff', () => {
  it('is unloaded: nothing of it runs any more, and the unload is logged', async () => {
    const { node, scheduler, lines } = observedNode();
    const m = defineModule({
      name: 'm',
      version: '1.0.0',
      subscribe: ['NewBlock'],
      restart: { backoff: { minMs: 5000, maxMs: 5000, jitter: 0 } },
      handle() {
        throw new Error('handler failed');
      },
    });
    await drive(scheduler, node.load(m));
    node.events.publish(block(1));
    // Without moving the clock: it crashed, and its restart comes in 5 s.
    const unloaded = node.unload('m');
    for (let i = 0; i < 10; i++) {
      await scheduler.runUntilIdle();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(scheduler.now()).toBe(0);
    await unloaded;
    expect(lines.filter((l) => l.module === 'm').map((l) => l.msg)).toEqual(['module loaded', 'module crashed', 'module unloaded']);
    await scheduler.advanceBy(10_000);
    expect(await drive(scheduler, node.modules())).toEqual([]);
    await drive(scheduler, node.shutdown());
  });
});

describe('a module reloaded before its actor reported itself', () => {
  it('is reloaded: the end of the actor that never reported does not touch the new load', async () => {
    const { node, scheduler } = observedNode();
    // A host that never reports: its load waits, and the reload replaces it.
    const silent: LoadableModule<NodeEventMap> = { name: 'm', version: '1.0.0', subscribe: ['NewBlock'], instanceBehavior: () => ({ create: () => ({ receive: () => undefined }) }) };
    const first = node.load(silent).then(
      () => 'loaded',
      (error: unknown) => (error as Error).message,
    );
    await scheduler.runUntilIdle();
    const reloaded = await drive(scheduler, node.reload('m', brittle('m')));
    expect(reloaded).toMatchObject({ name: 'm', state: 'running' });
    expect(await drive(scheduler, first)).toBe('Module "m" was stopped before it finished starting');
    await settle(scheduler);
    expect((await drive(scheduler, node.modules())).map(({ state, health }) => ({ state, health }))).toEqual([{ state: 'running', health: 'healthy' }]);
    await drive(scheduler, node.shutdown());
  });
});
