import { it, expect } from 'vitest';
import { createActorSystem, createSimulatedScheduler } from '../src/index.js';

it('smoke', async () => {
  const scheduler = createSimulatedScheduler({ seed: 3, autoRun: false });
  const system = createActorSystem({ scheduler });
  const seen: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ref = system.spawn<number>(async (m) => { seen.push(m); if (m === 0) await gate; }, { name: 'stuck' });
  const results = Array.from({ length: 150 }, (_, i) => ref.tell(i));
  await scheduler.runUntilIdle();
  const after = Array.from({ length: 0 }, () => 0);
  void after;
  expect(results.filter((r) => r === 'enqueued').length).toBe(100);
  // with autoRun false: first 100 enqueued immediately before any handling
  release();
  await scheduler.runUntilIdle();
  expect(seen.length).toBe(100);
  const boom = system.spawn<string>((m) => { if (m === 'boom') throw new Error('x'); seen.push(-1); }, { name: 'boom' });
  boom.tell('boom');
  await scheduler.runUntilIdle();
  const again = system.lookup<string>('/boom');
  expect(again).toBeDefined();
  expect(again).not.toBe(boom);
  again!.tell('ok');
  await scheduler.runUntilIdle();
  expect(seen.at(-1)).toBe(-1);
  const done = system.shutdown(); await scheduler.runAll(); await done;
  expect(ref.isAlive).toBe(false);
});
