/**
 * Node restarts in a simulation (`node.store: true`): the node keeps a store on a simulated disk
 * (`createMemoryDisk`), and the `restart-node` command and fault restart it on that disk, after a
 * graceful shutdown, a process crash or a power loss. What the `durable-delivery` invariant needs
 * is recorded in the trace's {@link DurabilityTrace}: the node's lives, the durable events each
 * accepted and which a flush acknowledged, what the modules with replay took, and at the end what
 * the log holds and the positions saved.
 */
import { nodeInternals, type ModactorNode } from '../node/node.js';
import { isReservedEventType } from '../events/reserved-event-types.js';
import { openEventLog } from '../store/event-log.js';
import { loadState } from '../store/state-file.js';
import type { MemoryDisk } from '../store/memory-disk.js';
import { errorMessage } from './error-message.js';
import { RECORDER_NAME, type NodeRestartHow } from './scenario.js';
import type { SimulationRun } from './simulation-run.js';

/** Where the simulated node keeps its store on the simulated disk. */
export const STORE_DIR = '/node-store';

/** One life of the node: from its (re)start to its end. */
export interface NodeLife {
  readonly life: number;
  readonly t: number;
  /** How it began: the first start, or how the node restarted. */
  readonly how: 'start' | NodeRestartHow;
  /** Seqs from this one on were handed out in this life (none before it is in the log any more). */
  firstSeq: number;
  /** The positions the saved state held for the modules with replay when it began. */
  readonly restored: Readonly<Record<string, { readonly position: number; readonly ahead: readonly number[] }>>;
}

/** A durable event a module with replay took, by the life it took it in and its seq. */
export interface DurableTake {
  readonly module: string;
  readonly life: number;
  readonly seq: number;
  readonly t: number;
}

/** What a run with a store records for the `durable-delivery` invariant. */
export interface DurabilityTrace {
  readonly lives: NodeLife[];
  /** Durable events accepted: the life, seq and type of each. */
  readonly accepted: { readonly life: number; readonly seq: number; readonly type: string }[];
  /** A flush resolved in `life`: every durable event of that life up to `upTo` is acknowledged. */
  readonly acknowledged: { readonly life: number; readonly upTo: number }[];
  readonly takes: DurableTake[];
  /** The modules with replay: their durable types, and from where they were owed events (their first load). */
  readonly modules: Map<string, { readonly types: readonly string[]; readonly from: { readonly life: number; readonly seq: number } }>;
  /** After the final shutdown: the events the log holds (by the life that handed out their seq) and the saved positions. */
  final: { readonly log: readonly { readonly life: number; readonly seq: number; readonly type: string }[]; readonly positions: Readonly<Record<string, number>> } | null;
}

export function emptyDurabilityTrace(): DurabilityTrace {
  return { lives: [], accepted: [], acknowledged: [], takes: [], modules: new Map(), final: null };
}

/** The life whose numbering `seq` belongs to, as seen from `life`: the latest one at or before it that began below it. */
export function ownerLife(lives: readonly NodeLife[], seq: number, life: number): number {
  let owner = lives[0]?.life ?? 1;
  for (const l of lives) if (l.life <= life && l.firstSeq <= seq) owner = l.life;
  return owner;
}

/** The ledger of one run: fed by the run as the node lives, restarts and its modules take events. */
export class DurabilityLedger {
  readonly trace = emptyDurabilityTrace();
  life = 0;

  /** A new life of `node` began (its store opening): its accepted durable events are recorded from now. */
  begin(node: ModactorNode, t: number, how: NodeLife['how'], restored: NodeLife['restored']): void {
    this.life++;
    const life = this.life;
    const { router } = nodeInternals(node);
    this.trace.lives.push({ life, t, how, firstSeq: Number.POSITIVE_INFINITY, restored });
    router.tap((event) => {
      const seq = event.meta?.seq as number;
      const current = this.trace.lives.at(-1) as NodeLife;
      if (current.life === life && seq < current.firstSeq) current.firstSeq = seq;
      if (!isReservedEventType(event.type)) this.trace.accepted.push({ life, seq, type: event.type });
    });
  }

