import { ModactorError } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import type { ModuleRestartPolicy } from '../node/module.js';
import { scenarioFromCommands, type ModelCommand, type ScenarioFile } from './scenario-file.js';

/**
 * One command of the model-based property test (property-tests/node/node-model.test.ts), as
 * fast-check prints it in a counterexample: `load(m0, watches)`, `hotload(m1)`,
 * `subscribe(m0, membership)`, `publish(3)`, `slowDown(m2)`, `release(m2)`, `crash(m1)`,
 * `restart(m1)`, `unload(m0)`, `advance(100)`.
 */
export type ModelStep =
  | { readonly kind: 'load' | 'hotload'; readonly name: string; readonly watches: boolean }
  | { readonly kind: 'subscribe' | 'slowDown' | 'release' | 'crash' | 'restart' | 'unload'; readonly name: string }
  | { readonly kind: 'publish'; readonly count: number }
  | { readonly kind: 'advance'; readonly ms: number };

/** Options of {@link scenarioFromModelRun}: the property test's harness constants. */
export interface ModelRunOptions {
  /** The seed of the failing run. */
  readonly seed: number;
  readonly description?: string;
  /** The probes' mailbox capacity. Default 4 (the harness's CAPACITY). */
  readonly capacity?: number;
  /** The probes' restart policy. Default effectively unlimited, as in the harness. */
  readonly restart?: ModuleRestartPolicy;
  /** Virtual ms the run settles after its commands (everything released). Default 5000. */
  readonly settleMs?: number;
}

const MEMBERSHIP = ['ModuleLoaded', 'ModuleUnloaded', 'ModuleCrashed'] as const;

const STEP = /^\s*(load|hotload|subscribe|publish|slowDown|release|crash|restart|unload|advance)\(([^)]*)\)\s*$/;

/**
 * Parses the printed command list of a property-test counterexample (`[load(m0, watches),
 * publish(3),crash(m0),advance(100)]`, with or without the brackets, separated by commas outside
 * parentheses or by new lines). Throws `invalid-scenario` naming the step it cannot read.
 */
export function parseModelRun(text: string): ModelStep[] {
  const body = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if ((ch === ',' || ch === '\n') && depth === 0) {
      if (current.trim() !== '') parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') parts.push(current);
  return parts.map((part, i): ModelStep => {
    const match = STEP.exec(part);
    const args = match?.[2]?.split(',').map((a) => a.trim()).filter((a) => a !== '') ?? [];
    const bad = (): never => {
      throw new ModactorError('invalid-scenario', `Cannot read step ${i + 1} of the command list: "${part.trim()}"`, {
        issues: [issue(`commands[${i}]`, 'a model command such as load(m0, watches) or advance(100)', `"${part.trim()}"`)],
      });
    };
    if (match === null) return bad();
    const kind = match[1] as ModelStep['kind'];
    switch (kind) {
      case 'load':
      case 'hotload':
        if (args[0] === undefined) return bad();
        return { kind, name: args[0], watches: args.includes('watches') };
      case 'publish':
      case 'advance': {
        const n = Number(args[0]);
        if (!Number.isSafeInteger(n) || n < 0) return bad();
        return kind === 'publish' ? { kind, count: n } : { kind, ms: n };
      }
      default:
        if (args[0] === undefined) return bad();
        return { kind, name: args[0] };
    }
  });
}

/**
 * Maps the model-based property test's commands onto script steps, one for one except where the
 * test's command is itself several actions: its `hotload` publishes a block, loads the module
 * without waiting and publishes another (three steps), its `crash` arms a crash on the next
 * NewBlock and publishes one (two steps). The probes are `actors/probe.ts` with the harness's
 * capacity and restart policy; blocks come from the simulated chain. At the end every held probe is
 * released and the run settles for `settleMs`, as the property does, then shuts down gracefully.
 *
 * The replay runs the same commands under the simulator's invariants and is deterministic for its
 * seed; it is not the property run's exact interleaving (the simulator adds its recorder module).
 *
 * @example
 * ```ts
 * const file = scenarioFromModelRun('[load(m0, watches),publish(3),crash(m0),advance(100)]', { seed: 42 });
 * writeScenarioFile('case.json', file); // npx modactor simulate case.json
 * ```
 */
export function scenarioFromModelRun(run: string | readonly ModelStep[], options: ModelRunOptions): ScenarioFile {
  const steps = typeof run === 'string' ? parseModelRun(run) : run;
  const capacity = options.capacity ?? 4;
  const restart = options.restart ?? { maxRestarts: 1_000_000, withinMs: 1 };
  const probe = (watches: boolean) => ({
    subscribe: watches ? ['NewBlock', ...MEMBERSHIP] : ['NewBlock'],
    mailboxCapacity: capacity,
    restart,
  });
  const oneBlock: ModelCommand = { do: 'publish', traffic: 'blocks', count: 1 };
  const held = new Set<string>();
  const commands: ModelCommand[] = steps.flatMap((step): ModelCommand[] => {
    switch (step.kind) {
      case 'load':
        return [{ do: 'load', module: step.name, actor: 'probe', options: probe(step.watches) }];
      case 'hotload':
        return [oneBlock, { do: 'hotload', module: step.name, actor: 'probe', options: probe(step.watches) }, oneBlock];
      case 'subscribe':
        return [{ do: 'subscribe', module: step.name, types: [...MEMBERSHIP] }];
      case 'publish':
        return [{ do: 'publish', traffic: 'blocks', count: step.count }];
      case 'slowDown':
        held.add(step.name);
        return [{ do: 'slow', module: step.name }];
      case 'release':
        held.delete(step.name);
        return [{ do: 'release', module: step.name }];
      case 'crash':
        return [{ do: 'crash', module: step.name, on: 'NewBlock' }, oneBlock];
      case 'restart':
        return [{ do: 'restart', module: step.name }];
      case 'unload':
        return [{ do: 'unload', module: step.name }];
      case 'advance':
        return [{ do: 'advance', ms: step.ms }];
    }
  });
  const settle = options.settleMs ?? 5000;
  const end: ModelCommand[] = [...[...held].map((name): ModelCommand => ({ do: 'release', module: name })), { do: 'advance', ms: settle }];
  return scenarioFromCommands([...commands, ...end], {
    seed: options.seed,
    name: 'property-case',
    ...(options.description === undefined ? {} : { description: options.description }),
    settleMs: 1000,
  });
}
