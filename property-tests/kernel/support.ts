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

/** `value`, which the scenario guarantees is there. */
export function defined<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Expected ${what} to be defined`);
  return value;
}
