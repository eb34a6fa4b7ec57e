import type { EventTypeOf } from '../events/catalogue.js';
import { eventFamilies, nodeCatalogue, type NodeEventMap } from '../events/node-catalogue.js';
import { Barrier } from '../node/module-instance.js';
import { createNode, type ModactorNode } from '../node/node.js';
import { bridgeModule } from './bridge-module.js';
import type { LoadableModule } from './load-actor.js';
import { assess, rowCounts, type ModuleRow } from './report.js';
import { BRIDGE_NAME } from './scenario.js';
import type { SimulationRun } from './simulation-run.js';
import type { Trace } from './trace.js';
import { errorMessage } from './error-message.js';

/** The lifecycle and node families: never forwarded to the companion node, which has its own. */
const LIFECYCLE_FAMILY: ReadonlySet<string> = new Set([...eventFamilies.lifecycle, ...eventFamilies.node]);

/** Real ms the companion's modules get to take what was forwarded before it is shut down anyway. */
const DRAIN_MS = 15_000;

/**
 * Process modules, when they cannot join the simulated node: a companion node on the real
 * scheduler runs them, and a bridge module of the simulated node forwards them the events they
 * subscribe to (lifecycle events excepted: those are the companion's own).
 */
export class CompanionNode {
  /** Process modules that did not start, with why. */
  readonly failures = new Map<string, string>();

  private constructor(
    private readonly node: ModactorNode,
    private readonly modules: ReadonlyMap<string, LoadableModule>,
  ) {}

  /** Starts the companion node with the plan's process modules, and the bridge to them in `run`'s node. */
  static async start(run: SimulationRun): Promise<CompanionNode> {
    const { plan } = run;
    const { logger } = plan.options;
    const { shutdownTimeoutMs } = plan.scenario.node;
    const companion = new CompanionNode(
      createNode({
        ...(logger === undefined ? {} : { logger }),
        ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
      }),
      plan.processModules,
    );
    for (const [name, definition] of plan.processModules) {
      run.describe(name, definition, plan.actorOf(name));
      try {
        await companion.node.load(definition);
      } catch (error) {
        companion.failures.set(name, errorMessage(error));
      }
    }
    const forwarded = [...new Set([...plan.processModules.values()].flatMap((d) => d.subscribe))].filter(
      (type): type is EventTypeOf<NodeEventMap> => nodeCatalogue.has(type) && !LIFECYCLE_FAMILY.has(type),
    );
    if (forwarded.length > 0) await run.loadOwn(BRIDGE_NAME, bridgeModule(companion.node.events, forwarded), 'bridge');
    return companion;
  }

  /**
   * Once the simulated node has shut down: lets the process modules take what was forwarded to
   * them, shuts the companion down, adds their final statistics to the trace's last checkpoint (so
   * the accounting law is checked for them too) and returns their rows.
   */
  async retire(trace: Trace): Promise<ModuleRow[]> {
    await Promise.all([...this.modules.keys()].map((name) => drained(this.node, name, DRAIN_MS)));
    const infos = new Map((await this.node.modules()).map((info) => [info.name, info]));
    await this.node.shutdown('simulation over');
    const stats = await this.node.events.getAllDeliveryStats();
    const index = trace.checkpoints.findIndex((c) => c.label === 'after-modules-stopped');
    const last = trace.checkpoints[index];
    if (last !== undefined) {
      const added = Object.fromEntries([...this.modules.keys()].flatMap((name) => {
        const s = stats.get(name);
        return s === undefined ? [] : [[name, s] as const];
      }));
      trace.checkpoints[index] = { ...last, stats: { ...last.stats, ...added } };
    }
    return [...this.modules.keys()].map((name): ModuleRow => {
      const info = infos.get(name);
      const failure = this.failures.get(name);
      const counts = rowCounts(stats.get(name));
      const end = failure !== undefined ? 'did not start' : info === undefined ? 'gave up' : 'stopped at shutdown';
      const gaveUp = failure === undefined && info === undefined;
      return {
        name,
        actor: trace.modules.get(name)?.actor ?? name,
        kind: 'process',
        deterministic: false,
        ...counts,
        restarts: info?.restarts ?? 0,
        health: failure !== undefined ? 'unhealthy' : info?.health ?? 'unhealthy',
        assessed: assess({ gaveUp, end, ...counts }),
        end,
        gaveUp,
      };
    });
  }
}

/**
 * Resolves once module `name` of `node` has taken, and (a process module) its child has
 * acknowledged, everything enqueued for it so far: a barrier queued behind it in its user lane is
 * reached. Also when its incarnation terminates (what it held is counted lost), or after
 * `timeoutMs` on the node's clock. While its user lane is full, the barrier waits for the module to
 * take an event, then goes in. @internal
 */
export function drained(node: ModactorNode, name: string, timeoutMs: number): Promise<void> {
  const { system, scheduler } = node;
  const path = `/modules/${name}`;
  const instance = system.lookup(path);
  if (instance === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    let stopWatching = (): void => undefined;
    const timer = scheduler.setTimer(timeoutMs, () => done());
    const done = (): void => {
      timer.cancel();
      stopWatching();
      resolve();
    };
    const pass = (): boolean => {
      const result = instance.tell(new Barrier(done));
      if (result === 'closed') done();
      return result !== 'full';
    };
    void system.whenTerminated(instance).then(done);
    if (pass()) return;
    stopWatching = system.inspect((event) => {
      if (event.type === 'handled' && event.actor === path && pass()) stopWatching();
    });
  });
}
