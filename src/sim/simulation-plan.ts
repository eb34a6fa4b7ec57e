import type { Logger } from 'pino';
import { ModactorError, type ValidationIssue } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import { defineModule, type ModuleDefinition } from '../node/module.js';
import type { ModactorNode } from '../node/node.js';
import { isInProcess, loadActor, renamed, type LoadableModule } from './load-actor.js';
import { nameOf, type Scenario, type ScenarioCommand, type TimedAction } from './scenario.js';

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** Runs on the real scheduler: virtual ms become `timeScale` real ms. Not deterministic. */
  readonly real?: boolean;
  /** Overrides the scenario's time scale (real mode). */
  readonly timeScale?: number;
  /** Directory that relative actor paths resolve against (the scenario file's). Default the cwd. */
  readonly baseDir?: string;
  /** Called now and then with the virtual time and the expected end (for a progress line). */
  readonly onProgress?: (t: number, end: number) => void;
  /** Where the node logs (pino); default silent. */
  readonly logger?: Logger;
  /**
   * Ends the run early when aborted (the CLI aborts a `--real` run on SIGINT or SIGTERM): the
   * graceful shutdown begins at once, and the report covers what ran, with `interrupted` set.
   */
  readonly signal?: AbortSignal;
  /** Called with the scenario's node once it exists, before any module loads (e.g. to serve its metrics). */
  readonly onNode?: (node: ModactorNode) => void | Promise<void>;
}

/** A scenario with its options settled and every actor it names resolved: what a run needs. */
export interface SimulationPlan {
  readonly scenario: Scenario;
  readonly options: SimulateOptions;
  readonly seed: number;
  readonly real: boolean;
  readonly timeScale: number;
  /**
   * The definition each scenario module, load, hotload and reload-with-options resolves to, keyed
   * by that part of the scenario.
   */
  readonly definitions: ReadonlyMap<ScenarioModuleKey, LoadableModule>;
  /** The process modules of the scenario's `modules`, by name. */
  readonly processModules: ReadonlyMap<string, LoadableModule>;
  /**
   * True when process modules run in a companion node on the real scheduler beside the simulated
   * node (always, unless the run is in real time at scale 1, where they join the node itself).
   */
  readonly companionMode: boolean;
  /** The definition resolved for a scenario module or a load or hotload command. */
  definitionOf(key: ScenarioModuleKey): LoadableModule;
  /** The actor a module name was last loaded from. */
  actorOf(module: string): string;
}

/** The parts of a scenario that name an actor. */
export type ScenarioModuleKey = Scenario['modules'][number] | ScenarioCommand | TimedAction;

/**
 * Settles the options and resolves every actor before anything runs, so that a bad one is a
 * scenario error, not a crash: loads each actor's definition, and checks what needs the resolved
 * actors (the checks that need the scenario alone are the parser's). Throws `invalid-scenario`
 * naming each bad field.
 */
export async function planSimulation(scenario: Scenario, options: SimulateOptions): Promise<SimulationPlan> {
  const real = options.real ?? false;
  const timeScale = options.timeScale ?? scenario.timeScale;
  const baseDir = options.baseDir ?? process.cwd();
  const issues: ValidationIssue[] = [];
  const definitions = new Map<ScenarioModuleKey, LoadableModule>();
  const actors = new Map<string, string>();

  const resolve = async (key: ScenarioModuleKey, actor: string, moduleOptions: Readonly<Record<string, unknown>> | undefined, path: string, name: string): Promise<void> => {
    const result = await loadActor(actor, moduleOptions, path, baseDir, name);
    if (Array.isArray(result)) {
      issues.push(...result);
      return;
    }
    if (result.name !== name && !isInProcess(result)) {
      issues.push(issue(`${path}.name`, `the name of the process module's manifest, "${result.name}"`, `"${name}"`));
      return;
    }
    definitions.set(key, result.name === name ? result : renamed(result as ModuleDefinition, name));
  };

  for (const [i, m] of scenario.modules.entries()) {
    actors.set(nameOf(m), m.actor);
    await resolve(m, m.actor, m.options, `modules[${i}]`, nameOf(m));
  }
  const commands: [ScenarioCommand | TimedAction, string][] = [
    ...scenario.actions.map((a, i): [TimedAction, string] => [a, `actions[${i}]`]),
    ...scenario.script.map((s, i): [ScenarioCommand, string] => [s, `script[${i}]`]),
  ];
  for (const [command, path] of commands) {
    if (command.do === 'load' || command.do === 'hotload') {
      actors.set(command.module, command.actor);
      await resolve(command, command.actor, command.options, path, command.module);
    }
  }
  // A reload with options makes the module's actor anew; the parser made sure the module is one the scenario loads.
  for (const [command, path] of commands) {
    if (command.do === 'reload' && command.options !== undefined) {
      await resolve(command, actors.get(command.module) ?? command.module, command.options, path, command.module);
    }
  }

  // Process modules run real child processes: faults cannot be injected into them, and (unless the
  // run is in real time at scale 1) they run in a companion node beside the simulated one.
  const processModules = new Map<string, LoadableModule>();
  for (const m of scenario.modules) {
    const definition = definitions.get(m);
    if (definition !== undefined && !isInProcess(definition)) processModules.set(nameOf(m), definition);
  }
  const companionMode = processModules.size > 0 && (!real || timeScale !== 1);
  const inProcessOnly = (path: string, module: string): void => {
    issues.push(issue(path, 'an in-process module (faults are injected into those only)', `process module "${module}"`));
  };
  scenario.faults.forEach((fault, i) => {
    if (fault.kind !== 'flood' && fault.kind !== 'restart-node' && processModules.has(fault.module)) inProcessOnly(`faults[${i}].module`, fault.module);
  });
  // A module with replay keeps its position: the definition says so (in-process modules only).
  scenario.modules.forEach((m, i) => {
    const definition = definitions.get(m);
    if (m.replay !== true || definition === undefined) return;
    if (isInProcess(definition)) definitions.set(m, defineModule({ ...definition, replay: true }));
    else inProcessOnly(`modules[${i}].replay`, nameOf(m));
  });
  if (scenario.node.store === true && companionMode) {
    issues.push(issue('node.store', 'a store only without process modules in a companion node (or with --real --time-scale 1)', 'true'));
  }
  for (const [command, path] of commands) {
    if ((command.do === 'slow' || command.do === 'crash') && processModules.has(command.module)) inProcessOnly(`${path}.module`, command.module);
    if ((command.do === 'load' || command.do === 'hotload') && companionMode) {
      const definition = definitions.get(command);
      if (definition !== undefined && !isInProcess(definition)) {
        issues.push(issue(`${path}.actor`, 'an in-process module: process modules are listed under modules (unless --real --time-scale 1)', `"${command.actor}"`));
      }
    }
  }
  if (issues.length > 0) {
    const lines = issues.slice(0, 5).map((i) => `  ${i.path}: ${i.message}`);
    throw new ModactorError('invalid-scenario', `Invalid scenario ${scenario.name}:\n${lines.join('\n')}`, { issues });
  }

  return {
    scenario,
    options,
    seed: options.seed ?? scenario.seed,
    real,
    timeScale,
    definitions,
    processModules,
    companionMode,
    definitionOf(key) {
      const definition = definitions.get(key);
      if (definition === undefined) throw new Error('modactor simulate: an actor was used that the plan did not resolve');
      return definition;
    },
    actorOf: (module) => actors.get(module) ?? module,
  };
}
