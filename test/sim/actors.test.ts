import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isModactorError, type ValidationIssue } from '../../src/index.js';
import { parseScenario, simulate } from '../../src/sim.js';
import { schemaProblem, typescriptHint } from '../../src/sim/load-actor.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The issues `simulate` rejects a scenario with (actors are resolved before anything runs). */
async function issuesOf(value: unknown, baseDir?: string): Promise<string[]> {
  try {
    await simulate(parseScenario(value), baseDir === undefined ? {} : { baseDir });
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

  it("checks options against the schema the actor declares: a typo or a bad value anywhere is an error naming its path", async () => {
    const issues = await issuesOf({
      duration: 100,
      modules: [
        { actor: 'slow-consumer', options: { mailboxCapacty: 5, workMs: 50 } },
        { actor: 'probe', name: 'p', options: { subscribe: ['NewBlok'] } },
        { actor: 'maintenance-coordinator', options: { workMs: { hihg: 10 } } },
        { actor: 'indexer', options: { name: 'other' } },
      ],
      actions: [{ at: 50, do: 'reload', module: 'slow-consumer', options: { workMS: 1 } }],
    });
    expect(issues).toEqual([
      'modules[0].options.mailboxCapacty: expected only the fields workMs, mailboxCapacity, subscribe, got an unknown field',
      'modules[1].options.subscribe[0]: expected an event type of the node catalogue, got string "NewBlok"',
      'modules[2].options.workMs.hihg: expected only the fields low, medium, high, got an unknown field',
      'modules[3].options.name: expected only the fields mailboxCapacity, got an unknown field',
      'actions[0].options.workMS: expected only the fields workMs, mailboxCapacity, subscribe, got an unknown field',
    ]);
  });

  it('declares a schema for every factory of the cast, the process modules included', async () => {
    const cast = ['crashy', 'governance-webhook', 'indexer', 'maintenance-coordinator', 'mempool-watcher', 'peer-monitor', 'probe', 'slow-consumer'];
    for (const actor of cast) {
      const module = (await import(new URL(`../../actors/${actor}.ts`, import.meta.url).href)) as { optionsSchema?: unknown };
      expect(schemaProblem(module.optionsSchema, actor)).toBeNull();
    }
    const processModules = (await import('../../actors/process-modules.js')) as Record<string, unknown>;
    expect(schemaProblem(processModules.echoModuleOptionsSchema, 'echo')).toBeNull();
    expect(schemaProblem(processModules.blockIndexerModuleOptionsSchema, 'block-indexer')).toBeNull();
    // A schema is an object({ ... }) check of the vocabulary, nothing else.
    expect(schemaProblem({ depth: 'positive integer' }, 'modules[0].actor')).toEqual({
      path: 'modules[0].actor',
      expected: 'an options schema: an object({ ... }) check of the validation vocabulary (from modactor)',
      got: 'an object',
      message: 'expected an options schema: an object({ ... }) check of the validation vocabulary (from modactor), got an object',
    });
    expect(await issuesOf({ duration: 100, modules: [{ actor: 'process-modules#echoModule', name: 'e', options: { isolaton: 'worker' } }] })).toEqual([
      expect.stringMatching(/^modules\[0\]\.options\.isolaton: expected only the fields version, isolation, .*, got an unknown field$/),
    ]);
  });

  it('refuses options for an actor whose factory declares none', async () => {
    const issues = await issuesOf({ duration: 100, modules: [{ actor: './fixtures/undeclared-options.ts', name: 'u', options: { depth: 2 } }] }, here);
    expect(issues).toEqual(['modules[0].options: expected no options, or a schema of them: "./fixtures/undeclared-options.ts" declares none (export optionsSchema), got an object']);
  });

  it('imports a .ts actor where Node strips types, and otherwise says what to install', async () => {
    // What this Node does with a .ts file on its own, without the loader the tests run under.
    const file = fileURLToPath(new URL('./fixtures/typed-definition.ts', import.meta.url));
    const script = `import(${JSON.stringify(pathToFileURL(file).href)}).then((m) => console.log(JSON.stringify({ imported: m.default.name })), (e) => console.log(JSON.stringify({ code: e.code })))`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const outcome = JSON.parse(stdout) as { imported?: string; code?: string };
    if (outcome.imported !== undefined) {
      expect(outcome.imported).toBe('typed');
    } else {
      expect(outcome.code).toBe('ERR_UNKNOWN_FILE_EXTENSION');
      expect(typescriptHint(file, outcome)).toMatch(/^a TypeScript file: install tsx: npm install --save-dev tsx; or use Node >= 22\.18/);
    }
    expect(typescriptHint('actor.js', { code: 'ERR_UNKNOWN_FILE_EXTENSION' })).toBeNull();
    expect(typescriptHint(file, new Error('boom'))).toBeNull();
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
