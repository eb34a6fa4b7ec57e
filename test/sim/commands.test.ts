import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  commandsOfScenario,
  parseScenario,
  parseScenarioText,
  scenarioFromCommands,
  simulate,
  writeScenarioFile,
  type ModelCommand,
} from '../../src/index.js';

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
