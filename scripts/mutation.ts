/**
 * `npm run mutation`: the StrykerJS campaign (stryker.config.json) in two passes over one
 * incremental file, so that a small machine finishes it in a session rather than a day.
 *
 * 1. Without test/ipc (`MODACTOR_MUTATION_WITHOUT_IPC=1`, read by vitest.mutation.config.ts): the
 *    tests that start real child processes cost about 30 s for every mutant they cover, and the
 *    other tests kill most mutants without them.
 * 2. With every test: Stryker reuses each killed mutant's result (its killing test is unchanged)
 *    and runs again only the survivors that test/ipc covers.
 *
 * Arguments (`npm run mutation -- --mutate src/kernel/mailbox.ts --incrementalFile …`) go to both
 * passes. The reports are the second pass's.
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const passes: readonly { readonly name: string; readonly env: NodeJS.ProcessEnv }[] = [
  { name: 'first pass, without test/ipc', env: { ...process.env, MODACTOR_MUTATION_WITHOUT_IPC: '1' } },
  { name: 'second pass, every test', env: { ...process.env, MODACTOR_MUTATION_WITHOUT_IPC: '' } },
];
for (const pass of passes) {
  process.stdout.write(`\nmutation: ${pass.name}\n`);
  const run = spawnSync('npx', ['stryker', 'run', ...args], { stdio: 'inherit', env: pass.env });
  if (run.status !== 0) {
    process.stderr.write(`mutation: the ${pass.name} failed (exit ${String(run.status ?? run.signal)})\n`);
    process.exit(run.status ?? 1);
  }
}
