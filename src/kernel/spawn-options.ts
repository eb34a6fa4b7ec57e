/**
 * The check of {@link SpawnOptions}, in the validation vocabulary: every field at once, unknown
 * fields refused, so nothing can fail later inside a scheduler turn.
 */
import type { SpawnOptions } from './behavior.js';
import { nonNegativeNumber, object, optional, predicate, recordOf, runCheck, string, summarizeIssues, type Check } from './checks.js';
import { ModactorError, type ValidationIssue } from './errors.js';
import { restartIntensityShape, restartType, supervisorOptions } from './supervision.js';

/** An actor name: non-empty, without `/` (paths are names joined by `/`). */
export const actorName = predicate<string>('an actor name (non-empty, without "/")', (v) => typeof v === 'string' && v.length > 0 && !v.includes('/'));

/**
 * A mailbox capacity as spawn options carry it: a number. Its range (a positive safe integer) is
 * the mailbox's to check, with its own code `invalid-capacity`.
 */
const capacity = predicate<number>('a number', (v) => typeof v === 'number');

/**
 * {@link SpawnOptions}, whole. The shape names every field of the type (checked at compile time),
 * so a field added to `SpawnOptions` cannot be forgotten here and refused as unknown.
 */
export const spawnOptions = object({
  name: optional(actorName),
  mailboxCapacity: optional(capacity),
  priorityCapacity: optional(capacity),
  reserveCapacity: optional(capacity),
  logBindings: optional(recordOf(string)),
  restart: optional(restartType),
  restartLimit: optional(object(restartIntensityShape)),
  shutdownTimeoutMs: optional(nonNegativeNumber),
  supervision: optional(supervisorOptions),
} satisfies { readonly [K in keyof Required<SpawnOptions>]: Check<SpawnOptions[K]> });

/**
 * Parses spawn options: a frozen copy, or a {@link ModactorError} (`invalid-argument`) naming
 * every bad field.
 * @internal
 */
export function parseSpawnOptions(options: SpawnOptions): SpawnOptions {
  if (trusted.has(options)) return options;
  const issues: ValidationIssue[] = [];
  const parsed = runCheck(spawnOptions, options, '', issues);
  if (issues.length > 0) throw new ModactorError('invalid-argument', `Invalid spawn options: ${summarizeIssues(issues)}`, { issues });
  return parsed;
}

/** Options checked once by their maker and kept (a node's per-module options): not copied per spawn. */
const trusted = new WeakSet<object>();

/**
 * Checks `options` with {@link spawnOptions} (throwing as {@link parseSpawnOptions} does) and
 * marks that object as checked, so that spawning with it again and again copies nothing. The
 * object must not change afterwards: its maker keeps it (a frozen copy, or a class of readonly
 * fields and getters over them). Fields beyond those of {@link SpawnOptions} are ignored.
 * @internal
 */
export function trustSpawnOptions<T extends SpawnOptions>(options: T, view: SpawnOptions): T {
  parseSpawnOptions(view);
  trusted.add(options);
  return options;
}
