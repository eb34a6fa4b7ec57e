/**
 * What every torture campaign shares: the shape the driver runs (`torture/run.ts`), how campaigns
 * are found, the watch for host crashes, the accounting law, and waiting for a state with a
 * liveness guard.
 *
 * A campaign is a file `torture/campaigns/<name>.ts` exporting
 * `run(options: CampaignOptions): Promise<CampaignResult>`; the driver and the quick test find every
 * such file by themselves. Files ending in `-child.ts` (the entries of child processes a campaign
 * spawns) and files that export no `run` are not campaigns; shared helpers live in `torture/lib/`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { offeredCount, pendingCount, type DeliveryStats } from '../../src/index.js';

/** What the driver gives a campaign. */
export interface CampaignOptions {
  /** The short form that runs inside `npm test`: seconds, not minutes. */
  readonly quick: boolean;
  /** Progress lines for people (the driver prints them). */
  readonly log: (line: string) => void;
}

/** What a campaign reports: its figures, and one line per thing found wrong (none when it passed). */
export interface CampaignResult {
  readonly name: string;
  readonly figures: Record<string, number | string>;
  readonly failures: string[];
}

/** A campaign module, as the driver imports it. */
export interface Campaign {
  readonly run: (options: CampaignOptions) => Promise<CampaignResult>;
}

/** The folder of the campaigns. */
export const CAMPAIGNS_DIR = fileURLToPath(new URL('../campaigns/', import.meta.url));

/**
 * Whether a campaign file's source exports `run` (a function or a const), read as text: the file is
 * not imported to find out, since a helper (a child's entry) may start working when imported.
 */
export const EXPORTS_RUN = /^export\s+(?:async\s+)?function\s+run\s*\(|^export\s+(?:const|let)\s+run\b|^export\s*\{[^}]*\brun\b[^}]*\}/m;

/**
 * Every campaign present, by name (`frames`, `publishes`, ...), sorted: each `.ts` file of the folder
 * that exports `run`, but the `-child.ts` entries of the child processes campaigns spawn.
 */
export function listCampaigns(dir: string = CAMPAIGNS_DIR): { readonly name: string; readonly file: string }[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('-child.ts') && !file.endsWith('.d.ts'))
    .filter((file) => EXPORTS_RUN.test(readFileSync(join(dir, file), 'utf8')))
    .sort()
    .map((file) => ({ name: basename(file, '.ts'), file: join(dir, file) }));
}

/** Imports a campaign file and checks that it is one. */
export async function loadCampaign(file: string): Promise<Campaign> {
  const loaded = (await import(file)) as Partial<Campaign>;
  if (typeof loaded.run !== 'function') throw new Error(`${file} exports no run(options) function: not a campaign`);
  return loaded as Campaign;
}

/**
 * Records every uncaught exception and unhandled rejection while installed: each one is a host
 * crash (without the handler, the process would have died). `stop()` removes the handlers.
 */
export function watchHost(): { readonly errors: string[]; stop(): void } {
  const errors: string[] = [];
  const record = (error: unknown): void => {
    let text: string;
    try {
      text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    } catch {
      text = 'a value with no string form';
    }
    errors.push(text);
  };
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return {
    errors,
    stop() {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    },
  };
}

/**
 * The accounting law of one module (docs/event-system.md): every offer ends in exactly one outcome,
 * so what is pending (offers minus outcomes) is never negative, and once the module drained
 * (`drained`) it is zero. Returns what is wrong, one line each.
 */
export function lawFailures(name: string, stats: DeliveryStats, drained: boolean): string[] {
  const pending = pendingCount(stats);
  const offered = offeredCount(stats);
  if (pending < 0) return [`${name}: ${offered - pending} outcomes counted for ${offered} offers`];
  if (drained && pending !== 0) return [`${name}: ${pending} of ${offered} offers in no outcome after the module drained`];
  return [];
}

/** True once every module named holds nothing any more: each offer it took is handled, failed or lost. */
export function drained(router: { getStats(name: string): DeliveryStats | undefined }, names: readonly string[]): boolean {
  return names.every((name) => {
    const stats = router.getStats(name);
    return stats !== undefined && pendingCount(stats) === 0;
  });
}

/**
 * A condition to await: `check()` is called by {@link Waiter.notify} (from handlers, on every
 * event that may change it) and resolves the wait once true. A wait that is not satisfied within
 * `timeoutMs` rejects, naming `what`: a campaign that stops making progress fails loudly instead
 * of hanging.
 */
export class Waiter {
  private waits: { readonly check: () => boolean; readonly resolve: () => void }[] = [];

  /** Re-checks every pending wait. */
  notify(): void {
    if (this.waits.length === 0) return;
    const still: typeof this.waits = [];
    for (const wait of this.waits) {
      if (wait.check()) wait.resolve();
      else still.push(wait);
    }
    this.waits = still;
  }

  until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waits = this.waits.filter((w) => w !== wait);
        reject(new Error(`no progress for ${timeoutMs} ms while waiting for ${what}`));
      }, timeoutMs);
      const wait = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waits.push(wait);
    });
  }
}

/** Keeps the first `max` failure lines and says how many more there were. */
export function capFailures(failures: readonly string[], max = 25): string[] {
  if (failures.length <= max) return [...failures];
  return [...failures.slice(0, max), `... and ${failures.length - max} more`];
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** Seconds since `started` (a `performance.now()`), one decimal. */
export function secondsSince(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}
