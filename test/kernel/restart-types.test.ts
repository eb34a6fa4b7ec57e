import { describe, expect, it } from 'vitest';
import type { ActorRef, RestartType } from '../../src/index.js';
import { shutdown, simulated } from './support.js';

type Command = 'fail' | 'exit';

/** Spawns a top-level actor of `restart` type, sends it `command`, and says whether it came back. */
async function afterCommand(restart: RestartType, command: Command) {
  const sim = simulated();
  const { scheduler, system } = sim;
  const ref = system.spawn<Command>(
    (m, ctx) => {
      if (m === 'fail') throw new Error('failure');
      ctx.stopSelf();
    },
    { name: 'child', restart },
  );
  await scheduler.runUntilIdle();
  ref.tell(command);
  await scheduler.runUntilIdle();
  const now = system.lookup<Command>('/child');
  const restarted = now !== undefined && now !== ref;
  await shutdown(sim);
  return { restarted, oldAlive: ref.isAlive, reason: await system.whenTerminated(ref) };
}

describe('restart types', () => {
  it.each([
    ['permanent', 'fail', true],
    ['permanent', 'exit', true],
    ['transient', 'fail', true],
    ['transient', 'exit', false],
    ['temporary', 'fail', false],
    ['temporary', 'exit', false],
  ] as const)('a %s child after a %s is restarted: %s', async (restart, command, expected) => {
    const { restarted, oldAlive, reason } = await afterCommand(restart, command);
    expect(restarted).toBe(expected);
    expect(oldAlive).toBe(false);
    expect(reason.kind).toBe(command === 'fail' ? 'failed' : 'normal');
  });

  it('does not restart a permanent child that was deliberately stopped', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const ref: ActorRef<never> = system.spawn(() => undefined, { name: 'child', restart: 'permanent' });
    const stopped = system.stop(ref);
    await scheduler.runUntilIdle();
    await stopped;
    expect(system.lookup('/child')).toBeUndefined();
    await shutdown(sim);
  });

  it('removes a child that is not restarted, so its name can be used again', async () => {
    const sim = simulated();
    const { scheduler, system } = sim;
    const ref = system.spawn<'fail'>(() => {
      throw new Error('once');
    }, { name: 'once', restart: 'temporary' });
    ref.tell('fail');
    await scheduler.runUntilIdle();
    expect(system.lookup('/once')).toBeUndefined();
    expect(system.spawn(() => undefined, { name: 'once' }).isAlive).toBe(true);
    await shutdown(sim);
  });
});
