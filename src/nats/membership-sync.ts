/**
 * Membership across nodes, over NATS: heartbeats on `<prefix>.hb.<node>`, a JetStream KV bucket
 * keyed `<node>.<module>`, and a {@link MembershipView} turning both into announce / retire calls
 * on the local node.
 *
 * - This node writes a key per loaded module, `{ version, epoch }`, and deletes it on unload. Its
 *   own keys are reconciled against what is loaded whenever the bucket shows them changed, so a
 *   key another node removed while this one was cut off is written again, and keys left by this
 *   node's previous incarnation are removed.
 * - Every `heartbeatMs` it publishes `{ e: epoch }`; a node seen for the first time (or in a new
 *   incarnation) gets an immediate heartbeat back, so a newcomer learns who is alive at once. On
 *   leaving it publishes `{ e, bye: true }` and deletes its keys.
 * - A node not heard from for `deadlineMs` is declared gone: its modules are retired here, and
 *   the lowest-named live node removes its keys (only with a fresh view: connected for at least a
 *   deadline; each delete conditional on the revision seen, so a node that came back and wrote its
 *   key again keeps it).
 *
 * Timers run on the node's scheduler. @internal
 */
import type { Logger } from 'pino';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Scheduler, TimerHandle } from '../kernel/scheduler.js';
import type { BusStats } from './bus-stats.js';
import { MembershipView, type MemberEntry } from './membership-view.js';
import { doublingLog, type BusPort, type MembershipChange } from './port.js';
import { parseMembershipKey, parseSubject, type BusSubjects } from './subject.js';

/** Largest heartbeat or membership value accepted, in bytes. */
const MAX_SMALL_MESSAGE_BYTES = 1024;

/** Delay before retrying a membership write that failed. */
const RETRY_MS = 1000;

/** Timing of membership. */
export interface MembershipTiming {
  /** Heartbeat period. */
  readonly heartbeatMs: number;
  /** Silence after which a node is declared gone. */
  readonly deadlineMs: number;
}

