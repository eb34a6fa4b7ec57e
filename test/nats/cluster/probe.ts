/**
 * The module a cluster node loads in the cluster tests: it takes chain events and membership, and
 * checks, as it goes, what every module of every node must see (no vitest here: it runs in the
 * node's process):
 *
 * - per origin and path, in order: core events (`NewBlock`) with strictly increasing heights, durable
 *   events (`BlockDisconnected`) with consecutive ones, never a copy; an origin is the publishing
 *   source (`node` here, `<nodeId>/node` from elsewhere) and its incarnation, written into the hash;
 * - membership exactly once per appearance: for every module, `ModuleLoaded`, then at most one
 *   `ModuleCrashed`, then `ModuleUnloaded`, and so on, from the first event of each incarnation
 *   (a restarted incarnation gets a fresh replay).
 *
 * What it saw is summarised in {@link ProbeReport}; each breach is a violation string.
 */
import { EventType, defineModule, type EventTypeOf, type ModuleDefinition, type NodeEvent, type NodeEventMap } from '../../../src/index.js';

/** How a probe is loaded. */
export interface ProbeSpec {
  readonly name: string;
  /** Takes ModuleLoaded, ModuleCrashed and ModuleUnloaded. */
  readonly watch?: boolean;
  readonly mailboxCapacity?: number;
  /** More event types it takes (recorded in `seen`). */
  readonly extra?: readonly string[];
  /** Every event waits until `release` (a slow module). */
  readonly hold?: boolean;
  /** Restarted after a crash (default), or not (`temporary`: it stays dead). */
  readonly restart?: 'permanent' | 'temporary';
}

/** What a probe saw, as reported to the test. */
export interface ProbeReport {
  readonly name: string;
  /** Incarnations started. */
  readonly incarnations: number;
  /** Events its handler finished (all incarnations). */
  readonly handled: number;
  /** Modules its current incarnation has seen loaded and not unloaded since, sorted. */
  readonly members: readonly string[];
  /** Chain events taken, per origin (`<source> <path>`), all incarnations. */
  readonly fromOrigin: Readonly<Record<string, number>>;
  /** The height of the last chain event taken, per origin (`<source> <path>`). */
  readonly lastHeight: Readonly<Record<string, number>>;
  /** Every other event taken, in order, in short: `ModuleLoaded(b/x)`, `WebhookSent<-b/governance-webhook`. */
  readonly seen: readonly string[];
}

/** A probe's mailbox unless its spec says otherwise. */
const PROBE_CAPACITY = 100_000;

/** The core and durable types of the cluster tests, and the control event. */
export const CORE_TYPE = EventType.NewBlock;
export const DURABLE_TYPE = EventType.BlockDisconnected;

/** A 64-hex hash naming the publishing process (16 hex digits) and a height. */
export function chainHash(incarnation: string, height: number): string {
  return incarnation.padStart(16, '0').slice(-16) + height.toString(16).padStart(48, '0');
}

/** A probe and what it saw. */
export class Probe {
  incarnations = 0;
  handled = 0;
  /** The current incarnation's view of membership: module name to its state. */
  private members = new Map<string, 'loaded' | 'crashed'>();
  /** The current incarnation's last height per origin key. */
  private last = new Map<string, number>();
  readonly fromOrigin: Record<string, number> = {};
  readonly lastHeight: Record<string, number> = {};
  readonly seen: string[] = [];
  private held: (() => void)[] = [];
  private holding: boolean;
  readonly module: ModuleDefinition;

