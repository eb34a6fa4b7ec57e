/**
 * A process module that echoes every event it handles as a HealthCheck, so whoever subscribes to
 * HealthCheck sees what the module saw, in order, across the process boundary. Useful to debug a
 * process setup, and used by the IPC tests. The manifest lives in process-modules.ts.
 *
 * Arguments (manifest `args`): `--name <name>` (default `echo`), `--version <version>` (default 1.0.0).
 */
import { runModule, type ChildModuleContext, type NodeEvent } from 'modactor/sdk';

const arg = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
};

/** A short form of an event: `NewBlock(12)`, `ModuleLoaded(indexer)`, `NodeShutdown`. */
export function brief(event: NodeEvent): string {
  const payload = event.payload as unknown as Record<string, unknown>;
  if (typeof payload['moduleName'] === 'string') return `${event.type}(${payload['moduleName']})`;
  if (typeof payload['height'] === 'number') return `${event.type}(${payload['height']})`;
  return event.type;
}

await runModule({
  name: arg('--name') ?? 'echo',
  version: arg('--version') ?? '1.0.0',
  async handle(event, ctx: ChildModuleContext) {
    await ctx.publish({
      type: 'HealthCheck',
      payload: { checkType: `echo:${ctx.instanceId}`, nodeHealthy: true, healthReport: brief(event) },
    });
  },
});
