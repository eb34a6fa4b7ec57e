/**
 * Manifests of the bundled process modules. The module code runs in a child process (or a worker
 * thread) from its entry file; these definitions are what a node loads:
 *
 * ```ts
 * await node.load(blockIndexerModule());
 * await node.load(echoModule({ name: 'echo-2', isolation: 'worker' }));
 * ```
 */
import {
  EventType,
  arrayOf,
  defineProcessModule,
  jsonValue,
  nodeCatalogue,
  nonEmptyString,
  object,
  oneOf,
  optional,
  positiveInteger,
  positiveNumber,
  predicate,
  recordOf,
  string,
  type Check,
  type ProcessModule,
  type ProcessModuleManifest,
} from 'modactor';

/** The entry file next to this one: `.ts` in a checkout, `.js` in a build (dist/). */
const entry = (name: string): URL => new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Manifest fields a caller may change. */
export type ManifestOverrides = Partial<Omit<ProcessModuleManifest, 'entry'>>;

/** Event types of the node catalogue (`defineProcessModule` then checks which a module may publish). */
const eventTypes = arrayOf(predicate('an event type of the node catalogue', (v) => typeof v === 'string' && nodeCatalogue.has(v)));

/** An object passed on as it is: `defineProcessModule` checks it whole (a restart policy, a heartbeat, a filter, ...). */
const passedOn = recordOf(jsonValue);

/**
 * The manifest fields a scenario may override, checked against a scenario's `options` before it
 * runs (`defineProcessModule` then checks the values whole); `name` comes from the scenario.
 */
const manifestOptions = object({
  version: optional(nonEmptyString),
  isolation: optional(oneOf('process', 'worker')),
  subscribe: optional(eventTypes),
  publishes: optional(eventTypes),
  mailboxCapacity: optional(positiveInteger),
  credits: optional(positiveInteger),
  maxInFlightBytes: optional(positiveInteger),
  filter: optional(passedOn),
  restart: optional(passedOn),
  heartbeat: optional(passedOn),
  publishRateLimit: optional(passedOn),
  maxMessageBytes: optional(positiveInteger),
  startupTimeoutMs: optional(positiveNumber),
  shutdownTimeoutMs: optional(positiveNumber),
  args: optional(arrayOf(string)),
  env: optional(recordOf(string)),
  execArgv: optional(arrayOf(string)),
  replay: optional(jsonValue),
} satisfies Record<Exclude<keyof ManifestOverrides, 'name'>, Check<unknown>>);

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
