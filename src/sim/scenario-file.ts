import { writeFileSync } from 'node:fs';
import type { InvariantName, Scenario, ScenarioCommand } from './scenario.js';

/**
 * A command in the script vocabulary: the same shape as a scenario's script step. The property
 * test's own commands map onto these with {@link scenarioFromModelRun} (src/sim/model-run.ts).
 */
export type ModelCommand = ScenarioCommand;

/** A scenario as written to a file (the JSON input format, before {@link parseScenario}). */
export interface ScenarioFile {
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  readonly duration: number;
  readonly node?: { readonly shutdownTimeoutMs?: number; readonly defaultMailboxCapacity?: number };
  readonly script: readonly ModelCommand[];
  readonly shutdown: { readonly at: number; readonly reason: string };
  readonly invariants?: readonly InvariantName[];
}

/** Options of {@link scenarioFromCommands}. */
export interface FromCommandsOptions {
  /** The seed of the run that failed: the replay uses the same one. */
  readonly seed: number;
  readonly name?: string;
  /** Where the case came from, e.g. the fast-check seed and path. */
  readonly description?: string;
  /** Virtual ms between the last command and the graceful shutdown. Default 1000. */
  readonly settleMs?: number;
  readonly node?: ScenarioFile['node'];
  readonly invariants?: readonly InvariantName[];
}

/**
 * Maps a command list (a failing case of the model-based test) onto a scenario: each command
 * becomes one script step, unchanged; the duration is the sum of the `advance` steps plus
 * `settleMs`, and the scenario ends with a graceful shutdown. Replay it with
 * `modactor simulate case.json` (or {@link simulate} on {@link parseScenario} of it).
 *
 * @example
 * ```ts
 * const file = scenarioFromCommands(commands, { seed: 42, description: 'fast-check seed 42, path "3:1"' });
 * writeScenarioFile('failing-case.json', file);
 * // npx modactor simulate failing-case.json
 * ```
 */
export function scenarioFromCommands(commands: readonly ModelCommand[], options: FromCommandsOptions): ScenarioFile {
  const advanced = commands.reduce((sum, c) => sum + (c.do === 'advance' ? c.ms : 0), 0);
  const duration = advanced + (options.settleMs ?? 1000);
  return {
    name: options.name ?? 'property-case',
    ...(options.description === undefined ? {} : { description: options.description }),
    seed: options.seed,
    duration,
    ...(options.node === undefined ? {} : { node: options.node }),
    script: commands.map((c) => ({ ...c })),
    shutdown: { at: duration, reason: 'end of the replayed case' },
    ...(options.invariants === undefined ? {} : { invariants: options.invariants }),
  };
}

/** The command list of a scenario's script (the inverse of {@link scenarioFromCommands}). */
export function commandsOfScenario(scenario: Scenario): readonly ModelCommand[] {
  return scenario.script;
}

/** A scenario as stable, readable JSON text. */
export function formatScenario(file: ScenarioFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Writes a scenario file (for `modactor simulate <file>`). */
export function writeScenarioFile(path: string, file: ScenarioFile): void {
  writeFileSync(path, formatScenario(file));
}