  /** A module with replay was loaded (the first time: from then on it is owed its durable events). */
  owe(node: ModactorNode, module: string, subscribe: readonly string[]): void {
    if (this.trace.modules.has(module)) return;
    const types = subscribe.filter((type) => !isReservedEventType(type));
    this.trace.modules.set(module, { types, from: { life: this.life, seq: nodeInternals(node).router.lastSeq } });
  }

  take(module: string, event: { readonly type: string; readonly meta?: { readonly seq?: number } }, t: number): void {
    if (!this.trace.modules.has(module) || isReservedEventType(event.type)) return;
    this.trace.takes.push({ module, life: this.life, seq: event.meta?.seq ?? -1, t });
  }

  /** Flushes the node's store; once it resolves, what was accepted before is acknowledged. */
  flush(node: ModactorNode): Promise<void> {
    const life = this.life;
    const upTo = nodeInternals(node).router.lastSeq;
    return node.events.flush().then(() => void this.trace.acknowledged.push({ life, upTo }));
  }

  /** After the final shutdown: what the log holds and the positions saved. */
  async finish(disk: MemoryDisk): Promise<void> {
    const log = await openEventLog({ dir: STORE_DIR, fs: disk.mount(), readOnly: true });
    const held: { life: number; seq: number; type: string }[] = [];
    for await (const event of log.read()) held.push({ life: ownerLife(this.trace.lives, event.meta.seq, this.life), seq: event.meta.seq, type: event.type });
    await log.close();
    const { loaded } = await loadState(disk.mount(), STORE_DIR);
    const positions: Record<string, number> = {};
    for (const name of this.trace.modules.keys()) positions[name] = loaded.modules[name]?.position ?? 0;
    this.trace.final = { log: held, positions };
  }
}

/** The positions the saved state on `disk` holds for `modules`. */
async function savedPositions(disk: MemoryDisk, modules: Iterable<string>): Promise<NodeLife['restored']> {
  const { loaded } = await loadState(disk.mount(), STORE_DIR);
  const restored: Record<string, { position: number; ahead: readonly number[] }> = {};
  for (const name of modules) {
    const saved = loaded.modules[name];
    restored[name] = { position: saved?.position ?? 0, ahead: saved?.ahead ?? [] };
  }
  return restored;
}

/**
 * Restarts the run's node on its disk: the old node ends (shut down, or its process dies: nothing
 * of it runs any more), a new one opens the store, the recorder is loaded, the node's view is
 * checkpointed (what the store restored: the accounting invariant counts from there), and the
 * modules loaded before are loaded again, in order, and the node is started. Publishing pauses
 * meanwhile.
 */
export async function restartNode(run: SimulationRun, how: NodeRestartHow): Promise<void> {
  const disk = run.disk;
  const ledger = run.durability;
  if (disk === null || ledger === null || run.restarting || run.shuttingDown) return;
  run.restarting = true;
  try {
    run.note(null, 'restart-node', `node restart (${how})`);
    if (how === 'graceful') {
      await run.node.shutdown('restart').catch((error: unknown) => run.note(null, 'error', `shutdown before the restart failed: ${errorMessage(error)}`));
    }
    run.retireNode();
    if (how === 'crash') disk.crash();
    if (how === 'power-loss') disk.powerLoss();
    run.trace.lifecycle.push({ t: run.now(), type: 'NodeRestarted', payload: { how } });
    const restored = await savedPositions(disk, ledger.trace.modules.keys());
    const node = run.createNode();
    ledger.begin(node, run.now(), how, restored);
    await run.loadRecorder();
    await run.checkpoint('node-restarted');
    for (const [name, { definition, actor }] of [...run.loaded]) {
      if (name === RECORDER_NAME) continue;
      await run.load(name, definition, actor, 'load');
    }
    // Its start-up is complete once its modules are back (NodeStartupCompleted, ready).
    await run.startNode();
    run.note(null, 'restart-node', `node restarted (${how}) with ${run.loaded.size} modules`);
  } finally {
    run.restarting = false;
  }
}
