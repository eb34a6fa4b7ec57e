import type { Catalogue, EventMap } from '../events/catalogue.js';
import { nodeCatalogue, type NodeEventMap } from '../events/node-catalogue.js';
import type { ModuleServices } from '../node/module-instance.js';
import type { LoadableModule } from '../node/module-supervisor.js';
import { childLoader, currentLoaderEnvironment } from './child-loader.js';
import { validateManifest, type ModuleIsolation, type NormalizedManifest, type ProcessModuleManifest } from './manifest.js';
import { STOP_MARGIN_MS, emptyCounters, processHostBehavior, type ModuleShared, type ProcessModuleCounters } from './process-host.js';

/** A snapshot of a process or worker module: its current child and its counters so far. */
export interface ProcessModuleStatus extends Readonly<ProcessModuleCounters> {
  readonly name: string;
  readonly isolation: ModuleIsolation;
  /** The current child's process id (process isolation), while one runs. */
  readonly pid: number | undefined;
  /** The current worker's thread id (worker isolation), while one runs. */
  readonly threadId: number | undefined;
  /** The current incarnation's instance id. */
  readonly instanceId: string | undefined;
  /** Where the current incarnation's connection is. */
  readonly state: 'spawning' | 'welcomed' | 'running' | 'stopping' | 'closed' | 'down';
  /** Events sent to the current child and not yet acknowledged. */
  readonly inFlightEvents: number;
  /** Bytes of those events (at most `maxInFlightBytes`, or one event alone). */
  readonly inFlightBytes: number;
}

/** A module that runs in its own child process or worker thread; load it with `node.load`. */
export interface ProcessModule<E extends EventMap = NodeEventMap> extends LoadableModule<E> {
  readonly kind: ModuleIsolation;
  /** The validated manifest, defaults filled in. */
  readonly manifest: NormalizedManifest;
  /** The current child and the module's counters (refused publishes, violations, ...). */
  status(): ProcessModuleStatus;
}

/** Options of {@link defineProcessModule}. */
export interface ProcessModuleOptions<E extends EventMap> {
  /** The catalogue the manifest's event types are checked against; default the node catalogue. */
  readonly catalogue?: Catalogue<E>;
}

/**
 * Defines a module that runs out of process, from its manifest. Checks the manifest at once and
 * throws a `ModactorError` with code `invalid-manifest` naming every bad field. The entry file
 * calls `runModule(...)` (the module SDK); each (re)start of the module spawns a fresh child.
 *
 * @example
 * ```ts
 * const indexer = defineProcessModule({
 *   name: 'block-indexer', version: '1.0.0',
 *   entry: new URL('./process-block-indexer.ts', import.meta.url),
 *   subscribe: [EventType.NewBlock], publishes: [EventType.MaintenanceCompleted],
 *   restart: { maxRestarts: 5, withinMs: 60_000 },
 * });
 * await node.load(indexer); // resolves once the child handshook, subscribed and was announced
 * ```
 */
export function defineProcessModule<E extends EventMap = NodeEventMap>(
  manifest: ProcessModuleManifest<NoInfer<E>>,
  options: ProcessModuleOptions<E> = {},
): ProcessModule<E> {
  const catalogue = options.catalogue ?? (nodeCatalogue as unknown as Catalogue<E>);
  const normalized = validateManifest(manifest, catalogue);
  // A TypeScript entry that nothing here can run is a definition error, not a crash to retry.
  childLoader(currentLoaderEnvironment(normalized.typescript), normalized.entryPath);
  const shared: ModuleShared = {
    counters: emptyCounters(),
    current: { pid: undefined, threadId: undefined, instanceId: undefined, state: 'down', inFlightBytes: 0, inFlightEvents: 0 },
    budgets: undefined,
  };
  return Object.freeze({
    kind: normalized.isolation,
    name: normalized.name,
    version: normalized.version,
    subscribe: normalized.subscribe,
    mailboxCapacity: normalized.mailboxCapacity,
    restart: normalized.restart,
    // The kernel's backstop: the host kills the child at the manifest's timeout itself.
    shutdownTimeoutMs: normalized.shutdownTimeoutMs + STOP_MARGIN_MS,
    manifest: normalized,
    ...(normalized.replay === undefined ? {} : { replay: normalized.replay }),
    instanceBehavior: (services: ModuleServices<E>) => processHostBehavior<E>(normalized, services, shared),
    status: (): ProcessModuleStatus => ({
      name: normalized.name,
      isolation: normalized.isolation,
      ...shared.counters,
      ...shared.current,
    }),
  });
}

/**
 * Defines a module that runs in a worker thread of the node's process: the same manifest, protocol
 * and contract as {@link defineProcessModule}, cheaper to start, but sharing the process (memory,
 * environment, a crash of the process). For trusted modules.
 */
export function defineWorkerModule<E extends EventMap = NodeEventMap>(
  manifest: Omit<ProcessModuleManifest<NoInfer<E>>, 'isolation' | 'env' | 'execArgv'>,
  options: ProcessModuleOptions<E> = {},
): ProcessModule<E> {
  return defineProcessModule<E>({ ...manifest, isolation: 'worker' }, options);
}
