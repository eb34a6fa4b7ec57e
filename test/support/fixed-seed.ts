/**
 * Setup file of the mutation campaign (vitest.mutation.config.ts): every property that does not
 * pass its own seed runs on `FC_SEED`, so a mutant is judged the same way on every run and test
 * titles that print their seed stay the same between Stryker's runs (it finds tests by title).
 */
import fc from 'fast-check';

const seed = Number(process.env.FC_SEED);
if (!Number.isInteger(seed)) throw new Error(`Expected FC_SEED to be an integer, got ${String(process.env.FC_SEED)}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
