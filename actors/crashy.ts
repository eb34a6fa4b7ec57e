import { EventType, defineModule, nonNegativeInteger, object, optional, positiveInteger, positiveNumber, type Check, type ModuleDefinition } from 'modactor';

/** Options of the {@link crashy} module. */
export interface CrashyOptions {
  readonly name?: string;
  /** It crashes on every block whose height is a multiple of this. Default 5. */
  readonly crashEvery?: number;
  /** Restart intensity: at most `maxRestarts` restarts within `withinMs`. Default 2 in 20 000 ms. */
  readonly maxRestarts?: number;
  readonly withinMs?: number;
}

/**
 * The options {@link crashy} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  crashEvery: optional(positiveInteger),
  maxRestarts: optional(nonNegativeInteger),
  withinMs: optional(positiveNumber),
} satisfies Record<Exclude<keyof CrashyOptions, 'name'>, Check<unknown>>);

/**
 * The crashing module: throws on every `crashEvery`-th block. Its restart policy is small on
 * purpose: the ModuleSupervisor restarts it (ModuleCrashed, ModuleUnloaded, then a fresh startup
 * and ModuleLoaded again) until the crashes exceed `maxRestarts` within `withinMs`, then gives it
 * up for good: unhealthy, unsubscribed, not restarted.
 */
export default function crashy(options: CrashyOptions = {}): ModuleDefinition {
  const crashEvery = options.crashEvery ?? 5;
  return defineModule({
    name: options.name ?? 'crashy',
    version: '0.9.0',
    subscribe: [EventType.NewBlock],
    restart: { type: 'permanent', maxRestarts: options.maxRestarts ?? 2, withinMs: options.withinMs ?? 20_000 },
    handle(event) {
      if (event.type === 'NewBlock' && event.payload.height % crashEvery === 0) {
        throw new Error(`cannot index block ${event.payload.height}`);
      }
    },
  });
}