/** What membership needs of the connection's state. */
export interface ConnectionState {
  readonly up: boolean;
  /** When the connection last came up, on the scheduler's clock. */
  readonly upSince: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function smallJson(data: Uint8Array): Record<string, unknown> | undefined {
  if (data.length > MAX_SMALL_MESSAGE_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(decoder.decode(data));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/** A heartbeat: `{ e }` or `{ e, bye: true }`. */
function parseHeartbeat(data: Uint8Array): { epoch: string; bye: boolean } | undefined {
  const value = smallJson(data);
  if (value === undefined || !isName(value['e'])) return undefined;
  const keys = Object.keys(value);
  if (keys.length === 1) return { epoch: value['e'], bye: false };
  if (keys.length === 2 && value['bye'] === true) return { epoch: value['e'], bye: true };
  return undefined;
}

/** A membership value: `{ version, epoch }`. */
function parseMemberValue(data: Uint8Array): { version: string; epoch: string } | undefined {
  const value = smallJson(data);
  if (value === undefined || Object.keys(value).length !== 2) return undefined;
  const { version, epoch } = value;
  return isName(version) && isName(epoch) ? { version, epoch } : undefined;
}

export class MembershipSync {
  readonly view: MembershipView;
  private readonly heartbeatBody: Uint8Array;
  private heartbeatTimer: TimerHandle | null = null;
  private heartbeatSub: Subscription | null = null;
  private watchStop: (() => void) | null = null;
  private stopLocal: (() => void) | null = null;
  private closing = false;

  // Own keys: what is loaded, what the bucket holds, what is being written.
  private readonly loaded = new Map<string, string>();
  private readonly observed = new Map<string, MemberEntry>();
  private readonly writing = new Set<string>();
  private readonly dirty = new Set<string>();
  private retryTimer: TimerHandle | null = null;
  private watchRetry: TimerHandle | null = null;
  /** The highest bucket revision seen. */
  private lastRevision = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly subjects: BusSubjects,
    private readonly nodeId: string,
    private readonly epoch: string,
    private readonly port: BusPort,
    private readonly scheduler: Scheduler,
    private readonly connection: ConnectionState,
    private readonly timing: MembershipTiming,
    private readonly stats: BusStats,
    private readonly log: Logger,
  ) {
    this.heartbeatBody = encoder.encode(JSON.stringify({ e: epoch }));
    const logThrown = doublingLog();
    /** The port never throws; if it does, membership stays consistent and the error is logged. */
    const guarded = (call: () => void): void => {
      try {
        call();
      } catch (error) {
        if (logThrown()) log.error({ err: error }, 'the node threw while taking a membership change');
      }
    };
    this.view = new MembershipView(nodeId, timing.deadlineMs, {
      announce: (node, module, version) => {
        stats.membership.remoteModules++;
        guarded(() => port.announceRemote(node, module, version));
      },
      retire: (node, module) => {
        stats.membership.remoteModules--;
        guarded(() => port.retireRemote(node, module));
      },
    });
  }

  /** Starts listening and announcing this node. Resolves once the bucket's watch is running. */
  async start(): Promise<void> {
    this.heartbeatSub = this.nc.subscribe(this.subjects.allHeartbeats, {
      callback: (error, msg) => {
        if (error === null) this.onHeartbeat(msg);
      },
    });
    const local = this.port.onMembership((change) => this.onLocalChange(change));
    this.stopLocal = () => local.stop();
    for (const { module, version } of local.loaded) this.loaded.set(module, version);
    await this.watch();
    for (const module of this.loaded.keys()) this.reconcile(module);
    this.beat();
  }

  /**
   * The connection came back: what the bucket's watch pushed meanwhile may be lost, so watch again
   * from the last revision seen; write what is missing; say hello.
   */
  resumed(): void {
    this.rewatch();
    for (const module of new Set([...this.loaded.keys(), ...this.observed.keys()])) this.reconcile(module);
    this.publishHeartbeat(false);
  }

  /**
   * Watches the bucket again from the last revision seen; when that fails (disconnected again, or
   * JetStream not ready yet after a server restart), tries again later while connected.
   */
  private rewatch(): void {
    this.watch(this.lastRevision + 1).catch((error: unknown) => {
      this.log.warn({ err: error }, 'could not watch the membership bucket again; trying again');
      if (this.closing || this.watchRetry !== null) return;
      this.watchRetry = this.scheduler.setTimer(RETRY_MS, () => {
        this.watchRetry = null;
        if (this.connection.up && !this.closing) this.rewatch();
      });
    });
  }

  /** (Re)starts the bucket's watch: every key's last value, or every change from `fromRevision`. */
  private async watch(fromRevision?: number): Promise<void> {
    this.watchStop?.();
    const watch = await this.kv.watch({ key: '>', ...(fromRevision === undefined ? {} : { resumeFromRevision: fromRevision }) });
    if (this.closing) {
      watch.stop();
      return;
    }
    this.watchStop = () => watch.stop();
    void (async () => {
      for await (const entry of watch) this.onEntry(entry);
    })().catch((error: unknown) => this.log.error({ err: error }, 'membership watch ended with an error'));
  }

  /**
   * Leaves: goodbye heartbeat, own keys deleted (waited for at most until `deadline` resolves),
   * every remote module retired locally.
   */
  async close(deadline: Promise<void>): Promise<void> {
    this.closing = true;
    this.stopLocal?.();
    this.heartbeatTimer?.cancel();
    this.retryTimer?.cancel();
    this.watchRetry?.cancel();
    this.publishHeartbeat(true);
    const deletes = [...this.observed.keys()].map((module) =>
      this.kv.delete(this.subjects.membershipKey(this.nodeId, module)).catch((error: unknown) => {
        this.stats.membership.writeFailures++;
        this.log.warn({ err: error, module }, 'could not remove a membership key on leaving');
      }),
    );
    await Promise.race([Promise.all(deletes), deadline]);
    this.watchStop?.();
    this.heartbeatSub?.unsubscribe();
    this.view.clear();
    this.stats.membership.nodesAlive = 0;
  }

  // ---- Heartbeats ---------------------------------------------------------------------------------

  /** Publishes a heartbeat, checks deadlines, and arms the next beat. */
  private readonly beat = (): void => {
    if (this.closing) return;
    this.publishHeartbeat(false);
    this.expire();
    this.heartbeatTimer = this.scheduler.setTimer(this.timing.heartbeatMs, this.beat);
  };

  private publishHeartbeat(bye: boolean): void {
    if (!this.connection.up) return;
    try {
      this.nc.publish(this.subjects.heartbeat(this.nodeId), bye ? encoder.encode(JSON.stringify({ e: this.epoch, bye: true })) : this.heartbeatBody);
    } catch {
      // closed: the status handler already knows
    }
  }

  private onHeartbeat(msg: Msg): void {
    if (this.closing) return;
    const subject = parseSubject(this.subjects.prefix, msg.subject);
    const heartbeat = parseHeartbeat(msg.data);
    if (subject === undefined || subject.kind !== 'hb' || heartbeat === undefined) {
      this.stats.membership.garbage++;
      return;
    }
    if (subject.nodeId === this.nodeId) {
      if (heartbeat.epoch !== this.epoch) this.log.warn({ epoch: heartbeat.epoch }, 'another process uses this node id');
      return;
    }
    if (heartbeat.bye) {
      const wasAlive = this.view.isAlive(subject.nodeId);
      this.view.leave(subject.nodeId, heartbeat.epoch);
      if (wasAlive && !this.view.isAlive(subject.nodeId)) this.gone(subject.nodeId, 'left');
      return;
    }
    const outcome = this.view.heartbeat(subject.nodeId, heartbeat.epoch, this.scheduler.now());
    if (outcome === 'joined' || outcome === 'returned') {
      this.stats.membership.nodesJoined++;
      this.countAlive();
      this.log.info({ node: subject.nodeId, outcome }, 'node joined the bus');
      this.publishHeartbeat(false);
    }
  }

  private expire(): void {
    for (const nodeId of this.view.expire(this.scheduler.now())) this.gone(nodeId, 'deadline');
  }

  private gone(nodeId: string, why: 'deadline' | 'left'): void {
    this.stats.membership.nodesGone++;
    this.countAlive();
    this.log.info({ node: nodeId, why }, 'node left the bus');
    if (why === 'deadline') this.removeKeysOf(nodeId);
  }

  private countAlive(): void {
    this.stats.membership.nodesAlive = this.view.aliveNodes().length;
  }

  /** Removes a vanished node's keys, if this node is the one to do it and its view is fresh. */
  private removeKeysOf(nodeId: string): void {
    if (!this.connection.up || this.scheduler.now() - this.connection.upSince < this.timing.deadlineMs) return;
    if (this.view.aliveNodes().some((other) => other < this.nodeId)) return;
    for (const [module, entry] of this.view.entriesOf(nodeId)) {
      this.kv.delete(this.subjects.membershipKey(nodeId, module), { previousSeq: entry.revision }).catch((error: unknown) => {
        this.log.debug({ err: error, node: nodeId, module }, 'a vanished node key changed meanwhile; left as it is');
      });
    }
  }

  // ---- The bucket ---------------------------------------------------------------------------------

  private onEntry(entry: KvEntry): void {
    if (this.closing) return;
    if (entry.revision > this.lastRevision) this.lastRevision = entry.revision;
    const key = parseMembershipKey(entry.key);
    if (key === undefined) {
      this.stats.membership.garbage++;
      return;
    }
    const value = entry.operation === 'PUT' ? parseMemberValue(entry.value) : undefined;
    if (entry.operation === 'PUT' && value === undefined) this.stats.membership.garbage++;
    if (key.nodeId === this.nodeId) {
      const known = this.observed.get(key.module);
      if (known !== undefined && known.revision > entry.revision) return;
      if (value === undefined) this.observed.delete(key.module);
      else this.observed.set(key.module, { ...value, revision: entry.revision });
      this.reconcile(key.module);
      return;
    }
    if (value === undefined) this.view.remove(key.nodeId, key.module, entry.revision);
    else this.view.put(key.nodeId, key.module, { ...value, revision: entry.revision });
  }

  private onLocalChange(change: MembershipChange): void {
    if (change.kind === 'loaded') this.loaded.set(change.module, change.version);
    else this.loaded.delete(change.module);
    this.reconcile(change.module);
  }

  /** Makes this node's key of `module` match what is loaded: one write at a time per key. */
  private reconcile(module: string): void {
    if (this.closing) return;
    if (this.writing.has(module)) {
      this.dirty.add(module);
      return;
    }
    if (!this.connection.up) return; // resumed() reconciles everything
    const version = this.loaded.get(module);
    const seen = this.observed.get(module);
    const key = this.subjects.membershipKey(this.nodeId, module);
    let write: Promise<void>;
    if (version !== undefined) {
      if (seen !== undefined && seen.epoch === this.epoch && seen.version === version) return;
      write = this.kv.put(key, JSON.stringify({ version, epoch: this.epoch })).then((revision) => {
        const known = this.observed.get(module);
        if (known === undefined || known.revision < revision) this.observed.set(module, { version, epoch: this.epoch, revision });
      });
    } else {
      if (seen === undefined) return;
      write = this.kv.delete(key).then(() => {
        if (this.observed.get(module) === seen) this.observed.delete(module);
      });
    }
    this.writing.add(module);
    write
      .catch((error: unknown) => {
        this.stats.membership.writeFailures++;
        this.log.warn({ err: error, module }, 'membership write failed; retrying');
        this.dirty.add(module);
        this.retryLater();
      })
      .finally(() => {
        this.writing.delete(module);
        if (this.dirty.delete(module) && this.retryTimer === null) this.reconcile(module);
      })
      .catch(() => undefined);
  }

  private retryLater(): void {
    if (this.retryTimer !== null || this.closing) return;
    this.retryTimer = this.scheduler.setTimer(RETRY_MS, () => {
      this.retryTimer = null;
      for (const module of new Set([...this.loaded.keys(), ...this.observed.keys()])) this.reconcile(module);
    });
  }
}
