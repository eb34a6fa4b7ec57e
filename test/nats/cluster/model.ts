/**
 * The model-based run of scale-out, shared by the property (property-tests/nats) and the torture
 * campaign (torture/campaigns/cluster.ts): commands on three node processes, the model of which
 * nodes are alive and which modules each has loaded, and the checks (no vitest here).
 *
 * Safety is checked by the probes as events come (per-origin FIFO, membership alternation); after
 * the commands, membership must converge to the model on every live node, and once everything
 * published has arrived and been handled, the accounting law must hold on every live node.
 */
import fc from 'fast-check';
import { Cluster, accountingViolations, type NodeOptions } from './cluster.js';

/** The nodes of the model. */
export const NODE_IDS = ['a', 'b', 'c'] as const;
export type NodeId = (typeof NODE_IDS)[number];

/** The modules commands load (every node also has its `sink`). */
export const MODULES = ['m1', 'm2', 'm3'] as const;

/** One command, as data (printed in failures, replayable by hand). */
export type ClusterCommand =
  | { readonly kind: 'load'; readonly node: NodeId; readonly module: string; readonly watch: boolean }
  | { readonly kind: 'unload'; readonly node: NodeId; readonly module: string }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly module: string }
  | { readonly kind: 'publish'; readonly node: NodeId; readonly core: number; readonly durable: number }
  | { readonly kind: 'kill'; readonly node: NodeId }
  | { readonly kind: 'start'; readonly node: NodeId }
  /** The nats-server stops and starts again on its port with its store (`node` unused). */
  | { readonly kind: 'restart-server'; readonly node: NodeId };

/** What the commands run on: the nodes, and the server when it may be restarted. */
export interface ModelSystem {
  readonly cluster: Cluster;
  readonly restartServer: (() => Promise<void>) | null;
  /** Commands run, by kind. */
  readonly executed: Record<string, number>;
}

/** Which nodes are alive and what each has loaded (`null`: the node is dead). */
export type ClusterModel = Map<NodeId, Set<string> | null>;

/** Whether `command` makes sense in `model` (fast-check skips it otherwise). */
export function applicable(model: ClusterModel, command: ClusterCommand): boolean {
  const loaded = model.get(command.node) ?? null;
  switch (command.kind) {
    case 'load':
      return loaded !== null && !loaded.has(command.module);
    case 'unload':
    case 'crash':
      return loaded !== null && loaded.has(command.module);
    case 'publish':
      return loaded !== null;
    case 'kill':
      // One node stays up: something must be left to observe.
      return loaded !== null && [...model.values()].filter((m) => m !== null).length > 1;
    case 'start':
      return loaded === null;
    case 'restart-server':
      return true;
  }
}

export function describeCommand(command: ClusterCommand): string {
  switch (command.kind) {
    case 'load':
      return `load(${command.node}, ${command.module}${command.watch ? ', watch' : ''})`;
    case 'unload':
    case 'crash':
      return `${command.kind}(${command.node}, ${command.module})`;
    case 'publish':
      return `publish(${command.node}, core ${command.core}, durable ${command.durable})`;
    case 'kill':
    case 'start':
      return `${command.kind}(${command.node})`;
    case 'restart-server':
      return 'restart-server';
  }
}

/** Runs `command` on the cluster and the model; throws with every breach the probes reported so far. */
export async function perform(model: ClusterModel, system: ModelSystem, command: ClusterCommand): Promise<void> {
  const { cluster } = system;
  system.executed[command.kind] = (system.executed[command.kind] ?? 0) + 1;
  const loaded = model.get(command.node) ?? null;
  switch (command.kind) {
    case 'load':
      await cluster.node(command.node).load({ name: command.module, watch: command.watch });
      loaded?.add(command.module);
      break;
    case 'unload':
      await cluster.node(command.node).unload(command.module);
      loaded?.delete(command.module);
      break;
    case 'crash':
      await cluster.node(command.node).crash(command.module);
      break;
    case 'publish':
      await cluster.node(command.node).publish({ core: command.core, durable: command.durable });
      break;
    case 'kill':
      await cluster.node(command.node).kill();
      model.set(command.node, null);
      break;
    case 'start':
      await cluster.start(command.node);
      model.set(command.node, new Set(['sink']));
      break;
    case 'restart-server':
      if (system.restartServer === null) throw new Error('restart-server: this run has no server to restart');
      await system.restartServer();
      break;
  }
  if (cluster.violations.length > 0) throw new Error(`after ${describeCommand(command)}:\n${cluster.violations.join('\n')}`);
}

