/**
 * A module that fails to start is answered, not retried: `node.load` rejects with
 * `module-startup-failed` carrying what its setup threw, after ONE attempt, and nobody hears of a
 * module that never loaded. Once it has started, the same failure on a restart is a crash, and the
 * restart policy applies.
 */
import { describe, expect, it } from 'vitest';
import { EventType, defineModule, isModactorError } from '../../src/index.js';
import { drive, hash, recorder, simNode } from './helpers.js';

describe('a module whose first start fails', () => {
  it('rejects the load once with the cause, runs setup once and announces nothing', async () => {
    const { node, scheduler } = simNode(7, { autoRun: false });
    const watcher = recorder('watcher', [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded]);
    await drive(scheduler, node.load(watcher.module));
    let setups = 0;
    const missing = new Error('Cannot find package tsx');
    const outcome = await drive(
      scheduler,
      node.load(
        defineModule({
          name: 'needs-tsx',
          version: '1.0.0',
          subscribe: [],
          restart: { maxRestarts: 5, withinMs: 60_000 },
          setup() {
            setups++;
            throw missing;
          },
          handle() {},
        }),
      ).then(() => 'loaded', (error: unknown) => error),
    );
    expect(isModactorError(outcome, 'module-startup-failed')).toBe(true);
    expect((outcome as Error).cause).toBe(missing);
    expect((outcome as Error).message).toContain('Cannot find package tsx');
    expect(setups).toBe(1);
    expect(watcher.seen).toEqual(['ModuleLoaded(watcher)']);
    expect((await drive(scheduler, node.modules())).map((m) => m.name)).toEqual(['watcher']);
    // The name is free again: a fixed version loads.
    await drive(scheduler, node.load(defineModule({ name: 'needs-tsx', version: '1.0.1', subscribe: [], handle() {} })));
    expect(watcher.seen).toEqual(['ModuleLoaded(watcher)', 'ModuleLoaded(needs-tsx)']);
    await drive(scheduler, node.shutdown());
  });

  it('is restarted by its policy when the same failure comes after it once started', async () => {
    const { node, scheduler } = simNode(8, { autoRun: false });
    let setups = 0;
    await drive(
      scheduler,
      node.load(
        defineModule({
          name: 'flaky',
          version: '1.0.0',
          subscribe: [EventType.NewBlock],
          restart: { maxRestarts: 3, withinMs: 60_000 },
          setup() {
            setups++;
            if (setups > 1) throw new Error('the disk went away');
          },
          handle() {
            throw new Error('crash');
          },
        }),
      ),
    );
    node.events.publish({ type: EventType.NewBlock, payload: { blockHash: hash(1), height: 1 } });
    await scheduler.runAll();
    // One start, then 3 restarts whose setup fails, then given up: 1 + 3 setups, not 1.
    expect(setups).toBe(4);
    expect((await drive(scheduler, node.modules())).map((m) => m.name)).toEqual([]);
    await drive(scheduler, node.shutdown());
  });
});
