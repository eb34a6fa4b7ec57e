import { describe, expect, it } from 'vitest';
import { assign, createMachine } from 'xstate';
import { EventType, defineModule, type NodeEvent } from '../../src/index.js';
import { hash, recorder, simNode } from './helpers.js';

const blockCounter = createMachine({
  types: {} as { context: { blocks: number }; events: NodeEvent },
  context: { blocks: 0 },
  initial: 'syncing',
  states: {
    syncing: {
      on: {
        NewBlock: [
          { guard: ({ context }) => context.blocks >= 2, target: 'synced', actions: assign({ blocks: ({ context }) => context.blocks + 1 }) },
          { actions: assign({ blocks: ({ context }) => context.blocks + 1 }) },
        ],
      },
    },
    synced: {
      on: {
        ChainReorg: { target: 'failed' },
      },
    },
    failed: { entry: () => { throw new Error('reorg while synced'); } },
  },
});

describe('a module defined as an xstate machine', () => {
  it('receives events as machine events, and a machine error is a supervised crash', async () => {
    const { node, scheduler } = simNode(31);
    const states: string[] = [];
    const watcher = recorder('watcher', [EventType.ModuleCrashed, EventType.ModuleLoaded]);
    await node.load(watcher.module);
    await node.load(
      defineModule({
        name: 'sync-tracker',
        version: '1.0.0',
        subscribe: [EventType.NewBlock, EventType.ChainReorg],
        machine: blockCounter,
        onSnapshot: (snapshot) => states.push(String(snapshot.value)),
      }),
    );
    for (let h = 1; h <= 3; h++) node.publisher.newBlock(hash(h), h);
    await scheduler.runUntilIdle();
    expect(states.at(-1)).toBe('synced');
    node.publisher.chainReorg(hash(3), hash(4));
    await scheduler.runAll();
    expect(watcher.seen).toEqual(['ModuleLoaded(watcher)', 'ModuleLoaded(sync-tracker)', 'ModuleCrashed(sync-tracker)', 'ModuleLoaded(sync-tracker)']);
    expect(states.at(-1)).toBe('syncing');
    await node.shutdown();
  });
});
