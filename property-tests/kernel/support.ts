/** Shared helpers of the kernel properties. */

/**
 * The seed of this run's properties: `FC_SEED` when given (to replay a failure), otherwise fresh.
 * Test titles print it, so a failing run can be replayed with `FC_SEED=<seed> npx vitest run ...`.
 */
export function propertySeed(): number {
  const fromEnv = process.env.FC_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv);
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/**
 * How many runs a property gets: `numRuns` as written, or that many scaled by `FC_RUNS_SCALE`
 * (a number in (0, 1]) when it is set. The mutation campaign sets it (vitest.mutation.config.ts),
 * so that every mutant is tried against every property in bearable time; `npm test` does not.
 * Broken-variant checks keep their own counts: they must find the bug they plant.
 */
export function runs(numRuns: number): number {
  const fromEnv = process.env.FC_RUNS_SCALE;
  if (fromEnv === undefined || fromEnv === '') return numRuns;
  const scale = Number(fromEnv);
  if (!(scale > 0 && scale <= 1)) throw new Error(`Expected FC_RUNS_SCALE to be a number in (0, 1], got ${fromEnv}`);
  return Math.max(1, Math.ceil(numRuns * scale));
}

/** `value`, which the scenario guarantees is there. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Expected ${what} to be defined`);
  return value;
}
