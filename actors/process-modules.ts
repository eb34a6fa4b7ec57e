/**
 * Manifests of the bundled process modules. The module code runs in a child process (or a worker
 * thread) from its entry file; these definitions are what a node loads:
 *
 * ```ts
 * await node.load(blockIndexerModule());
 * await node.load(echoModule({ name: 'echo-2', isolation: 'worker' }));
 * ```
 */
import { EventType, defineProcessModule, type ProcessModule, type ProcessModuleManifest } from 'modactor';

/** The entry file next to this one: `.ts` in a checkout, `.js` in a build (dist/). */
const entry = (name: string): URL => new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Manifest fields a caller may change. */
export type ManifestOverrides = Partial<Omit<ProcessModuleManifest, 'entry'>>;

/**
 * The manifest fields a scenario may override, checked against a scenario's `options` before it
 * runs (`defineProcessModule` then checks the values whole); `name` comes from the scenario.
 */
const manifestOptions = {
  version: 'string',
  isolation: { oneOf: ['process', 'worker'] },
  subscribe: 'event types',
  publishes: 'event types',
  mailboxCapacity: 'positive integer',
  credits: 'positive integer',
  maxInFlightBytes: 'positive integer',
  filter: 'object',
  restart: 'object',
  heartbeat: 'object',
  publishRateLimit: 'object',
  maxMessageBytes: 'positive integer',
  startupTimeoutMs: 'positive number',
  shutdownTimeoutMs: 'positive number',
  args: 'strings',
  env: 'object',
  execArgv: 'strings',
} as const satisfies Record<Exclude<keyof ManifestOverrides, 'name'>, unknown>;

/** The options {@link blockIndexerModule} takes (see `manifestOptions`). */
export const blockIndexerModuleOptionsSchema = manifestOptions;

/** The options {@link echoModule} takes (see `manifestOptions`). */
export const echoModuleOptionsSchema = manifestOptions;

/**
 * The block indexer (process-block-indexer.ts): follows NewBlock, BlockDisconnected and
 * DataMaintenance, publishes its maintenance figures.
 */
export function blockIndexerModule(overrides: ManifestOverrides = {}): ProcessModule {
  return defineProcessModule({
    name: 'block-indexer',
    version: '1.0.0',
    entry: entry('process-block-indexer'),
    subscribe: [EventType.NewBlock, EventType.BlockDisconnected, EventType.DataMaintenance],
    publishes: [EventType.MaintenanceStarted, EventType.MaintenanceCompleted],
    restart: { maxRestarts: 5, withinMs: 60_000 },
    ...overrides,
  });
}

/**
 * The echo module (process-echo.ts): echoes each event it handles as a HealthCheck whose
 * `healthReport` is the event in short (`NewBlock(12)`) and `checkType` is `echo:<instance id>`.
 * A different `name` is passed on to the child, so several echoes can run side by side.
 */
export function echoModule(overrides: ManifestOverrides = {}): ProcessModule {
  const name = overrides.name ?? 'echo';
  const version = overrides.version ?? '1.0.0';
  return defineProcessModule({
    name,
    version,
    entry: entry('process-echo'),
    subscribe: [EventType.ModuleLoaded, EventType.NewBlock],
    publishes: [EventType.HealthCheck],
    publishRateLimit: { perSecond: 10_000, burst: 10_000 },
    ...overrides,
    args: ['--name', name, '--version', version, ...(overrides.args ?? [])],
  });
}
