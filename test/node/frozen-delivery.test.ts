/**
 * What subscribers get is frozen plain data: no subscriber (and not the publisher) can change
 * what another subscriber sees, for published events (parsed by the catalogue) and for the
 * lifecycle events the node builds itself alike.
 */
import { describe, expect, it } from 'vitest';
import { EventType, defineModule, type ModuleDefinition, type NodeEvent } from '../../src/index.js';
import { isDeepFrozen } from '../events/frozen.js';
import { hash, recorder, simNode } from '../scenarios/helpers.js';

/** A module that tries to change every event it gets, and records whether that threw. */
function vandal(subscribe: readonly (keyof typeof EventType)[]): { module: ModuleDefinition; attempts: string[] } {
  const attempts: string[] = [];
  const module = defineModule({
    name: 'vandal',
    version: '1',
    subscribe,
    handle(event) {
      try {
        (event.payload as unknown as Record<string, unknown>)['moduleName'] = 'forged';
        (event.payload as unknown as Record<string, unknown>)['height'] = -1;
        attempts.push(`${event.type}: changed`);
      } catch (error) {
        attempts.push(`${event.type}: ${error instanceof TypeError ? 'refused' : 'other error'}`);
      }
    },
  });
  return { module, attempts };
}

describe('delivered events are frozen', () => {
  it('a subscriber cannot change a published event, nor the publisher after publishing', async () => {
    const { node, scheduler } = simNode(21);
    const v = vandal([EventType.NewBlock]);
    const witness = recorder('witness', [EventType.NewBlock]);
    await node.load(v.module);
    await node.load(witness.module);
    const event = { type: 'NewBlock' as const, payload: { blockHash: hash(1), height: 7 } };
    node.events.publish(event);
    event.payload.height = 8;
    await scheduler.runUntilIdle();
    expect(v.attempts).toEqual(['NewBlock: refused']);
    expect(witness.events.map((e: NodeEvent) => e.payload)).toEqual([{ blockHash: hash(1), height: 7 }]);
    expect(isDeepFrozen(witness.events[0])).toBe(true);
    await node.shutdown();
  });

  it('a subscriber cannot change a lifecycle event the node built', async () => {
    const { node, scheduler } = simNode(22);
    const v = vandal([EventType.ModuleLoaded]);
    const witness = recorder('witness', [EventType.ModuleLoaded]);
    await node.load(v.module);
    await node.load(witness.module);
    await node.load(defineModule({ name: 'third', version: '1', subscribe: [], handle() {} }));
    await scheduler.runUntilIdle();
    expect(v.attempts.every((a) => a === 'ModuleLoaded: refused')).toBe(true);
    expect(v.attempts.length).toBeGreaterThan(0);
    expect(witness.seen).toEqual(['ModuleLoaded(vandal)', 'ModuleLoaded(witness)', 'ModuleLoaded(third)']);
    for (const event of witness.events) expect(isDeepFrozen(event)).toBe(true);
    await node.shutdown();
  });
});
