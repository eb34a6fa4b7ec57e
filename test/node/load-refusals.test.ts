/**
 * What `node.load` refuses before anything reaches the node's actors: the typed error, the field it
 * names, and a message saying what was expected and what came.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, isModactorError, type ModuleDefinition } from '../../src/index.js';
import { simNode } from '../scenarios/helpers.js';

async function refusal(load: Promise<unknown>): Promise<{ code: string; message: string; paths: string[] }> {
  try {
    await load;
  } catch (error) {
    if (!isModactorError(error)) throw error;
    return { code: error.code, message: error.message, paths: error.issues.map((i) => i.path) };
  }
  throw new Error('expected node.load to refuse the module');
}

const good = defineModule({ name: 'm', version: '1.0.0', subscribe: [], handle: () => undefined });
/** `good` with one field read as `value`. */
const withField = (key: string, value: unknown): ModuleDefinition =>
  new Proxy(good, { get: (target, k): unknown => (k === key ? value : Reflect.get(target, k)) });

describe('node.load refuses', () => {
  it('what is not a module definition, or not one made by defineModule', async () => {
    const { node } = simNode(1);
    expect(await refusal(node.load(null as never))).toEqual({
      code: 'invalid-argument',
      message: 'Invalid module: expected a module definition, got null',
      paths: [''],
    });
    expect((await refusal(node.load(5 as never))).message).toBe('Invalid module: expected a module definition, got number 5');
    expect(await refusal(node.load({ name: 'x', version: '1', subscribe: [], handle: () => undefined } as never))).toEqual({
      code: 'invalid-argument',
      message: 'Invalid module: expected a module made by defineModule, defineProcessModule or defineWorkerModule',
      paths: [''],
    });
    expect(await refusal(node.load(new Proxy(good, { get: () => { throw new Error('no reading'); } })))).toEqual({
      code: 'invalid-argument',
      message: 'Expected a module definition, got one that cannot be read: no reading',
      paths: [],
    });
    await node.shutdown();
  });

  it('a subscription to a type the node does not know', async () => {
    const { node } = simNode(1);
    const custom = defineModule({ name: 'm', version: '1', subscribe: ['CustomThing' as never], handle: () => undefined });
    expect(await refusal(node.load(custom))).toEqual({
      code: 'unknown-event-type',
      message: 'Invalid module "m": subscribe[0]: expected a known event type, got "CustomThing"',
      paths: [],
    });
    await node.shutdown();
  });

  it.each<[string, unknown, string]>([
    ['mailboxCapacity', 0, 'Invalid module: mailboxCapacity: expected a positive safe integer, got number 0'],
    ['priorityCapacity', 0, 'Invalid module: priorityCapacity: expected a positive safe integer, got number 0'],
    ['membershipCapacity', 0, 'Invalid module: membershipCapacity: expected a positive safe integer, got number 0'],
    ['shutdownTimeoutMs', -1, 'Invalid module: shutdownTimeoutMs: expected a finite number >= 0, got number -1'],
    ['restart', { maxRestarts: -1 }, 'Invalid module: restart.maxRestarts: expected a non-negative safe integer, got number -1'],
  ])('a bad %s, naming it', async (key, value, message) => {
    const { node } = simNode(1);
    const refused = await refusal(node.load(withField(key, value)));
    expect(refused.code).toBe('invalid-argument');
    expect(refused.message).toBe(message);
    await node.shutdown();
  });
});
