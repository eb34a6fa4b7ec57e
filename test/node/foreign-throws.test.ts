/**
 * Throws from code the node does not own, on its event paths: a catalogue whose `validate` throws
 * something that is not a ModactorError on an event from the bus (src/node/bus-port.ts), and a tap
 * that throws (src/node/event-router.ts): neither is the publisher's problem.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EventType,
  createNode,
  createSimulatedScheduler,
  isModactorError,
  nodeCatalogue,
  type Catalogue,
  type NodeEventMap,
} from '../../src/index.js';
import { busPort } from '../../src/node/bus-port.js';
import { nodeInternals } from '../../src/node/node.js';
import { hash, recorder } from '../scenarios/helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('an event from the bus that the catalogue throws on', () => {
  it('is refused with invalid-event naming the throw, its cause the thrown value, and delivered to no one', async () => {
    const bug = new RangeError('height 13 is unlucky');
    // A catalogue of the application's own making, whose validate throws a plain error.
    const catalogue: Catalogue<NodeEventMap> = {
      ...nodeCatalogue,
      validate(value, meta) {
        if ((value as { payload?: { height?: unknown } }).payload?.height === 13) throw bug;
        return nodeCatalogue.validate(value, meta);
      },
    };
    const scheduler = createSimulatedScheduler({ seed: 701, autoRun: true });
    const node = createNode({ scheduler, catalogue });
    const sink = recorder('sink', [EventType.NewBlock]);
    await node.load(sink.module);
    const port = busPort(node, 'a');
    const origin = { nodeId: 'b', module: 'miner', seq: 1 };
    const refused = port.injectRemote({ type: 'NewBlock', payload: { blockHash: hash(13), height: 13 } }, origin);
    expect(isModactorError(refused, 'invalid-event')).toBe(true);
    expect(refused).toMatchObject({ message: 'A remote event could not be taken: height 13 is unlucky' });
    expect((refused as Error).cause).toBe(bug);
    expect(port.injectRemote({ type: 'NewBlock', payload: { blockHash: hash(14), height: 14 } }, origin)).toMatchObject({ enqueued: 1 });
    await scheduler.runAll();
    expect(sink.seen).toEqual(['NewBlock(14)']);
    await node.shutdown();
  });
});

describe('a tap that throws', () => {
  it('does not keep the publish or the other taps from going on: its error is thrown again on a macrotask of its own', async () => {
    const scheduler = createSimulatedScheduler({ seed: 702, autoRun: true });
    const node = createNode({ scheduler });
    const { router } = nodeInternals(node);
    const told: string[] = [];
    const untapBroken = router.tap(() => {
      throw new Error('tap broke');
    });
    const untap = router.tap((event) => void told.push(event.type));
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    expect(node.publisher.newBlock(hash(1), 1)).toMatchObject({ enqueued: 0, failed: 0 });
    expect(told).toEqual(['NewBlock']);
    expect(() => vi.runOnlyPendingTimers()).toThrow('tap broke');
    vi.useRealTimers();
    untapBroken();
    untap();
    await node.shutdown();
  });
});
