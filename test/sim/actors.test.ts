import { describe, expect, it } from 'vitest';
import { isModactorError, type ValidationIssue } from '../../src/index.js';
import { parseScenario, simulate } from '../../src/sim.js';

/** The issues `simulate` rejects a scenario with (actors are resolved before anything runs). */
async function issuesOf(value: unknown): Promise<string[]> {
  try {
    await simulate(parseScenario(value));
  } catch (error) {
    if (!isModactorError(error, 'invalid-scenario')) throw error;
    return error.issues.map((i: ValidationIssue) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected simulate to reject the scenario');
}

describe('actors named by a scenario', () => {
  it('rejects an actor that does not exist, naming the field', async () => {
    const issues = await issuesOf({ duration: 100, modules: [{ actor: 'indexer' }, { actor: 'no-such-actor' }] });
    expect(issues).toEqual([expect.stringMatching(/^modules\[1\]\.actor: expected an actor file in .*actors.*, got "no-such-actor" \(no such file\)$/)]);
  });

  it('rejects options the factory refuses, naming the field', async () => {
    const issues = await issuesOf({ duration: 100, modules: [{ actor: 'probe', name: 'p', options: { subscribe: ['NewBlok'] } }] });
    expect(issues).toEqual(['modules[0].options: expected options the factory of "probe" accepts, got a refusal: probe: unknown event types in subscribe: NewBlok']);
  });

  it('rejects a missing named export, and a file#export actor without a name', async () => {
    const missing = await issuesOf({ duration: 100, modules: [{ actor: 'process-modules#nope', name: 'x' }] });
    expect(missing[0]).toMatch(/^modules\[0\]\.actor: expected .*process-modules\.ts to export "nope", got exports /);
    expect(() => parseScenario({ duration: 100, modules: [{ actor: 'process-modules#echoModule' }] })).toThrow(
      /modules\[0\]\.name: expected a name for an actor given as file#export/,
    );
  });

  it('refuses to inject faults into a process module', async () => {
    const issues = await issuesOf({
      duration: 100,
      modules: [{ actor: 'process-modules#echoModule', name: 'echo' }],
      faults: [{ kind: 'crash', module: 'echo', at: 10 }],
    });
    expect(issues).toEqual(['faults[0].module: expected an in-process module (faults are injected into those only), got process module "echo"']);
  });

  it('runs a process module for real beside a deterministic simulation, and says so', async () => {
    const report = await simulate(
      parseScenario({
        name: 'proc',
        seed: 1,
        duration: 2000,
        modules: [{ actor: 'indexer' }, { actor: 'process-modules#echoModule', name: 'echo' }],
        traffic: [{ kind: 'blocks', every: 200 }],
        actions: [{ at: 1000, do: 'restart', module: 'echo' }],
      }),
    );
    expect(report.passed).toBe(true);
    // 10 forwarded blocks and its own ModuleLoaded (lifecycle events are the companion node's own).
    expect(report.modules.find((m) => m.name === 'echo')).toMatchObject({ kind: 'process', deterministic: false, handled: 11, end: 'stopped at shutdown' });
    expect(report.timeline.map((e) => e.text)).toContain('skipped: restart echo (a process module; only with --real --time-scale 1)');
    expect(report.notes.join('\n')).toContain('process modules (echo) ran as real child processes in a companion node');
  });
});
