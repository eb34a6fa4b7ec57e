/**
 * What the bus needs from a node: the small internal port a node offers to it. The bus never
 * reaches into node internals; it only calls this. @internal
 */
import type { ModactorError } from '../kernel/errors.js';
import type { PublishReceipt } from '../node/delivery-stats.js';

/** An event accepted by the local node: validated, frozen, stamped. */
export interface StampedEvent {
  readonly type: string;
  readonly payload: unknown;
  readonly meta: {
    /** The publishing module's name, or `node`. */
    readonly source: string;
    /** Node-wide, strictly increasing. */
    readonly seq: number;
    readonly time: number;
  };
}

/** Where a remote event came from. */
export interface RemoteOrigin {
  readonly nodeId: string;
  readonly module: string;
  readonly seq: number;
}

/** A change of the local node's loaded modules. */
export interface MembershipChange {
  readonly kind: 'loaded' | 'unloaded';
  readonly module: string;
  readonly version: string;
}

/** The node side of the bus. */
export interface BusPort {
  readonly nodeId: string;
  /**
   * Every event accepted locally, in seq order. Not called for events injected from the bus (no
   * echo). Returns the function that stops listening.
   */
  onLocalEvent(listener: (event: StampedEvent) => void): () => void;
  /**
   * Offers a remote event to local subscribers (validated; `meta.source` becomes
   * `<nodeId>/<module>`). Returns the receipt, or the error that refused it. Never throws.
   */
  injectRemote(raw: unknown, origin: RemoteOrigin): PublishReceipt | ModactorError;
  /** The modules loaded now, and every change after, until `stop()`. */
  onMembership(listener: (change: MembershipChange) => void): {
    readonly loaded: readonly { readonly module: string; readonly version: string }[];
    stop(): void;
  };
  /** Announces a remote module: `ModuleLoaded(<nodeId>/<module>)` exactly once to local subscribers. */
  announceRemote(nodeId: string, module: string, version: string): void;
  /** Retires an announced remote module: `ModuleUnloaded(<nodeId>/<module>)`. */
  retireRemote(nodeId: string, module: string): void;
}

/**
 * A log gate for something that may happen on every message: true on the 1st, 2nd, 4th, 8th, ...
 * occurrence, so a flood costs a handful of lines. @internal
 */
export function doublingLog(): () => boolean {
  let count = 0;
  let next = 1;
  return () => {
    if (++count < next) return false;
    next *= 2;
    return true;
  };
}
