/**
 * defineModule parses the whole definition: every bad field named by path in one typed error,
 * unknown fields refused, a frozen copy returned.
 */
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import {
  EventType,
  RESERVED_EVENT_TYPES,
  defineModule,
  isModactorError,
  isReservedEventType,
  type ModactorError,
  type ModuleSpec,
} from '../../src/index.js';
import { moduleName } from '../../src/node/module-name.js';
import { recorder, simNode } from '../scenarios/helpers.js';

const base = { name: 'm', version: '1.0.0', subscribe: [EventType.NewBlock] } as const;
const handle = (): void => undefined;

function refused(spec: unknown): ModactorError {
  try {
    defineModule(spec as ModuleSpec);
  } catch (error) {
    if (isModactorError(error)) return error;
    throw error;
  }
  throw new Error('expected defineModule to refuse the definition');
}

const issuesOf = (spec: unknown): string[] => refused(spec).issues.map((i) => `${i.path}: ${i.message}`);

describe('defineModule', () => {
  it('refuses restart: { maxRestarts: -1 } with invalid-argument at restart.maxRestarts (it used to brick the node)', async () => {
    const error = refused({ ...base, handle, restart: { maxRestarts: -1 } });
    expect(error.code).toBe('invalid-argument');
    expect(error.issues).toEqual([
      {
        path: 'restart.maxRestarts',
        expected: 'a non-negative safe integer',
        got: 'number -1',
        message: 'expected a non-negative safe integer, got number -1',
      },
    ]);
    expect(error.message).toBe('Invalid module definition: restart.maxRestarts: expected a non-negative safe integer, got number -1');
    // The node is untouched: loading, publishing and shutting down still work.
    const { node, scheduler } = simNode(3);
    const m = recorder('after', [EventType.NewBlock]);
    await node.load(m.module);
    node.publisher.newBlock('ab'.repeat(32), 1);
    await scheduler.runUntilIdle();
    expect(m.seen).toEqual(['NewBlock(1)']);
    await node.shutdown();
  });

  it('names every bad field at once, by path', () => {
    expect(
      issuesOf({
        name: 'no spaces',
        version: '',
        subscribe: ['NewBlock', ''],
        mailboxCapacity: 0,
        priorityCapacity: 1.5,
        restart: { type: 'sometimes', withinMs: 0, backoff: { minMs: 100, maxMs: 10 } },
        shutdownTimeoutMs: -1,
        filter: 'yes',
        handle,
      }),
    ).toEqual([
      'name: expected a name of letters, digits, ".", "_" or "-" (max 64, starting with a letter or digit), got string "no spaces"',
      'version: expected a non-empty string, got string ""',
      'subscribe[1]: expected a non-empty string, got string ""',
      'mailboxCapacity: expected a positive safe integer, got number 0',
      'priorityCapacity: expected a positive safe integer, got number 1.5',
      'restart.type: expected one of "permanent", "transient", "temporary", got string "sometimes"',
      'restart.withinMs: expected a finite number > 0, got number 0',
      'restart.backoff.maxMs: expected a finite number >= minMs (100), got number 10',
      'shutdownTimeoutMs: expected a finite number >= 0, got number -1',
      'filter: expected a function, got string "yes"',
    ]);
  });

  it('refuses unknown fields, so a typo does not pass silently', () => {
    expect(refused({ ...base, handle, mailboxCapacty: 10 }).issues.map((i) => i.path)).toEqual(['mailboxCapacty']);
    expect(refused({ ...base, handle, restart: { maxRestart: 1 } }).issues.map((i) => i.path)).toEqual(['restart.maxRestart']);
  });

  it('wants exactly one of handle, create or machine, and no field of another kind', () => {
    expect(issuesOf(base)).toEqual(['handle: expected exactly one of handle(event, ctx), create(ctx) or machine, got undefined']);
    expect(issuesOf({ ...base, handle, create: () => ({ handle }) })).toEqual([
      'create: expected no create besides handle (exactly one of handle, create or machine), got a function',
    ]);
    expect(refused({ ...base, create: () => ({ handle }), setup: handle, input: () => 1 }).issues.map((i) => i.path)).toEqual(['setup', 'input']);
    expect(issuesOf({ ...base, machine: { not: 'a machine' } })).toEqual([
      'machine: expected an xstate machine (createMachine(...)), got an object',
    ]);
  });

  it('refuses an empty or non-string type in publishes, at its index', () => {
    expect(issuesOf({ ...base, handle, publishes: ['', 5] })).toEqual([
      'publishes[0]: expected a non-empty string, got string ""',
      'publishes[1]: expected a non-empty string, got number 5',
    ]);
  });

  it('refuses as a machine anything without both transition and getInitialSnapshot, or that cannot be read', () => {
    const unreadable = Object.defineProperty({}, 'transition', {
      get: () => {
        throw new Error('no reading');
      },
    });
    for (const machine of [5, { transition: () => undefined }, { getInitialSnapshot: () => undefined }, unreadable]) {
      expect(issuesOf({ ...base, machine })).toEqual([
        `machine: expected an xstate machine (createMachine(...)), got ${typeof machine === 'number' ? 'number 5' : 'an object'}`,
      ]);
    }
  });

  it('says which field belongs to another kind of module', () => {
    expect(issuesOf({ ...base, create: () => ({ handle }), setup: () => undefined })).toEqual([
      'setup: expected no setup (only a module defined by handle has one; create returns its handlers), got a function',
    ]);
    expect(issuesOf({ ...base, handle, input: () => 1 })).toEqual(['input: expected no input (only a machine module takes one), got a function']);
  });

  it('accepts a reserved type in publishes, which grants nothing (the node alone publishes those)', () => {
    expect(RESERVED_EVENT_TYPES).toEqual([
      'ModuleLoaded',
      'ModuleUnloaded',
      'ModuleReloaded',
      'ModuleStarted',
      'ModuleStopped',
      'ModuleCrashed',
      'ModuleHealthChanged',
      'ModuleStateChanged',
      'NodeStartupCompleted',
      'NodeShutdown',
      'NodeShutdownCompleted',
    ]);
    expect(Object.isFrozen(RESERVED_EVENT_TYPES)).toBe(true);
    expect(isReservedEventType('ModuleCrashed')).toBe(true);
    expect(isReservedEventType('NewBlock')).toBe(false);
    // Publishing one is refused at run time, with not-permitted (test/scenarios/containment.test.ts).
    expect(defineModule({ ...base, handle, publishes: ['NewBlock', 'NodeShutdown', 'ModuleCrashed'] }).publishes).toEqual(['NewBlock', 'NodeShutdown', 'ModuleCrashed']);
  });

  it('returns a frozen copy, read once, repeats dropped, callbacks and machine kept as they are', () => {
    let reads = 0;
    const machine = createMachine({ initial: 'idle', states: { idle: {} } });
    const spec = {
      get name(): string {
        reads++;
        return reads === 1 ? 'once' : 'twice';
      },
      version: '1',
      subscribe: ['NewBlock', 'NewBlock', 'ModuleLoaded'],
      publishes: ['HealthCheck', 'HealthCheck'],
      machine,
    };
    const definition = defineModule(spec as unknown as ModuleSpec);
    expect(reads).toBe(1);
    expect(definition.name).toBe('once');
    expect(definition.subscribe).toEqual(['NewBlock', 'ModuleLoaded']);
    expect(definition.publishes).toEqual(['HealthCheck']);
    expect((definition as { machine?: unknown }).machine).toBe(machine);
    expect(definition.kind).toBe('in-process');
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.subscribe)).toBe(true);
    spec.subscribe.push('NewTransaction');
    expect(definition.subscribe).toEqual(['NewBlock', 'ModuleLoaded']);
    // A definition can be defined again (kind is admitted).
    expect(defineModule(definition).name).toBe('once');
  });

  it('refuses a replay that is neither a boolean nor { fromSeq }', () => {
    const expectedOf = (spec: unknown): string[] => refused(spec).issues.map((i) => `${i.path}: ${i.expected}`);
    for (const replay of ['yes', null, 1]) {
      expect(expectedOf({ ...base, handle, replay })).toEqual(['replay: true, false or { fromSeq: a positive safe integer }']);
    }
    expect(expectedOf({ ...base, handle, replay: {} })).toEqual(['replay.fromSeq: a positive safe integer']);
  });

  it('is the one module-name rule, exported as a check', () => {
    const issues: { path: string }[] = [];
    expect(moduleName('indexer.v2_a-b', 'name', [])).toBe('indexer.v2_a-b');
    for (const bad of ['', '-x', 'a'.repeat(65), 'a b', 'a/b', 7]) moduleName(bad, 'name', issues as never);
    expect(issues).toHaveLength(6);
  });
});

describe('the module lifecycle', () => {
  it('moves by the same transitions as its xstate machine, for every state and event', async () => {
    const { getNextSnapshot } = await import('xstate');
    const { moduleLifecycleMachine, nextModuleState } = await import('../../src/node/module-lifecycle.js');
    const states = ['loading', 'subscribing', 'running', 'crashed', 'restarting', 'stopping', 'stopped'] as const;
    const events = ['HANDSHAKE', 'ANNOUNCED', 'CRASH', 'RESTART', 'STOP', 'STOPPED', 'GIVE_UP'] as const;
    for (const state of states) {
      for (const event of events) {
        const snapshot = moduleLifecycleMachine.resolveState({ value: state, context: undefined as never });
        expect(nextModuleState(state, event), `${state} + ${event}`).toBe(getNextSnapshot(moduleLifecycleMachine, snapshot, { type: event }).value);
      }
    }
  });
});
