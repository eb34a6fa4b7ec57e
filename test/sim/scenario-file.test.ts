import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  commandsOfScenario,
  parseModelRun,
  parseScenario,
  parseScenarioText,
  scenarioFromCommands,
  scenarioFromModelRun,
  simulate,
  writeScenarioFile,
  type ModelCommand,
} from '../../src/sim.js';

const block = (height: number) => ({ type: 'NewBlock', payload: { blockHash: height.toString(16).padStart(64, '0'), height } }) as const;

/** A command list as the model-based test would generate it: every kind of command once or more. */
const commands: ModelCommand[] = [
  { do: 'load', module: 'a', actor: 'probe', options: { subscribe: ['NewBlock', 'ModuleLoaded', 'ModuleUnloaded'], mailboxCapacity: 4 } },
  { do: 'load', module: 'b', actor: 'probe', options: { subscribe: [] } },
  { do: 'advance', ms: 10 },
  { do: 'subscribe', module: 'b', types: ['NewBlock'] },
  { do: 'slow', module: 'a', delayMs: 100, forMs: 1000 },
  { do: 'publish', event: block(1), count: 10 },
  { do: 'advance', ms: 50 },
  { do: 'hotload', module: 'c', actor: 'probe', options: { subscribe: ['ModuleLoaded'] } },
  { do: 'crash', module: 'b' },
  { do: 'publish', event: block(2), count: 1 },
  { do: 'advance', ms: 100 },
  { do: 'restart', module: 'c' },
  { do: 'unload', module: 'a' },
  { do: 'advance', ms: 40 },
];

describe('scenarioFromCommands', () => {
  it('maps each command onto one script step, unchanged, and ends with a graceful shutdown', () => {
    const file = scenarioFromCommands(commands, { seed: 42, description: 'fast-check seed 42, path "1:2"' });
    expect(file.script).toEqual(commands);
    expect(file).toMatchObject({ seed: 42, duration: 1200, shutdown: { at: 1200 }, description: 'fast-check seed 42, path "1:2"' });
    const scenario = parseScenario(file);
    expect(commandsOfScenario(scenario)).toEqual(commands);
  });

  it('replays a command list deterministically, with the outcome the commands imply', async () => {
    const scenario = parseScenario(scenarioFromCommands(commands, { seed: 42 }));
    const report = await simulate(scenario);
    expect(report.passed).toBe(true);
    const row = (name: string) => report.modules.find((m) => m.name === name);
    // 10 blocks at once to a mailbox of 4: 4 queued, 6 dropped (nothing was in hand yet); then
    // block 2, and 8 membership events in the priority lane (ModuleLoaded of the recorder, a, b, c,
    // and ModuleUnloaded + ModuleLoaded for b's crash and c's restart). a is slowed down by 100 ms
    // per event, so its unload at 0.160s completes once the event in hand is done.
    expect(row('a')).toMatchObject({ delivered: 13, dropped: 6, end: 'unloaded at 0.210s' });
    expect(row('b')).toMatchObject({ failed: 1, restarts: 1 });
    expect(report.timeline.map((e) => e.text)).toContain('hotload c 1.0.0');
    expect(report.timeline.map((e) => e.text)).toContain('restart c');
    expect(JSON.stringify(await simulate(scenario))).toBe(JSON.stringify(report));
  });

  it('writes a file the CLI reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modactor-case-'));
    const path = join(dir, 'case.json');
    writeScenarioFile(path, scenarioFromCommands(commands, { seed: 9 }));
    const scenario = parseScenarioText(readFileSync(path, 'utf8'), path);
    expect(scenario.seed).toBe(9);
    expect(scenario.script).toHaveLength(commands.length);
  });
});

describe('scenarioFromModelRun (the property test\'s printed counterexamples)', () => {
  const printed =
    '[load(m0, watches),load(m1),hotload(m2, watches),subscribe(m1, membership),publish(5),slowDown(m1),publish(7),crash(m0),restart(m2),advance(100),unload(m2),advance(5000)]';

  it('reads the printed command list', () => {
    const steps = parseModelRun(printed);
    expect(steps).toHaveLength(12);
    expect(steps[0]).toEqual({ kind: 'load', name: 'm0', watches: true });
    expect(steps[1]).toEqual({ kind: 'load', name: 'm1', watches: false });
    expect(steps[4]).toEqual({ kind: 'publish', count: 5 });
    expect(steps[11]).toEqual({ kind: 'advance', ms: 5000 });
    expect(() => parseModelRun('load(m0),explode(m1)')).toThrow(/Cannot read step 2 of the command list: "explode\(m1\)"/);
  });

  it('maps each command onto the script (hotload and crash onto the actions they are made of)', () => {
    const file = scenarioFromModelRun(printed, { seed: 1234 });
    const kinds = file.script.map((s) => s.do);
    expect(kinds).toEqual([
      'load', 'load',
      'publish', 'hotload', 'publish', // hotload(m2, watches): a load between two blocks
      'subscribe', 'publish', 'slow', 'publish',
      'crash', 'publish', // crash(m0): armed on the next NewBlock, and one published
      'restart', 'advance', 'unload', 'advance',
      'release', 'advance', // the end of every property run: release everything, settle
    ]);
    expect(file.script[0]).toEqual({
      do: 'load',
      module: 'm0',
      actor: 'probe',
      options: { subscribe: ['NewBlock', 'ModuleLoaded', 'ModuleUnloaded', 'ModuleCrashed'], mailboxCapacity: 4, restart: { maxRestarts: 1_000_000, withinMs: 1 } },
    });
  });

  it('replays the case with every invariant checked, deterministically', async () => {
    const scenario = parseScenario(scenarioFromModelRun(printed, { seed: 1234 }));
    const report = await simulate(scenario);
    expect(report.invariants.filter((i) => i.status === 'fail')).toEqual([]);
    const m1 = report.modules.find((m) => m.name === 'm1');
    // Script steps at one virtual instant run back to back, as the property's commands do: m1's
    // mailbox of 4 takes 4 of publish(5) (1 dropped); held, it then drops all 7 of publish(7) and
    // the block of crash(m0).
    expect(m1).toMatchObject({ dropped: 9 });
    expect(report.modules.find((m) => m.name === 'm0')).toMatchObject({ restarts: 1 });
    expect(JSON.stringify(await simulate(scenario))).toBe(JSON.stringify(report));
  });
});
