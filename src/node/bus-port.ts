/**
 * The node side of a bus: the small port a node offers to a layer that joins it to other nodes
 * (modactor/nats). The bus never reaches into node internals; it only calls this. @internal
 */
import { ModactorError } from '../kernel/errors.js';
import { describeThrown } from '../kernel/foreign.js';
import type { PayloadJson } from '../kernel/json-writer.js';
import type { PublishReceipt } from './delivery-stats.js';
import { nodeInternals } from './node.js';
import { acceptedPayloadJson } from './payload-json.js';

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
  /** Writes the JSON of a local event's payload, faster than `JSON.stringify` (the same text). */
  readonly payloadJson?: PayloadJson;
}

/** The name a module of another node has here. */
export function remoteName(nodeId: string, module: string): string {
  return `${nodeId}/${module}`;
}

/** The port of a node made by `createNode`, as node `nodeId` of a bus. @internal */
export function busPort(node: object, nodeId: string): BusPort {
  const { router } = nodeInternals(node);
  return {
    nodeId,
    onLocalEvent(listener) {
      return router.tap((event, remote) => {
        if (!remote) listener(event as unknown as StampedEvent);
      });
    },
    injectRemote(raw, origin) {
      try {
        return router.routeRemote(raw, remoteName(origin.nodeId, origin.module));
      } catch (error) {
        return error instanceof ModactorError
          ? error
          : new ModactorError('invalid-event', `A remote event could not be taken: ${describeThrown(error)}`, { cause: error });
      }
    },
    onMembership(listener) {
      const loaded = router.localModules();
      const stop = router.tapMembership(listener);
      return { loaded, stop };
    },
    announceRemote(remoteNode, module, version) {
      router.announceRemote(remoteName(remoteNode, module), version);
    },
    retireRemote(remoteNode, module) {
      router.retireRemote(remoteName(remoteNode, module));
    },
    payloadJson: acceptedPayloadJson(router.catalogue),
  };
}