/** A command, or one resolved against the model when it runs (null: not applicable then). */
type Planned = ClusterCommand | ((model: Readonly<ClusterModel>) => ClusterCommand | null);

class Step implements fc.AsyncCommand<ClusterModel, ModelSystem> {
  /** What it did, once run (for the printed counterexample). */
  private done: ClusterCommand | null = null;
  constructor(private readonly planned: Planned) {}
  private resolve(model: Readonly<ClusterModel>): ClusterCommand | null {
    return typeof this.planned === 'function' ? this.planned(model) : this.planned;
  }
  check(model: Readonly<ClusterModel>): boolean {
    const command = this.resolve(model);
    return command !== null && applicable(model, command);
  }
  run(model: ClusterModel, system: ModelSystem): Promise<void> {
    const command = this.resolve(model) as ClusterCommand;
    this.done = command;
    return perform(model, system, command);
  }
  toString(): string {
    if (this.done !== null) return describeCommand(this.done);
    return typeof this.planned === 'function' ? '(not run)' : describeCommand(this.planned);
  }
}

/**
 * Commands on the model's nodes and modules (and the server, with `restartServer`), as fast-check
 * commands. Each names its node, and its module, by position among those it applies to when it
 * runs (a live node with a module left to load, a dead node to start, ...), so few are skipped.
 */
export function clusterCommands(options: { readonly maxCommands: number; readonly restartServer?: boolean }): fc.Arbitrary<Iterable<fc.AsyncCommand<ClusterModel, ModelSystem>>> {
  const pick = fc.nat({ max: NODE_IDS.length * MODULES.length - 1 });
  /** The `index`-th of `candidates`, or null when there is none. */
  const nth = <T,>(candidates: readonly T[], index: number): T | null => (candidates.length === 0 ? null : (candidates[index % candidates.length] as T));
  const live = (model: Readonly<ClusterModel>): NodeId[] => NODE_IDS.filter((id) => (model.get(id) ?? null) !== null);
  /** Pairs of a live node and one of its modules that is (or is not) loaded. */
  const pairs = (model: Readonly<ClusterModel>, loaded: boolean): [NodeId, string][] =>
    live(model).flatMap((id) => MODULES.filter((m) => (model.get(id) as Set<string>).has(m) === loaded).map((m): [NodeId, string] => [id, m]));
  const step = <T,>(arbitrary: fc.Arbitrary<T>, command: (value: T) => Planned): fc.Arbitrary<Step> => arbitrary.map((value) => new Step(command(value)));
  return fc.commands(
    [
      step(fc.tuple(pick, fc.boolean()), ([i, watch]) => (model) => {
        const pair = nth(pairs(model, false), i);
        return pair === null ? null : { kind: 'load', node: pair[0], module: pair[1], watch };
      }),
      step(pick, (i) => (model) => {
        const pair = nth(pairs(model, true), i);
        return pair === null ? null : { kind: 'unload', node: pair[0], module: pair[1] };
      }),
      step(pick, (i) => (model) => {
        const pair = nth(pairs(model, true), i);
        return pair === null ? null : { kind: 'crash', node: pair[0], module: pair[1] };
      }),
      step(fc.record({ i: pick, core: fc.integer({ min: 0, max: 60 }), durable: fc.integer({ min: 0, max: 30 }) }), ({ i, core, durable }) => (model) => {
        const node = nth(live(model), i);
        return node === null ? null : { kind: 'publish', node, core, durable };
      }),
      step(pick, (i) => (model) => {
        const node = nth(live(model), i);
        return node === null ? null : { kind: 'kill', node };
      }),
      step(pick, (i) => (model) => {
        const node = nth(
          NODE_IDS.filter((id) => (model.get(id) ?? null) === null),
          i,
        );
        return node === null ? null : { kind: 'start', node };
      }),
      ...(options.restartServer === true ? [step(fc.constant(null), () => ({ kind: 'restart-server', node: 'a' }))] : []),
    ],
    // Sequences near maxCommands (fast-check's default size keeps them short).
    { maxCommands: options.maxCommands, size: 'max' },
  );
}

