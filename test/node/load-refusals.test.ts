/**
 * What `node.load` refuses before anything reaches the node's actors: the typed error, the field it
 * names, and a message saying what was expected and what came.
 */
import { describe, expect, it } from 'vitest';
import { defineModule, isModactorError, type ModactorError, type ModuleDefinition } from '../../src/index.js';
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
/** `good` with one field read as `value` (a definition not made by defineModule, as JavaScript may pass). */
const withField = (key: string, value: unknown): ModuleDefinition => ({ ...good, [key]: value });

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

  it('with the expected value in its issues, and what could not be read as the cause', async () => {
    const { node } = simNode(1);
    const expectedOf = async (load: Promise<unknown>) => ((await load.catch((e: unknown) => e)) as ModactorError).issues.map((i) => i.expected);
    expect(await expectedOf(node.load(null as never))).toEqual(['a module definition']);
    expect(await expectedOf(node.load({ name: 'x', version: '1', subscribe: [] }))).toEqual([
      'a module made by defineModule, defineProcessModule or defineWorkerModule',
    ]);
    const unreadable = new Error('no reading');
    const error = (await node.load(new Proxy(good, { get: () => { throw unreadable; } })).catch((e: unknown) => e)) as ModactorError;
    expect(error.cause).toBe(unreadable);
    await node.shutdown();
  });

  it('nothing for replay: false, on a node without a store', async () => {
    const { node } = simNode(1);
    expect(await node.load(withField('replay', false))).toMatchObject({ name: 'm', state: 'running' });
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
    ['name', 'no spaces', 'Invalid module: name: expected a name of letters, digits, ".", "_" or "-" (max 64, starting with a letter or digit), got string "no spaces"'],
    ['version', '', 'Invalid module: version: expected a non-empty string, got string ""'],
    ['subscribe', 'NewBlock', 'Invalid module: subscribe: expected an array of at most 10000 items, each a non-empty string, got string "NewBlock"'],
    ['replay', { fromSeq: 0 }, 'Invalid module: replay.fromSeq: expected a positive safe integer, got number 0'],
  ])('a bad %s, naming it', async (key, value, message) => {
    const { node } = simNode(1);
    const refused = await refusal(node.load(withField(key, value)));
    expect(refused.code).toBe('invalid-argument');
    expect(refused.message).toBe(message);
    await node.shutdown();
  });
});
