/**
 * `restart-node` in a simulation with a store (`node.store`): the node restarts on its simulated
 * disk after a graceful shutdown, a process crash and a power loss, modules with replay catch up,
 * and the `durable-delivery` invariant holds, deterministically for a seed; the invariant is shown
 * to catch a lost acknowledged event, a missed event and a duplicate.
 */
import { describe, expect, it } from 'vitest';
import { INVARIANTS, parseScenario, renderText, simulateWithTrace, type Scenario } from '../../src/sim.js';
import { isModactorError } from '../../src/index.js';

function restarts(extra: Record<string, unknown> = {}): Scenario {
  return parseScenario({
    name: 'restarts',
    seed: 5,
    duration: 12000,
    node: { store: true, shutdownTimeoutMs: 500 },
    modules: [
      { actor: 'probe', name: 'replayer', replay: true, options: { subscribe: ['NewBlock', 'NewTransaction', 'ModuleLoaded'], mailboxCapacity: 5, workMs: 5 } },
      { actor: 'probe', name: 'plain', options: { subscribe: ['NewBlock'] } },
      { actor: 'crashy', options: { crashEvery: 7, maxRestarts: 100, withinMs: 60000 } },
    ],
    traffic: [
      { kind: 'blocks', every: 50 },
      { kind: 'transactions', rate: 40 },
    ],
    faults: [
      { kind: 'crash', module: 'replayer', at: 1500 },
      { kind: 'restart-node', at: 3000 },
      { kind: 'restart-node', at: 7000, how: 'power-loss' },
    ],
    actions: [
      { at: 1000, do: 'flush' },
      { at: 2950, do: 'flush' },
      { at: 5000, do: 'restart-node', how: 'graceful' },
      { at: 6500, do: 'flush' },
      { at: 6990, do: 'flush' },
      { at: 9000, do: 'flush' },
    ],
    ...extra,
  });
}

describe('restart-node', () => {
  it('restarts the node three ways; every invariant holds, durable-delivery included, the same for the same seed', async () => {
    const { report, trace } = await simulateWithTrace(restarts());
    const failed = report.invariants.filter((i) => i.status !== 'pass');
    expect(failed).toEqual([]);
    expect(report.invariants.map((i) => i.id)).toContain('durable-delivery');
    const durable = report.invariants.find((i) => i.id === 'durable-delivery');
    expect(durable?.checked).toMatch(/^[1-9]\d* acknowledged events, [1-9]\d* takes by 1 modules with replay over 4 node lives$/);
    expect(trace.durability?.lives.map((l) => l.how)).toEqual(['start', 'crash', 'graceful', 'power-loss']);
    expect(renderText(report)).toMatch(/node restart \(power-loss\)/);
    const again = await simulateWithTrace(restarts());
    expect(JSON.stringify(again.report)).toBe(JSON.stringify(report));
  });

  it('durable-delivery catches an acknowledged event lost, an event never taken and one taken twice', async () => {
    const { trace } = await simulateWithTrace(restarts());
    const d = trace.durability;
    if (d?.final == null) throw new Error('Expected a durability trace');
    const check = () => INVARIANTS['durable-delivery'].check(trace)?.violations ?? ['skipped'];
    expect(check()).toEqual([]);

    const final = d.final;
    const ackedSeq = d.acknowledged[0]?.upTo ?? 0;
    const lostIndex = final.log.findIndex((e) => e.seq <= ackedSeq && e.life === 1);
    d.final = { ...final, log: final.log.filter((_, i) => i !== lostIndex) };
    expect(check().some((v) => /^acknowledged .* is not in the log$/.test(v))).toBe(true);
    d.final = final;

    const takes = [...d.takes];
    const firstTake = takes.findIndex((t) => t.module === 'replayer');
    d.takes.splice(firstTake, 1);
    expect(check().some((v) => /^replayer never took /.test(v))).toBe(true);
    d.takes.splice(0, d.takes.length, ...takes);

    const last = takes.filter((t) => t.module === 'replayer').at(-1);
    if (last === undefined) throw new Error('Expected takes');
    d.takes.push({ ...last, t: last.t + 1 });
    expect(check().some((v) => /^replayer took .* again at .* with no node restart that left it unsaved$/.test(v))).toBe(true);
  });

  it('is refused on a node without a store, as are flush and replay', () => {
    const refused = (scenario: Record<string, unknown>): string[] => {
      try {
        parseScenario({ name: 'x', duration: 1000, modules: [{ actor: 'probe' }], ...scenario });
      } catch (error) {
        if (isModactorError(error, 'invalid-scenario')) return error.issues.map((i) => i.path);
        throw error;
      }
      return [];
    };
    expect(refused({ faults: [{ kind: 'restart-node', at: 10 }] })).toEqual(['faults[0]']);
    expect(refused({ actions: [{ at: 10, do: 'flush' }] })).toEqual(['actions[0]']);
    expect(refused({ script: [{ do: 'restart-node', how: 'crash' }] })).toEqual(['script[0]']);
    expect(refused({ modules: [{ actor: 'probe', replay: true }] })).toEqual(['modules[0].replay']);
    expect(refused({ node: { store: true }, actions: [{ at: 10, do: 'restart-node', how: 'reboot' }] })).toEqual(['actions[0].how']);
  });
});
