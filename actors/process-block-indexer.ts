/**
 * A block indexer running in its own process: it keeps the hash of every recent height, follows
 * disconnections and reorgs, reports itself degraded while it has a gap, and answers
 * DataMaintenance with a MaintenanceStarted / MaintenanceCompleted pair carrying its figures.
 * The manifest lives in process-modules.ts.
 */
import { runModule, type ChildModuleContext } from 'modactor/sdk';

/** Heights kept in the index; older ones are pruned by maintenance. */
const KEEP = 10_000;

await runModule({
  name: 'block-indexer',
  version: '1.0.0',
  create(ctx: ChildModuleContext) {
    const byHeight = new Map<number, string>();
    /** Heights skipped by the chain so far and not seen since: a gap makes the index degraded. */
    const missing = new Set<number>();
    let tip = -1;
    const report = (before: number): void => {
      if ((before === 0) !== (missing.size === 0)) ctx.reportHealth(missing.size === 0 ? 'healthy' : 'degraded');
    };
    return {
      async handle(event) {
        switch (event.type) {
          case 'NewBlock': {
            const { height, blockHash } = event.payload;
            const before = missing.size;
            if (tip >= 0) for (let h = tip + 1; h < height && missing.size < KEEP; h++) missing.add(h);
            missing.delete(height);
            byHeight.set(height, blockHash);
            tip = Math.max(tip, height);
            report(before);
            return;
          }
          case 'BlockDisconnected': {
            if (byHeight.get(event.payload.height) === event.payload.hash) byHeight.delete(event.payload.height);
            if (event.payload.height === tip) tip--;
            return;
          }
          case 'DataMaintenance': {
            const started = ctx.now();
            await ctx.publish({ type: 'MaintenanceStarted', payload: { maintenanceType: 'block-index' } });
            let pruned = 0;
            if (event.payload.operation !== 'flush') {
              for (const height of byHeight.keys()) {
                if (height <= tip - KEEP) {
                  byHeight.delete(height);
                  pruned++;
                }
              }
            }
            await ctx.publish({
              type: 'MaintenanceCompleted',
              payload: {
                maintenanceType: 'block-index',
                success: true,
                durationMs: Math.max(0, ctx.now() - started),
                results: { indexed: byHeight.size, tipHeight: tip, pruned },
              },
            });
            return;
          }
          default:
            return;
        }
      },
      stop() {
        ctx.log.info({ indexed: byHeight.size, tip }, 'block indexer stopping');
      },
    };
  },
});
