import { defineConfig } from 'vitest/config';

/**
 * The vitest config of `npm run mutation` (StrykerJS, stryker.config.json): one flat project (the
 * Stryker runner cannot pick one of vitest.config.ts's projects) holding the tests that exercise
 * src/kernel and src/node: those of the kernel, the node, the events, the scenarios, the node's
 * store (its positions and replay run src/node/durable.ts, log-feed.ts and replay-position.ts) and
 * the process modules (test/ipc: the router's `held` and `waitFor` paths across the process
 * boundary). Property tests run with fewer runs and a fixed seed here
 * (FC_RUNS_SCALE, FC_SEED), so that a mutant is judged the same way on every run;
 * `npm test` keeps its own counts and fresh seeds.
 */
export default defineConfig({
  ssr: { resolve: { conditions: ['modactor-source', 'module', 'node', 'development|production'] } },
  test: {
    include: [
      'test/kernel/**/*.test.ts',
      'test/node/**/*.test.ts',
      'test/scenarios/**/*.test.ts',
      'test/events/**/*.test.ts',
      'property-tests/kernel/**/*.test.ts',
      'property-tests/node/**/*.test.ts',
      'test/store/**/*.test.ts',
      'property-tests/store/**/*.test.ts',
      // Left out of `npm run mutation`'s first pass (scripts/mutation.ts), which the second,
      // with every test, completes.
      ...(process.env.MODACTOR_MUTATION_WITHOUT_IPC === '1' ? [] : ['test/ipc/**/*.test.ts']),
    ],
    // Not here: test/nats (most of its files start a real nats-server, and the code they check,
    // src/nats, is not mutated; the node's side of the bus, src/node/bus-port.ts, has
    // test/node/bus-port.test.ts) and property-tests/nats (three nodes in processes of their own on one nats-server).
    // Left out, as each costs seconds for every mutant it covers (nearly all of them) and the
    // tests above already exercise what they would: the hostile-input property of the event
    // catalogue (src/events' own guarantee, ~17 s; test/kernel/checks.test.ts and the catalogue
    // tests cover the checks it goes through) and the 1,000/10,000-module replays (~6 s; the
    // node model test replays to newcomers on nodes of up to 300 modules).
    // Also left out: test/node/allocation.test.ts, which measures the garbage a delivery makes, and
    // the instrumented code of a mutation run is not the code users run.
    exclude: ['test/events/hostile-events.test.ts', 'test/scenarios/scale.test.ts', 'test/node/allocation.test.ts'],
    env: { FC_SEED: '42', FC_RUNS_SCALE: '0.25' },
    setupFiles: ['test/support/fixed-seed.ts'],
    // One module graph for all test files: Stryker reruns the tests covering each mutant, and
    // importing the runtime afresh for every file was most of the time of a run. Tests must not
    // leave state behind for the next file (vitest.config.ts keeps isolation and would not tell).
    isolate: false,
    testTimeout: 120_000,
  },
});
