import { EventType, defineModule, nonNegativeInteger, object, optional, type Check, type ModuleDefinition } from 'modactor';

/** Options of the {@link peerMonitor} module. */
export interface PeerMonitorOptions {
  readonly name?: string;
  /** Below this many connected peers it reports itself `degraded`. Default 0 (never). */
  readonly minPeers?: number;
}

/**
 * The options {@link peerMonitor} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  minPeers: optional(nonNegativeInteger),
} satisfies Record<Exclude<keyof PeerMonitorOptions, 'name'>, Check<unknown>>);

/**
 * The peer monitor, the module the default scenario hotloads into a running node: keeps the set
 * of connected peers from `PeerConnected` / `PeerDisconnected`, and the set of loaded modules from
 * `ModuleLoaded` / `ModuleUnloaded`. Loaded late, it learns every module already loaded by the
 * replay the EventManager gives a new `ModuleLoaded` subscriber, each exactly once.
 */
export default function peerMonitor(options: PeerMonitorOptions = {}): ModuleDefinition {
  const minPeers = options.minPeers ?? 0;
  return defineModule({
    name: options.name ?? 'peer-monitor',
    version: '1.2.0',
    subscribe: [EventType.PeerConnected, EventType.PeerDisconnected, EventType.ModuleLoaded, EventType.ModuleUnloaded],
    create(ctx) {
      const peers = new Set<string>();
      const modules = new Set<string>();
      let healthy = true;
      return {
        handle(event) {
          switch (event.type) {
            case 'PeerConnected':
              peers.add(event.payload.peerAddr);
              break;
            case 'PeerDisconnected':
              peers.delete(event.payload.peerAddr);
              break;
            case 'ModuleLoaded':
              modules.add(event.payload.moduleName);
              return;
            case 'ModuleUnloaded':
              modules.delete(event.payload.moduleName);
              return;
            default:
              return;
          }
          const ok = peers.size >= minPeers;
          if (ok !== healthy) {
            healthy = ok;
            ctx.reportHealth(ok ? 'healthy' : 'degraded');
          }
        },
      };
    },
  });
}
