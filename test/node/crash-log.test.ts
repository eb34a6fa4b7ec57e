/**
 * One crash, one log line: the node's supervisor says `module crashed` (warn, with the module's
 * binding and the error); the kernel under it does not say `actor failed` as well.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createNode, createSimulatedScheduler, defineModule, EventType } from '../../src/index.js';
import { block } from './support.js';

describe('a module that crashes', () => {
  it('is logged once per crash, as module crashed, with its name and the error', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const scheduler = createSimulatedScheduler({ seed: 3, autoRun: true });
    const node = createNode({ scheduler, logger });
    await node.start();
    await node.load(
      defineModule({
        name: 'crashy',
        version: '1.0.0',
        subscribe: [EventType.NewBlock],
        restart: { type: 'permanent', maxRestarts: 10, withinMs: 60_000 },
        handle(event) {
          if (event.type === 'NewBlock') throw new RangeError(`bad block ${event.payload.height}`);
        },
      }),
    );
    // A watcher says when crashy has started again after each crash.
    let restarted: () => void = () => undefined;
    await node.load(
      defineModule({
        name: 'watcher',
        version: '1.0.0',
        subscribe: [EventType.ModuleStarted],
        handle(event) {
          if (event.type === 'ModuleStarted' && event.payload.moduleName === 'crashy') restarted();
        },
      }),
    );
    for (let n = 1; n <= 3; n++) {
      const started = new Promise<void>((resolve) => (restarted = resolve));
      node.events.publish(block(n));
      await started;
    }
    await node.shutdown();

    const aboutTheCrash = lines.filter((l) => l['level'] as number >= 40 && JSON.stringify(l).includes('bad block'));
    expect(aboutTheCrash.map((l) => [l['msg'], l['module'], l['level'], (l['err'] as { message?: string }).message])).toEqual([
      ['module crashed', 'crashy', 40, 'bad block 1'],
      ['module crashed', 'crashy', 40, 'bad block 2'],
      ['module crashed', 'crashy', 40, 'bad block 3'],
    ]);
    expect(lines.filter((l) => l['msg'] === 'actor failed')).toEqual([]);
  });
});
