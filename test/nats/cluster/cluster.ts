/**
 * Nodes in processes of their own (node-process.ts), joined over one real nats-server, as the
 * cluster tests, the property and the torture campaign drive them (no vitest here).
 *
 * Each {@link ClusterNode} is a forked process running `createNode` + `connectBus`; the test sends
 * it commands and gets answers, and keeps the latest report of what its probes saw, pushed by the
 * node whenever it changed. {@link Cluster.until} waits for a condition over those reports,
 * re-checked on every push (never by sleeping), and fails naming the condition when it does not
 * come within its time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DeliveryStats, ModuleInfo, NodeEvent, PublishReceipt } from '../../../src/index.js';
import type { BusStats } from '../../../src/nats/bus-stats.js';
import { sendingBalanced } from '../../../src/nats/bus-stats.js';
import { Conditions } from '../fake-port.js';
import type { ProbeReport, ProbeSpec } from './probe.js';

const SCRIPT = fileURLToPath(new URL('./node-process.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** How a node process is started. */
export interface NodeOptions {
  readonly url: string;
  readonly prefix: string;
  readonly heartbeatMs?: number;
  readonly deadlineMs?: number;
  readonly user?: string;
  readonly pass?: string;
  /** A deliberately broken port (node-process.ts): `reorder` or `lost-retire`. */
  readonly broken?: string;
}

/** What a node answers to `state`. */
export interface NodeState {
  /** Modules subscribed to NewBlock. */
  readonly subscribers: readonly string[];
  readonly stats: Readonly<Record<string, DeliveryStats>>;
  readonly modules: readonly ModuleInfo[];
  readonly registry: readonly string[];
  readonly probes: readonly ProbeReport[];
  readonly bus: BusStats;
  /** Chain events published by this process, per path. */
  readonly heights: { readonly core: number; readonly durable: number };
}

/** A node process. */
export class ClusterNode {
  /** The latest report of its probes, and its registry (loaded modules, local and remote). */
  probes: readonly ProbeReport[] = [];
  registry: readonly string[] = [];
  /** Whether its bus is connected (as last reported). */
  connected = false;
  /** Chain events this process published, per path (its heights). */
  readonly published = { core: 0, durable: 0 };
  exited = false;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exit: Promise<void>;

  private constructor(
    readonly id: string,
    readonly proc: ChildProcess,
    private readonly cluster: Cluster,
  ) {
    this.exit = new Promise((resolve) =>
      proc.once('exit', () => {
        this.exited = true;
        for (const { reject } of this.pending.values()) reject(new Error(`node ${id} exited`));
        this.pending.clear();
        cluster.changed();
        resolve();
      }),
    );
    proc.on('message', (message: { id?: number; ok?: boolean; result?: unknown; error?: string; push?: string; text?: string; probes?: ProbeReport[]; registry?: string[]; connected?: boolean }) => {
      if (message.push === 'report') {
        this.probes = message.probes ?? [];
        this.registry = message.registry ?? [];
        this.connected = message.connected === true;
        cluster.changed();
      } else if (message.push === 'violation') {
        cluster.violations.push(message.text ?? '?');
        cluster.changed();
      } else if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok === true) waiter?.resolve(message.result);
        else waiter?.reject(new Error(`node ${id}: ${message.error ?? '?'}`));
      }
    });
  }

  /** Starts a node process; resolves once it joined the bus. */
  static async start(cluster: Cluster, id: string, options: NodeOptions): Promise<ClusterNode> {
    const args = ['--url', options.url, '--node', id, '--prefix', options.prefix, '--heartbeat-ms', String(options.heartbeatMs ?? 100), '--deadline-ms', String(options.deadlineMs ?? 600)];
    if (options.user !== undefined) args.push('--user', options.user, '--pass', options.pass ?? '');
    if (options.broken !== undefined) args.push('--broken', options.broken);
    const proc = fork(SCRIPT, args, { execArgv: ['--import', TSX, '--conditions=modactor-source'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const node = new ClusterNode(id, proc, cluster);
    await new Promise<void>((resolve, reject) => {
      let refused = '';
      const onMessage = (message: { push?: string; error?: string }): void => {
        if (message.push === 'join-failed') refused = `: ${message.error ?? '?'}`;
        if (message.push !== 'ready') return;
        proc.off('message', onMessage);
        resolve();
      };
      proc.on('message', onMessage);
      proc.once('exit', (code, signal) => reject(new Error(`node ${id} exited before it joined the bus (${signal ?? `code ${code}`})${refused}`)));
    });
    return node;
  }

  private request<T>(command: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`node ${this.id} has exited`));
    const id = ++this.next;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.proc.send({ id, ...command });
    });
  }

  load(spec: ProbeSpec): Promise<ModuleInfo> {
    return this.request({ cmd: 'load', spec });
  }
  loadActor(actor: string, options: Record<string, unknown> = {}): Promise<ModuleInfo> {
    return this.request({ cmd: 'load-actor', actor, options });
  }
  unload(name: string): Promise<ModuleInfo> {
    return this.request({ cmd: 'unload', name });
  }
  /** The probe throws on a HealthCheck published for it on its own node. */
  crash(name: string): Promise<PublishReceipt> {
    return this.request({ cmd: 'crash', name });
  }
  release(name: string): Promise<void> {
    return this.request({ cmd: 'release', name });
  }
  /**
   * Publishes `core` NewBlock and `durable` BlockDisconnected events, interleaved, with this
   * process's heights; resolves with the receipts of those some local module dropped or failed.
   */
  publish(counts: { core?: number; durable?: number }): Promise<PublishReceipt[]> {
    this.published.core += counts.core ?? 0;
    this.published.durable += counts.durable ?? 0;
    return this.request({ cmd: 'publish', ...counts });
  }
  publishEvent(event: NodeEvent): Promise<PublishReceipt> {
    return this.request({ cmd: 'publish-event', event });
  }
  /** Resolves once none of its probes (held ones aside) has an event pending. */
  quiet(): Promise<void> {
    return this.request({ cmd: 'quiet' });
  }
  state(): Promise<NodeState> {
    return this.request({ cmd: 'state' });
  }
  /** Graceful: node.shutdown() (its bus leaves with it); resolves with the bus's last stats once the process exited. */
  async shutdown(): Promise<BusStats> {
    const stats = await this.request<BusStats>({ cmd: 'shutdown' });
    await this.exit;
    return stats;
  }
  /** SIGKILL: no goodbye; the others find out at the deadline. */
  async kill(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGKILL');
    await this.exit;
  }

  /** The latest report of probe `name`. */
  probe(name: string): ProbeReport | undefined {
    return this.probes.find((p) => p.name === name);
  }
}