  constructor(
    readonly spec: ProbeSpec,
    /** Called with every breach of the properties. */
    private readonly violation: (text: string) => void,
    /** Called after every change of what it reports. */
    private readonly changed: () => void,
    /** Events handled by the probes of this name before (a module loaded again keeps its statistics). */
    handledBefore = 0,
  ) {
    this.handled = handledBefore;
    this.holding = spec.hold === true;
    const subscribe = [
      CORE_TYPE,
      DURABLE_TYPE,
      EventType.HealthCheck,
      ...(spec.watch === true ? [EventType.ModuleLoaded, EventType.ModuleCrashed, EventType.ModuleUnloaded] : []),
      ...((spec.extra ?? []) as EventTypeOf<NodeEventMap>[]),
    ];
    this.module = defineModule({
      name: spec.name,
      version: '1.0.0',
      subscribe,
      // By default more than any test publishes, however far a loaded machine lets a probe fall
      // behind: a gap it sees is then a loss on the bus, never a full mailbox.
      mailboxCapacity: spec.mailboxCapacity ?? PROBE_CAPACITY,
      restart: spec.restart === 'temporary' ? { type: 'temporary' } : { maxRestarts: 1000, withinMs: 1000 },
      create: () => {
        this.incarnations++;
        this.members = new Map();
        this.last = new Map();
        this.changed();
        return { handle: (event) => this.take(event) };
      },
    });
  }

  /** Lets every held event go on, and holds no more. */
  release(): void {
    this.holding = false;
    for (const go of this.held.splice(0)) go();
  }

  report(): ProbeReport {
    return {
      name: this.spec.name,
      incarnations: this.incarnations,
      handled: this.handled,
      members: [...this.members.keys()].sort(),
      fromOrigin: { ...this.fromOrigin },
      lastHeight: { ...this.lastHeight },
      seen: [...this.seen],
    };
  }

  private async take(event: NodeEvent): Promise<void> {
    if (this.holding) await new Promise<void>((go) => this.held.push(go));
    const who = `${this.spec.name}#${this.incarnations}`;
    if (event.type !== CORE_TYPE && event.type !== DURABLE_TYPE) this.seen.push(brief(event));
    switch (event.type) {
      case 'ModuleLoaded': {
        const name = event.payload.moduleName;
        if (this.members.has(name)) this.violation(`${who}: ModuleLoaded(${name}) while it was loaded already`);
        this.members.set(name, 'loaded');
        break;
      }
      case 'ModuleCrashed': {
        const name = event.payload.moduleName;
        if (this.members.get(name) !== 'loaded') this.violation(`${who}: ModuleCrashed(${name}) of a module not loaded`);
        else this.members.set(name, 'crashed');
        break;
      }
      case 'ModuleUnloaded': {
        const name = event.payload.moduleName;
        if (!this.members.has(name)) this.violation(`${who}: ModuleUnloaded(${name}) of a module not loaded`);
        this.members.delete(name);
        break;
      }
      case 'NewBlock':
        this.inOrder(who, event.meta?.source ?? '?', 'core', event.payload.blockHash, event.payload.height);
        break;
      case 'BlockDisconnected':
        this.inOrder(who, event.meta?.source ?? '?', 'durable', event.payload.hash, event.payload.height);
        break;
      case 'HealthCheck':
        if (event.payload.checkType === 'crash' && event.meta?.source === 'node' && event.payload.healthReport === this.spec.name) {
          throw new Error(`${this.spec.name} crashes on request`);
        }
        break;
      default:
        break;
    }
    this.handled++;
    this.changed();
  }

  /** Per origin (source and publishing process) and path: increasing heights; consecutive on the durable path. */
  private inOrder(who: string, source: string, path: 'core' | 'durable', hash: string, height: number): void {
    const origin = `${source} ${path}`;
    this.fromOrigin[origin] = (this.fromOrigin[origin] ?? 0) + 1;
    this.lastHeight[origin] = height;
    const key = `${origin} ${hash.slice(0, 16)}`;
    const last = this.last.get(key);
    this.last.set(key, height);
    if (last === undefined) return;
    if (height <= last) this.violation(`${who}: ${path} event of ${source} at height ${height} after ${last} (out of order or a copy)`);
    else if (path === 'durable' && height !== last + 1) this.violation(`${who}: durable events of ${source} skipped from ${last} to ${height}`);
  }
}

/** An event in short: `ModuleLoaded(x)` for membership, `Type<-source` for the rest. */
function brief(event: NodeEvent): string {
  switch (event.type) {
    case 'ModuleLoaded':
    case 'ModuleCrashed':
    case 'ModuleUnloaded':
      return `${event.type}(${event.payload.moduleName})`;
    default:
      return `${event.type}<-${event.meta?.source ?? '?'}`;
  }
}
