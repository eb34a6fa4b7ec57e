/**
 * The `store` option of createNode, refused at once with a typed error that names the field, says
 * what was expected and what was got (the store itself opens later).
 */
import { describe, expect, it } from 'vitest';
import { createNode, createSimulatedScheduler, isModactorError, type ModactorError } from '../../src/index.js';
import type { NodeStoreOptions } from '../../src/node/durable.js';
import { createMemoryDisk, drive } from './support.js';

/** The error createNode throws for `store`; fails the test when it throws nothing or something untyped. */
function refused(store: unknown): ModactorError {
  try {
    createNode({ scheduler: createSimulatedScheduler({ autoRun: false }), store: store as NodeStoreOptions });
  } catch (error) {
    if (isModactorError(error)) return error;
    throw new Error(`expected a ModactorError, got ${String(error)}`);
  }
  throw new Error('expected createNode to refuse the store option');
}

const KEYS = 'dir, durableTypes, fs, batchMaxEvents, batchMaxDelayMs, segmentMaxBytes, retainMaxBytes, retainMaxAgeMs, maxPendingEvents, saveDelayMs';

describe('the store option of createNode', () => {
  it.each([
    [null, 'null'],
    [[], 'an array'],
    ['/data', '"/data"'],
  ])('refuses %j, which is not an object, naming `store`', (store, got) => {
    const error = refused(store);
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toBe(`Invalid node options: store: expected an object { dir, ... }, got ${got}`);
    expect(error.issues).toEqual([{ path: 'store', expected: 'an object { dir, ... }', got, message: `expected an object { dir, ... }, got ${got}` }]);
  });

  it('refuses a field it does not know, listing the ones it does', () => {
    const error = refused({ dir: '/data', batchSize: 10 });
    expect(error.code).toBe('invalid-argument');
    expect(error.issues).toEqual([{ path: 'store.batchSize', expected: `one of ${KEYS}`, got: '"batchSize"', message: `expected one of ${KEYS}, got "batchSize"` }]);
    expect(error.message).toBe(`Invalid node options: store.batchSize: expected one of ${KEYS}, got "batchSize"`);
  });

  it.each([
    [{}, 'undefined'],
    [{ dir: '' }, '""'],
    [{ dir: 7 }, 'number 7'],
  ])('refuses %j: dir must be a non-empty path', (store, got) => {
    const error = refused(store);
    expect(error.code).toBe('invalid-argument');
    expect(error.issues).toEqual([{ path: 'store.dir', expected: 'a non-empty path', got, message: `expected a non-empty path, got ${got}` }]);
  });

  it('refuses durableTypes that is not an array, or holds a reserved or unknown type', () => {
    const notArray = refused({ dir: '/data', durableTypes: 'NewBlock' });
    expect(notArray.code).toBe('invalid-argument');
    expect(notArray.issues).toEqual([
      { path: 'store.durableTypes', expected: 'an array of event types', got: '"NewBlock"', message: 'expected an array of event types, got "NewBlock"' },
    ]);

    const expected = 'an event type that is not reserved (module lifecycle and node events are never durable)';
    for (const [types, got] of [
      [['NewBlock', 'ModuleLoaded'], '"ModuleLoaded"'],
      [['NewBlock', 42], 'number 42'],
    ] as const) {
      const error = refused({ dir: '/data', durableTypes: types });
      expect(error.code).toBe('invalid-argument');
      expect(error.message).toBe(`Invalid node options: store.durableTypes[1]: expected ${expected}, got ${got}`);
      expect(error.issues).toEqual([{ path: 'store.durableTypes[1]', expected, got, message: `expected ${expected}, got ${got}` }]);
    }

    const unknown = refused({ dir: '/data', durableTypes: ['NewBlock', 'NoSuchType'] });
    expect(unknown.code).toBe('unknown-event-type');
    expect(unknown.message).toBe('Invalid node options: store.durableTypes[1]: expected a known event type, got "NoSuchType"');
  });

  it('takes every field it lists', async () => {
    const disk = createMemoryDisk();
    const store: NodeStoreOptions = {
      dir: '/data',
      durableTypes: ['NewBlock'],
      fs: disk.mount(),
      batchMaxEvents: 10,
      batchMaxDelayMs: 5,
      segmentMaxBytes: 1 << 20,
      retainMaxBytes: 1 << 24,
      retainMaxAgeMs: 60_000,
      maxPendingEvents: 1000,
      saveDelayMs: 100,
    };
    expect(Object.keys(store).join(', ')).toBe(KEYS);
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const node = createNode({ scheduler, store });
    await drive(scheduler, node.start());
    expect(node.status().store).toMatchObject({ state: 'ok' });
    await drive(scheduler, node.shutdown());
  });
});