/** What every live node's sink must have loaded: its own modules, and `<node>/<module>` of the other live nodes. */
export function expectedMembers(model: ClusterModel, self: NodeId): string[] {
  const members: string[] = [];
  for (const [id, loaded] of model) {
    if (loaded === null) continue;
    for (const module of loaded) members.push(id === self ? module : `${id}/${module}`);
  }
  return members.sort();
}

/** Options of {@link runClusterModel}. */
export interface ModelRunOptions {
  readonly url: string;
  /** A prefix of its own: every run is a bus of its own on the server. */
  readonly prefix: string;
  /** A deliberately broken port on every node (cluster/node-process.ts). */
  readonly broken?: NodeOptions['broken'];
  /** How long membership may take to converge after the commands. Default 20 s. */
  readonly convergeMs?: number;
  /** Waits for membership to converge after every command, not only after the last. */
  readonly convergeEach?: boolean;
  /** Restarts the server (for `restart-server` commands). */
  readonly restartServer?: () => Promise<void>;
}

/**
 * Starts three nodes on a bus of their own, runs the commands (those not applicable are skipped),
 * then checks convergence and the accounting law; kills every node at the end. Throws with what
 * went wrong.
 */
export async function runClusterModel(
  commands: Iterable<fc.AsyncCommand<ClusterModel, ModelSystem>> | readonly ClusterCommand[],
  options: ModelRunOptions,
): Promise<{ readonly executed: Readonly<Record<string, number>> }> {
  const cluster = new Cluster({ url: options.url, prefix: options.prefix, ...(options.broken === undefined ? {} : { broken: options.broken }) });
  const model: ClusterModel = new Map(NODE_IDS.map((id) => [id, new Set(['sink'])]));
  try {
    await Promise.all(NODE_IDS.map((id) => cluster.start(id)));
    await converged(cluster, model, options.convergeMs ?? 20_000);
    const steps = [...commands].map((c) => ('kind' in c ? new Step(c) : c));
    const executed: Record<string, number> = {};
    const real: ModelSystem = { cluster, restartServer: options.restartServer ?? null, executed };
    if (options.convergeEach === true) {
      for (const step of steps) {
        if (!step.check(model)) continue;
        await step.run(model, real);
        await converged(cluster, model, options.convergeMs ?? 20_000);
      }
    } else {
      await fc.asyncModelRun(() => ({ model, real }), steps);
    }
    await converged(cluster, model, options.convergeMs ?? 20_000);
    await cluster.settled();
    const found = [...cluster.violations];
    for (const node of cluster.live()) found.push(...accountingViolations(node.id, await node.state()));
    if (found.length > 0) throw new Error(found.join('\n'));
    return { executed };
  } finally {
    await cluster.dispose();
  }
}

/** Waits until every live node's sink has exactly the model's members; throws the difference otherwise. */
async function converged(cluster: Cluster, model: ClusterModel, timeoutMs: number): Promise<void> {
  const differences = (): string[] =>
    cluster.live().flatMap((node) => {
      const want = expectedMembers(model, node.id as NodeId);
      const have = [...(node.probe('sink')?.members ?? [])];
      const missing = want.filter((m) => !have.includes(m));
      const extra = have.filter((m) => !want.includes(m));
      return missing.length === 0 && extra.length === 0 ? [] : [`${node.id}: missing [${missing.join(', ')}], extra [${extra.join(', ')}]`];
    });
  try {
    await cluster.until(() => differences().length === 0 || cluster.violations.length > 0, timeoutMs);
  } catch {
    throw new Error(`membership did not converge within ${timeoutMs} ms:\n${differences().join('\n')}`);
  }
  if (cluster.violations.length > 0) throw new Error(cluster.violations.join('\n'));
}