/** Nodes of one bus (one prefix on one server). */
export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  /** Every breach any probe reported. */
  readonly violations: string[] = [];
  private readonly conditions = new Conditions();

  constructor(readonly options: NodeOptions) {}

  /** Starts node `id` (again, after a kill: a new incarnation under the same id). */
  async start(id: string, overrides: Partial<NodeOptions> = {}): Promise<ClusterNode> {
    const node = await ClusterNode.start(this, id, { ...this.options, ...overrides });
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): ClusterNode {
    const node = this.nodes.get(id);
    if (node === undefined || node.exited) throw new Error(`no live node ${id}`);
    return node;
  }

  live(): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => !n.exited);
  }

  changed(): void {
    this.conditions.changed();
  }

  /** Resolves once `condition` holds over the nodes' reports; rejects naming it after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    return this.conditions.until(condition, timeoutMs);
  }

  /**
   * Resolves once everything published so far has arrived everywhere and been handled: every live
   * node connected, then a marker on each path from each live node, seen by every other live
   * node's sink (FIFO per origin and path: what was sent before it has arrived or never will),
   * then every node quiet. A breach a probe reported ends the wait at once (a held-back event
   * may never come): it is thrown.
   */
  async settled(timeoutMs = 15_000): Promise<void> {
    await this.until(() => this.live().every((n) => n.connected), timeoutMs).catch((error: unknown) => {
      throw new Error(`not every node is connected to the bus: ${this.live().filter((n) => !n.connected).map((n) => n.id).join(', ')} (${String(error)})`);
    });
    const live = this.live();
    await Promise.all(live.map((n) => n.publish({ core: 1, durable: 1 })));
    await this.until(
      () =>
        live.every((from) =>
          live.every((to) => {
            const sink = to.probe('sink');
            const source = to === from ? 'node' : `${from.id}/node`;
            return sink !== undefined && sink.lastHeight[`${source} core`] === from.published.core && sink.lastHeight[`${source} durable`] === from.published.durable;
          }),
        ) || this.violations.length > 0,
      timeoutMs,
    );
    if (this.violations.length > 0) throw new Error(this.violations.join('\n'));
    await Promise.all(live.map((n) => n.quiet()));
  }

  /** Kills every node left (SIGKILL). */
  async dispose(): Promise<void> {
    await Promise.all(this.live().map((n) => n.kill()));
  }
}

/**
 * The accounting law on one node, once it is quiet: every event offered to each module ended in
 * exactly one counted outcome and none is pending (what each probe took matches the count of
 * handled events), and every event the node gave its bus has one sending outcome on each path.
 */
export function accountingViolations(id: string, state: NodeState): string[] {
  const found: string[] = [];
  for (const [name, s] of Object.entries(state.stats)) {
    const pending = s.successful - s.handled - s.handlerFailed - s.lostOnCrash;
    if (pending !== 0) found.push(`${id}/${name}: ${pending} events pending once quiet (successful ${s.successful}, handled ${s.handled}, failed in handler ${s.handlerFailed}, lost ${s.lostOnCrash})`);
    const probe = state.probes.find((p) => p.name === name);
    if (probe !== undefined && probe.handled !== s.handled) found.push(`${id}/${name}: handled ${s.handled} by the statistics, ${probe.handled} by what it saw`);
  }
  for (const path of ['core', 'durable'] as const) {
    const b = state.bus[path];
    if (!sendingBalanced(b)) found.push(`${id}: ${path} path: offered ${b.offered} != sent ${b.sent} + busUnavailable ${b.busUnavailable} + overflow ${b.overflow} + tooLarge ${b.tooLarge} + unconfirmed ${b.unconfirmed} + pending ${b.pending}`);
    if (b.pending !== 0) found.push(`${id}: ${path} path: ${b.pending} events still pending once quiet`);
  }
  return found;
}
