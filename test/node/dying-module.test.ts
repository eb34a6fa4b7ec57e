/**
 * A module that dies while its node is bringing it in: killed after the supervisor checked it was
 * alive but before the event manager's turn subscribes and announces it
 * (src/node/event-manager.ts, src/node/event-router.ts). It is neither subscribed nor announced:
 * nothing is offered to it, no other module hears of it, and its load fails.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, isModactorError } from '../../src/index.js';
import type { Failure } from '../../src/kernel/supervision.js';
import { recorder } from '../scenarios/helpers.js';

describe('a module killed between the supervisor\'s check and the event manager\'s turn', () => {
  it('is not subscribed or announced: no replay is offered to it, nobody hears of it, its load fails', async () => {
    const scheduler = createSimulatedScheduler({ seed: 801, autoRun: true });
    const node = createNode({ scheduler });
    const watcher = recorder('watcher', [EventType.ModuleLoaded, EventType.ModuleStarted, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await node.load(watcher.module);
    // m subscribes to ModuleLoaded: a subscription would replay the watcher's ModuleLoaded to it.
    const m = recorder('m', [EventType.ModuleLoaded, EventType.NewBlock], { restart: { type: 'temporary' } });
    let killed = false;
    const stopInspecting = node.system.inspect((event) => {
      if (killed || event.type !== 'offered' || event.actor !== '/events') return;
      const message = event.message as { readonly kind?: string; readonly incarnation?: { readonly name: string } };
      if (message.kind !== 'subscribe' || message.incarnation?.name !== 'm') return;
      // The supervisor, in its handshake turn, just asked for the subscription: m dies now (as
      // a stop timeout kills a module), before the event manager takes the request.
      killed = true;
      const cell = node.system.lookup('/modules/m') as unknown as { kill(failure: Failure): void };
      cell.kill({ kind: 'crashed', message: 'killed before its subscription' });
    });
    const failure = await node.load(m.module).then(
      () => null,
      (error: unknown) => error,
    );
    stopInspecting();
    expect(killed).toBe(true);
    expect(isModactorError(failure, 'module-startup-failed')).toBe(true);
    await scheduler.runAll();
    expect(m.seen).toEqual([]);
    // Nothing was offered to it (a replay to a dead module would count failed offers).
    expect(await node.events.getDeliveryStats('m')).toMatchObject({ successful: 0, failed: 0, channelFull: 0 });
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual([]);
    expect(await node.events.getLoadedModules()).toEqual(['watcher']);
    // Never announced: no ModuleLoaded, ModuleStarted, ModuleCrashed or ModuleUnloaded of m.
    expect(watcher.seen.filter((seen) => seen.includes('(m)'))).toEqual([]);
    expect(await node.modules()).toMatchObject([{ name: 'watcher', state: 'running' }]);
    await node.shutdown();
  });
});
