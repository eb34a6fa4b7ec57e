import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { parseScenario, parseScenarioText } from '../../src/sim.js';
import { INVARIANT_NAMES } from '../../src/sim/scenario.js';

const minimal = { name: 'tiny', seed: 3, duration: 1000, modules: [{ actor: 'indexer' }] };

/** The issues of the error `parseScenario` throws for `value`, as "path: message" lines. */
function issuesOf(value: unknown): string[] {
  try {
    parseScenario(value, 'test.json');
  } catch (error) {
    if (!isModactorError(error, 'invalid-scenario')) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected parseScenario to throw');
}

describe('parseScenario', () => {
  it('accepts the default scenario and fills in the defaults', () => {
    const scenario = parseScenarioText(readFileSync(new URL('../../scenarios/default.json', import.meta.url), 'utf8'), 'default.json');
    expect(scenario.name).toBe('default');
    expect(scenario.seed).toBe(7);
    expect(scenario.shutdown.at).toBe(58_000);
    expect(scenario.invariants).toEqual(INVARIANT_NAMES);
    expect(scenario.modules.map((m) => m.actor)).toContain('peer-monitor');
    expect(scenario.modules.find((m) => m.actor === 'peer-monitor')?.at).toBe(20_000);
  });

  it('defaults the shutdown to the duration, the seed to 1 and a module to load at 0', () => {
    const scenario = parseScenario({ duration: 500, modules: [{ actor: 'crashy' }] });
    expect(scenario).toMatchObject({ name: 'unnamed', seed: 1, shutdown: { at: 500 }, modules: [{ actor: 'crashy', at: 0 }] });
    expect(scenario.traffic).toEqual([]);
  });

  it('names a bad fault time with its index, what was expected and what came', () => {
    const issues = issuesOf({
      ...minimal,
      faults: [
        { kind: 'crash', module: 'indexer', at: 10 },
        { kind: 'flood', traffic: 'transactions', at: 10, count: 5 },
        { kind: 'crash', module: 'indexer', at: 'x' },
      ],
    });
    expect(issues).toEqual(['faults[2].at: expected a finite number >= 0, got string "x"']);
  });

  it.each([
    ['an unknown top-level field', { ...minimal, sed: 4 }, 'sed: expected only the fields $comment, name, description, seed, duration, timeScale, node, modules, traffic, faults, actions, script, shutdown, invariants, expect, got an unknown field'],
    ['a fractional seed', { ...minimal, seed: 1.5 }, 'seed: expected a non-negative safe integer, got number 1.5'],
    ['a missing duration', { name: 'x' }, 'duration: expected a finite number > 0, got nothing (required field missing)'],
    ['a module without actor', { ...minimal, modules: [{ name: 'x' }] }, 'modules[0].actor: expected a non-empty string, got nothing (required field missing)'],
    ['a negative load time', { ...minimal, modules: [{ actor: 'indexer', at: -5 }] }, 'modules[0].at: expected a finite number >= 0, got number -5'],
    ['a bad module name', { ...minimal, modules: [{ actor: 'indexer', name: 'a b' }] }, 'modules[0].name: expected a name of letters, digits, ".", "_" or "-" (max 64, starting with a letter or digit), got string "a b"'],
    ['a module loaded twice under one name', { ...minimal, modules: [{ actor: 'indexer' }, { actor: 'indexer' }] }, 'modules[1].name: expected a module name not used twice, got string "indexer" again (give it a name)'],
    ['an unknown traffic kind', { ...minimal, traffic: [{ kind: 'blobs', every: 10 }] }, 'traffic[0].kind: expected one of "blocks", "transactions", "peers", "governance", "maintenance", got string "blobs"'],
    ['traffic with both every and rate', { ...minimal, traffic: [{ kind: 'blocks', every: 10, rate: 2 }] }, 'traffic[0].rate: expected no rate besides every (exactly one of every (ms) or rate (per second)), got number 2'],
    ['traffic with neither', { ...minimal, traffic: [{ kind: 'blocks' }] }, 'traffic[0].every: expected every or rate (exactly one of every (ms) or rate (per second)), got undefined'],
    ['reorgs on transactions', { ...minimal, traffic: [{ kind: 'transactions', rate: 2, reorgEvery: 3 }] }, 'traffic[0].reorgEvery: expected no reorgEvery for transactions traffic (only blocks traffic has reorgs), got number 3'],
    ['an unknown fault kind', { ...minimal, faults: [{ kind: 'explode', at: 1 }] }, 'faults[0].kind: expected one of "crash", "hang", "slow", "flood", "restart-node", got string "explode"'],
    ['a fault on a module the scenario does not load', { ...minimal, faults: [{ kind: 'crash', module: 'ghost', at: 1 }] }, `faults[0].module: expected one of the scenario's modules (indexer), got string "ghost"`],
    ['a slow fault without delay', { ...minimal, faults: [{ kind: 'slow', module: 'indexer', at: 1 }] }, 'faults[0].delayMs: expected a finite number > 0, got nothing (required field missing)'],
    ['a flood of zero events', { ...minimal, faults: [{ kind: 'flood', traffic: 'blocks', at: 1, count: 0 }] }, 'faults[0].count: expected a positive safe integer, got number 0'],
    ['an unknown action', { ...minimal, actions: [{ at: 5, do: 'explode' }] }, 'actions[0].do: expected one of "load", "hotload", "subscribe", "publish", "slow", "release", "crash", "restart", "reload", "unload", "advance", "restart-node", "flush", got string "explode"'],
    ['an action without time', { ...minimal, actions: [{ do: 'unload', module: 'indexer' }] }, 'actions[0].at: expected a finite number >= 0, got nothing (required field missing)'],
    ['advance as a timed action', { ...minimal, actions: [{ at: 5, do: 'advance', ms: 3 }] }, 'actions[0].do: expected an action other than advance (advance belongs in the script; an action has its own "at"), got string "advance"'],
    ['a published event with a bad payload', { ...minimal, script: [{ do: 'publish', event: { type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: -1 } } }] }, 'script[0].event.payload.height: expected a non-negative safe integer, got number -1'],
    ['a subscription to an unknown type', { ...minimal, script: [{ do: 'subscribe', module: 'indexer', types: ['NewBlok'] }] }, 'script[0].types[0]: expected an event type of the node catalogue, got string "NewBlok"'],
    ['a script that runs past the shutdown', { ...minimal, script: [{ do: 'advance', ms: 5000 }] }, "script: expected the script's advances to end by the shutdown at 1000 ms, got 5000 ms"],
    ['a publish of both an event and traffic', { ...minimal, script: [{ do: 'publish', traffic: 'blocks', event: { type: 'NewBlock', payload: { blockHash: 'ab'.repeat(32), height: 1 } } }] }, 'script[0].traffic: expected no traffic besides an event (one of event or traffic), got string "blocks"'],
    ['a crash on an unknown event type', { ...minimal, script: [{ do: 'crash', module: 'indexer', on: 'Block' }] }, 'script[0].on: expected an event type of the node catalogue, got string "Block"'],
    ['a hold with a duration', { ...minimal, script: [{ do: 'slow', module: 'indexer', forMs: 10 }] }, 'script[0].forMs: expected no forMs (a hold, slow without delayMs, lasts until a release), got number 10'],
    ['an unknown invariant', { ...minimal, invariants: ['fifo', 'fast'] }, 'invariants[1]: expected one of "fifo", "module-loaded-once", "unloaded-after-loaded", "accounting", "mailbox-bound", "nothing-after-termination", "restart-policy", "graceful-shutdown", "durable-delivery", got string "fast"'],
    ['an expectation with a bad bound', { ...minimal, expect: [{ module: 'indexer', dropped: { min: -1 } }] }, 'expect[0].dropped.min: expected a non-negative safe integer, got number -1'],
    ['a shutdown after the end', { ...minimal, shutdown: { at: 2000 } }, 'shutdown.at: expected a time within the duration (1000), got number 2000'],
  ])('rejects %s, naming the field', (_what, value, expected) => {
    const issues = issuesOf(value);
    expect(issues.some((issue) => issue.startsWith(expected)), `${issues.join('\n')}\ndoes not contain\n${expected}`).toBe(true);
  });

  it('reports every bad field at once, and names the first ones in the message', () => {
    let error: unknown;
    try {
      parseScenario({ duration: -1, seed: 'x', modules: [{ actor: 3 }] }, 'bad.json');
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'invalid-scenario')).toBe(true);
    if (!isModactorError(error)) return;
    expect(error.issues.map((i) => i.path)).toEqual(['seed', 'duration', 'modules[0].actor']);
    expect(error.message).toContain('Invalid scenario bad.json:');
    expect(error.message).toContain('modules[0].actor: expected a non-empty string, got number 3');
  });

  it('gives each issue the shape of the validation vocabulary: path, expected, got and the message', () => {
    let error: unknown;
    try {
      parseScenario({ ...minimal, faults: [{ module: 'indexer', at: 1 }, 'crash', { kind: 'crash', module: 'indexer', at: 1, delayMs: 5 }] });
    } catch (e) {
      error = e;
    }
    if (!isModactorError(error, 'invalid-scenario')) throw new Error('expected an invalid-scenario error');
    expect(error.issues).toEqual([
      {
        path: 'faults[0].kind',
        expected: 'one of "crash", "hang", "slow", "flood", "restart-node"',
        got: 'nothing',
        message: 'expected one of "crash", "hang", "slow", "flood", "restart-node", got nothing',
      },
      {
        path: 'faults[1]',
        expected: 'an object whose kind is one of "crash", "hang", "slow", "flood", "restart-node"',
        got: 'string "crash"',
        message: 'expected an object whose kind is one of "crash", "hang", "slow", "flood", "restart-node", got string "crash"',
      },
      {
        path: 'faults[2].delayMs',
        expected: 'only the fields kind, module, at, count',
        got: 'an unknown field',
        message: 'expected only the fields kind, module, at, count, got an unknown field',
      },
    ]);
  });

  it('returns frozen copies: changing the value it parsed changes nothing in the scenario', () => {
    const options = { workMs: { low: 1 } };
    const value = { ...minimal, modules: [{ actor: 'maintenance-coordinator', options }], traffic: [{ kind: 'blocks', every: 10 }] };
    const scenario = parseScenario(value);
    options.workMs.low = 99;
    value.traffic[0] = { kind: 'peers', every: 1 };
    expect(scenario.modules[0]?.options).toEqual({ workMs: { low: 1 } });
    expect(scenario.traffic).toEqual([{ kind: 'blocks', from: 0, every: 10 }]);
    expect(Object.isFrozen(scenario.modules[0]?.options?.workMs)).toBe(true);
  });

  it('turns a JSON syntax error into an invalid-scenario error', () => {
    expect(() => parseScenarioText('{ "seed": 1,', 'broken.json')).toThrow(/Invalid scenario broken.json: not JSON/);
  });
});
