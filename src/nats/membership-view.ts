/**
 * Which remote modules exist, as one node sees the bus: pure state, fed by heartbeats, the
 * membership bucket's entries and the clock; it calls `announce` / `retire` on every change.
 *
 * A remote module is present when its node is alive (a heartbeat within the deadline) and the
 * bucket holds its key with the node's current incarnation (`epoch`). The view announces a module
 * when it becomes present and retires it when it stops being present, so for every (node, module)
 * the calls alternate announce, retire, announce, ... whatever order the inputs come in: a node
 * that vanishes has its modules retired, a node that comes back after a cut is announced again, a
 * restarted node (new epoch) has its old incarnation's modules retired and its new ones announced,
 * and stale keys of an old incarnation are never announced. @internal
 */

/** A module's key in the membership bucket. */
export interface MemberEntry {
  readonly version: string;
  /** The incarnation of the node that wrote it. */
  readonly epoch: string;
  /** The bucket's revision of this write. */
  readonly revision: number;
}

/** What the view does when presence changes. */
export interface MembershipActions {
  announce(nodeId: string, module: string, version: string): void;
  retire(nodeId: string, module: string): void;
}

/** What a heartbeat meant. */
export type HeartbeatOutcome = 'self' | 'joined' | 'returned' | 'alive';

interface NodeState {
  epoch: string;
  lastSeen: number;
  alive: boolean;
}

export class MembershipView {
  private readonly nodes = new Map<string, NodeState>();
  private readonly entries = new Map<string, Map<string, MemberEntry>>();
  /** Announced modules per node, in announce order, with the version announced. */
  private readonly announced = new Map<string, Map<string, string>>();

  constructor(
    private readonly self: string,
    private readonly deadlineMs: number,
    private readonly actions: MembershipActions,
  ) {}

  /**
   * A heartbeat from `nodeId` at `now`. `joined`: an incarnation this view did not have alive
   * (first sight, or a restart); `returned`: the same incarnation after it was declared gone.
   */
  heartbeat(nodeId: string, epoch: string, now: number): HeartbeatOutcome {
    if (nodeId === this.self) return 'self';
    const node = this.nodes.get(nodeId);
    if (node === undefined || node.epoch !== epoch) {
      this.nodes.set(nodeId, { epoch, lastSeen: now, alive: true });
      this.syncNode(nodeId);
      return 'joined';
    }
    node.lastSeen = Math.max(node.lastSeen, now);
    if (node.alive) return 'alive';
    node.alive = true;
    this.syncNode(nodeId);
    return 'returned';
  }

  /** `nodeId` said goodbye (its incarnation `epoch`): gone now, not at the deadline. */
  leave(nodeId: string, epoch: string): void {
    const node = this.nodes.get(nodeId);
    if (node === undefined || node.epoch !== epoch || !node.alive) return;
    node.alive = false;
    this.syncNode(nodeId);
  }

  /** Declares gone every node not heard from within the deadline; returns them. */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [nodeId, node] of this.nodes) {
      if (node.alive && now - node.lastSeen > this.deadlineMs) {
        node.alive = false;
        gone.push(nodeId);
        this.syncNode(nodeId);
      }
    }
    return gone;
  }

  /** The bucket holds `entry` for `<nodeId>.<module>` (a put seen on the watch). */
  put(nodeId: string, module: string, entry: MemberEntry): void {
    if (nodeId === this.self) return;
    let modules = this.entries.get(nodeId);
    const known = modules?.get(module);
    if (known !== undefined && known.revision > entry.revision) return;
    if (modules === undefined) this.entries.set(nodeId, (modules = new Map<string, MemberEntry>()));
    modules.set(module, entry);
    this.syncModule(nodeId, module);
  }

  /** The key `<nodeId>.<module>` was deleted at `revision`. */
  remove(nodeId: string, module: string, revision: number): void {
    const modules = this.entries.get(nodeId);
    const known = modules?.get(module);
    if (modules === undefined || known === undefined || known.revision > revision) return;
    modules.delete(module);
    if (modules.size === 0) this.entries.delete(nodeId);
    this.syncModule(nodeId, module);
  }

  /** Whether `nodeId` is alive in this view. */
  isAlive(nodeId: string): boolean {
    return this.nodes.get(nodeId)?.alive === true;
  }

  /** The nodes alive in this view (not counting this node). */
  aliveNodes(): string[] {
    return [...this.nodes].filter(([, node]) => node.alive).map(([id]) => id);
  }

  /** The bucket entries of `nodeId` this view holds (for removing a gone node's keys). */
  entriesOf(nodeId: string): ReadonlyMap<string, MemberEntry> {
    return this.entries.get(nodeId) ?? new Map();
  }

  /** The announced modules: node id to module to version. */
  present(): ReadonlyMap<string, ReadonlyMap<string, string>> {
    return this.announced;
  }

  /** Retires everything announced and forgets every node (the bus is leaving). */
  clear(): void {
    for (const node of this.nodes.values()) node.alive = false;
    for (const nodeId of [...this.announced.keys()]) this.syncNode(nodeId);
    this.nodes.clear();
    this.entries.clear();
  }

  /** The entry that makes `module` of `nodeId` present, if it is. (Protected for tests' broken variants.) */
  protected wanted(nodeId: string, module: string): MemberEntry | undefined {
    const node = this.nodes.get(nodeId);
    if (node === undefined || !node.alive) return undefined;
    const entry = this.entries.get(nodeId)?.get(module);
    return entry !== undefined && entry.epoch === node.epoch ? entry : undefined;
  }

  private syncModule(nodeId: string, module: string): void {
    const want = this.wanted(nodeId, module);
    const have = this.announced.get(nodeId);
    const version = have?.get(module);
    if (version !== undefined && (want === undefined || want.version !== version)) {
      (have as Map<string, string>).delete(module);
      if ((have as Map<string, string>).size === 0) this.announced.delete(nodeId);
      this.actions.retire(nodeId, module);
    }
    if (want !== undefined && version !== want.version) this.announce(nodeId, module, want.version);
  }

  private syncNode(nodeId: string): void {
    const have = this.announced.get(nodeId);
    if (have !== undefined) {
      // Retire in reverse announce order, as a node stops its modules.
      for (const [module, version] of [...have].reverse()) {
        const want = this.wanted(nodeId, module);
        if (want === undefined || want.version !== version) {
          have.delete(module);
          this.actions.retire(nodeId, module);
        }
      }
      if (have.size === 0) this.announced.delete(nodeId);
    }
    const modules = this.entries.get(nodeId);
    if (modules === undefined) return;
    // Announce in the order the node wrote its keys (its load order).
    const pending = [...modules].filter(([module]) => this.wanted(nodeId, module) !== undefined && this.announced.get(nodeId)?.has(module) !== true);
    pending.sort(([, a], [, b]) => a.revision - b.revision);
    for (const [module, entry] of pending) this.announce(nodeId, module, entry.version);
  }

  private announce(nodeId: string, module: string, version: string): void {
    let have = this.announced.get(nodeId);
    if (have === undefined) this.announced.set(nodeId, (have = new Map<string, string>()));
    have.set(module, version);
    this.actions.announce(nodeId, module, version);
  }
}
