/**
 * Model-based test of scale-out (issue #12): random sequences of load, unload, crash, publish,
 * kill node, start node and restart the server, on three real nodes in processes of their own, on
 * one real nats-server. The properties:
 *
 * - per-origin FIFO on each path, and nothing twice: every probe checks, as it takes them, that the
 *   core events of each origin come with increasing heights and the durable ones with consecutive
 *   heights (a violation is reported at once);
 * - membership exactly once per appearance: every watcher sees ModuleLoaded, (ModuleCrashed,)
 *   ModuleUnloaded alternate for every module, local or remote (checked as they come);
 * - membership converges: once the commands are done, every live node's sink has exactly the live
 *   modules loaded: its own and `<node>/<module>` of every other live node;
 * - the accounting law on every live node, once everything published has arrived and been handled.
 *
 * The model is tiny: which nodes are alive and which modules each has loaded. The run count is kept
 * small inside `npm test` (each run starts three processes); `npm run torture` runs the campaign
 * torture/campaigns/cluster.ts, which drives the same model for longer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useNatsServer } from '../../test/nats/support.js';
import { clusterCommands, runClusterModel } from '../../test/nats/cluster/model.js';

const nats = useNatsServer();
let runs = 0;

describe('scale-out against its model', () => {
  it('keeps per-origin FIFO, exactly-once membership that converges, and the accounting law on every node (3 processes, seed printed on failure)', async () => {
    await fc.assert(
      fc.asyncProperty(clusterCommands({ maxCommands: 8, restartServer: true }), async (commands) => {
        await runClusterModel(commands, { url: nats.server.url, prefix: `model${++runs}`, restartServer: () => nats.server.restart() });
      }),
      { numRuns: 3 },
    );
  }, 300_000);
});

describe('the properties catch broken variants', () => {
  it('catches remote events delivered out of order (every 5th held back behind the next)', async () => {
    const failure = await runClusterModel([{ kind: 'publish', node: 'a', core: 20, durable: 20 }], { url: nats.server.url, prefix: 'broken-reorder', broken: 'reorder' }).then(
      () => null,
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/out of order or a copy/);
  }, 120_000);

  it('catches remote modules never retired (a node that keeps announcing what is gone)', async () => {
    const failure = await runClusterModel(
      [
        { kind: 'load', node: 'a', module: 'm1', watch: false },
        { kind: 'unload', node: 'a', module: 'm1' },
      ],
      // Each command converges first: the load is seen everywhere before the unload (a KV watch
      // may otherwise coalesce the two, and a module never announced needs no retiring).
      { url: nats.server.url, prefix: 'broken-retire', broken: 'lost-retire', convergeMs: 4000, convergeEach: true },
    ).then(
      () => null,
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/membership did not converge/);
    expect(failure).toMatch(/a\/m1/);
  }, 120_000);
});
