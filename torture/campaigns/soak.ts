/**
 * Torture campaign (d): a soak at full speed. For 60 s (quick: 7 s) one publisher publishes as
 * fast as it can (bursts of 500, a macrotask between bursts so the modules run) to 10 slow modules
 * (each awaits 1 to 4 ms per event, so they keep their mailboxes full and most offers to them are
 * dropped), 5 fast ones, and one that is unloaded and loaded again every second. Mostly routine
 * events, some critical (`DataMaintenance` with urgency `high`), some of a type nobody receives.
 *
 * RSS and heap are sampled every second. The oracle: once publishing stopped and every module
 * drained, the accounting law is exact for every module (every offer in exactly one outcome, none
 * pending), each module's handler saw exactly what its statistics count as handled, and the
 * publisher's receipts add up to the modules' statistics (offers enqueued, dropped, failed): no
 * loss is uncounted. And memory is flat: RSS at the end at most 10% above the lowest RSS sampled
 * after the warm-up (10 s; quick, a 7 s soak: 4 s). Measured: RSS climbs for the first seconds
 * (2 to 3 on a quiet machine, up to 10 at load 12), while V8 optimizes the publish path (the
 * publish rate rises about threefold) and grows its young generation to match, and every mailbox
 * fills to its bound; then it may fall back as V8 returns pages, and after that nothing should
 * grow. Taking the lowest sample after the warm-up as the base, a peak as the warm-up ends cannot
 * hide later growth. When
 * `gc` is exposed (`npm run torture` runs campaigns with `--expose-gc`), the heap after a full
 * collection at the end of the warm-up and at the end is compared too, with the same bound: a
 * leak shows there long before it shows in RSS.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { EventType, createNode, defineModule, type ModuleDefinition, type NodeEvent, type PublishReceipt } from '../../src/index.js';
import { nodeInternals } from '../../src/node/node.js';
import { createRandom } from '../../src/kernel/random.js';
import { Waiter, capFailures, drained, lawFailures, mib, secondsSince, watchHost, type CampaignOptions, type CampaignResult } from '../lib/campaign.js';

/** Most RSS may grow from the end of the warm-up to the end. */
export const MAX_RSS_GROWTH = 0.1;

export interface MemorySample {
  /** Seconds since the soak began. */
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
}

/**
 * The memory oracle: RSS at the end against the lowest RSS sampled at or after `warmupSeconds` (the
 * lowest, so that a peak just when the warm-up ends cannot hide growth after it). Returns the
 * growth (a fraction), the base sample, and what is wrong.
 */
export function memoryVerdict(
  samples: readonly MemorySample[],
  warmupSeconds: number,
): { readonly growth: number; readonly base: MemorySample | undefined; readonly failures: string[] } {
  const after = samples.filter((s) => s.at >= warmupSeconds);
  const last = samples.at(-1);
  if (after.length < 2 || last === undefined) return { growth: 0, base: undefined, failures: [`no memory sample after the ${warmupSeconds} s warm-up to compare with`] };
  const base = after.reduce((low, s) => (s.rss < low.rss ? s : low));
  const growth = (last.rss - base.rss) / base.rss;
  const failures =
    growth > MAX_RSS_GROWTH
      ? [`RSS grew ${(growth * 100).toFixed(1)}% from ${mib(base.rss)} MiB at ${base.at} s to ${mib(last.rss)} MiB at ${last.at} s (at most ${MAX_RSS_GROWTH * 100}%)`]
      : [];
  return { growth, base, failures };
}

/** Receipts added up. */
type Totals = { -readonly [K in keyof PublishReceipt]: number };

/**
 * The publisher's receipts against the modules' statistics: every offer the receipts report is
 * counted in some module, in the same outcome.
 */
export function receiptFailures(receipts: Totals, modules: Totals): string[] {
  const failures: string[] = [];
  for (const key of Object.keys(receipts) as (keyof Totals)[]) {
    if (receipts[key] !== modules[key]) failures.push(`receipts say ${receipts[key]} ${key}, the modules' statistics ${modules[key]}`);
  }
  return failures;
}

export async function run(options: CampaignOptions): Promise<CampaignResult> {
  const { quick, log } = options;
  const duration = quick ? 7 : 60;
  const warmup = quick ? 4 : 10;
  const started = performance.now();
  const host = watchHost();
  const failures: string[] = [];
  const waiter = new Waiter();
  const rng = createRandom(7);
  const node = createNode({ logger: pino({ level: 'silent' }) });
  const { router } = nodeInternals(node);
  const load = [loadavg()[0] as number];

  const types = [EventType.NewBlock, EventType.NewTransaction, EventType.PeerConnected, EventType.DataMaintenance];
  const handled = new Map<string, number>();
  const define = (name: string, slowMs: number): ModuleDefinition =>
    defineModule({
      name,
      version: '1.0.0',
      subscribe: types,
      async handle(_event, ctx) {
        handled.set(name, (handled.get(name) ?? 0) + 1);
        if (slowMs > 0) await ctx.delay(slowMs);
        // Checked once the node counted this event handled (after the handler's promise settled).
        setImmediate(() => waiter.notify());
      },
    });
  const slow = Array.from({ length: 10 }, (_, i) => define(`slow-${i}`, 1 + (i % 4)));
  const fast = Array.from({ length: 5 }, (_, i) => define(`fast-${i}`, 0));
  const churn = define('churn', 0);
  for (const module of [...slow, ...fast, churn]) await node.load(module);
  const names = [...slow, ...fast, churn].map((m) => m.name);

  // ---- Memory, every second ---------------------------------------------------------------------
  let published = 0;
  const samples: MemorySample[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const collected: number[] = [];
  const sample = (): void => {
    if (gc !== undefined && collected.length === 0 && performance.now() - started >= warmup * 1000) {
      gc();
      collected.push(process.memoryUsage().heapUsed);
    }
    const { rss, heapUsed } = process.memoryUsage();
    samples.push({ at: Math.round((performance.now() - started) / 100) / 10, rss, heapUsed });
    if (quick || samples.length % 5 === 1) log(`soak: ${(samples.at(-1) as MemorySample).at} s, RSS ${mib(rss)} MiB, heap ${mib(heapUsed)} MiB, ${published.toLocaleString('en-US')} published`);
  };
  sample();
  const sampler = setInterval(sample, 1000);

  // ---- Churn: one module unloaded and loaded again every second -------------------------------
  let stopping = false;
  let reloads = 0;
  const churning = (async () => {
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (stopping) break;
      await node.unload('churn');
      await node.load(churn);
      reloads++;
    }
  })();

  // ---- Publishing at full speed -----------------------------------------------------------------
  const receipts: Totals = { enqueued: 0, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 };
  const hash = 'ab'.repeat(32);
  const end = started + duration * 1000;
  try {
    while (performance.now() < end) {
      for (let i = 0; i < 500; i++) {
        const r = rng.int(1000);
        const event: NodeEvent =
          r < 10
            ? { type: 'DataMaintenance', payload: { operation: 'flush', urgency: 'high', reason: 'periodic' } }
            : r < 60
              ? { type: 'HealthCheck', payload: { checkType: 'soak', nodeHealthy: true } }
              : r < 400
                ? { type: 'NewTransaction', payload: { txHash: hash } }
                : r < 500
                  ? { type: 'PeerConnected', payload: { peerAddr: '203.0.113.7:8333', transportType: 'tcp', services: 1033, version: 70016 } }
                  : { type: 'NewBlock', payload: { blockHash: hash, height: published } };
        const receipt = node.events.publish(event);
        published++;
        receipts.enqueued += receipt.enqueued;
        receipts.dropped += receipt.dropped;
        receipts.failed += receipt.failed;
        receipts.filtered += receipt.filtered;
        receipts.serializationFailed += receipt.serializationFailed;
      }
      await yieldToLoop();
    }
    stopping = true;
    await churning;
    load.push(loadavg()[0] as number);
    sample();
    clearInterval(sampler);
    // Every module drains what it holds (the slow ones: at most 101 events of up to 4 ms).
    await waiter.until(() => drained(router, names), 'every module to drain after the soak', 60_000);
  } catch (error) {
    failures.push(`the soak stopped: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    stopping = true;
    clearInterval(sampler);
  }

  // ---- The oracle -------------------------------------------------------------------------------
  const totals: Totals = { enqueued: 0, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 };
  let handlerFailed = 0;
  let lost = 0;
  const stats = await node.events.getAllDeliveryStats();
  for (const name of names) {
    const st = stats.get(name);
    if (st === undefined) {
      failures.push(`${name}: no statistics`);
      continue;
    }
    failures.push(...lawFailures(name, st, true));
    if (st.handled !== (handled.get(name) ?? 0)) failures.push(`${name}: ${st.handled} counted handled, its handler ran ${handled.get(name) ?? 0} times`);
    totals.enqueued += st.successful;
    totals.dropped += st.channelFull;
    totals.failed += st.failed;
    totals.filtered += st.filtered;
    totals.serializationFailed += st.serializationFailed;
    handlerFailed += st.handlerFailed;
    lost += st.lostOnCrash;
  }
  failures.push(...receiptFailures(receipts, totals));
  if (handlerFailed !== 0) failures.push(`${handlerFailed} handler failures`);
  for (const info of await node.modules()) {
    if (info.restarts !== 0 || info.state !== 'running') failures.push(`${info.name} is ${info.state} after ${info.restarts} restarts`);
  }
  const memory = memoryVerdict(samples, warmup);
  failures.push(...memory.failures);
  if (gc !== undefined && collected.length === 1) {
    gc();
    collected.push(process.memoryUsage().heapUsed);
    const [before, after] = collected as [number, number];
    if (after > before * (1 + MAX_RSS_GROWTH)) failures.push(`the heap after a full collection grew from ${mib(before)} MiB after the warm-up to ${mib(after)} MiB at the end`);
  }
  await node.shutdown();
  host.stop();
  for (const error of host.errors.slice(0, 5)) failures.push(`host error: ${error}`);

  const rss = samples.map((s) => s.rss);
  const afterWarmup = samples.find((s) => s.at >= warmup);
  const first = samples[0] as MemorySample;
  const last = samples.at(-1) as MemorySample;
  const figures: Record<string, number | string> = {
    seconds: duration,
    published,
    offered: totals.enqueued + totals.dropped + totals.failed + totals.filtered + totals.serializationFailed,
    delivered: [...handled.values()].reduce((a, b) => a + b, 0),
    dropped: totals.dropped,
    failedOffers: totals.failed,
    lostOnUnload: lost,
    reloads,
    samples: samples.length,
    warmupSeconds: warmup,
    rssStartMiB: mib(first.rss),
    rssAfterWarmupMiB: mib(afterWarmup?.rss ?? Number.NaN),
    rssBaseMiB: mib(memory.base?.rss ?? Number.NaN),
    rssEndMiB: mib(last.rss),
    rssMaxMiB: mib(Math.max(...rss)),
    rssGrowthPercent: Math.round(memory.growth * 1000) / 10,
    heapStartMiB: mib(first.heapUsed),
    heapEndMiB: mib(last.heapUsed),
    heapAfterGcWarmupMiB: collected[0] === undefined ? 'no gc exposed' : mib(collected[0]),
    heapAfterGcEndMiB: collected[1] === undefined ? 'no gc exposed' : mib(collected[1]),
    hostCrashes: host.errors.length,
    loadAverage: load.map((l) => l.toFixed(1)).join(' -> '),
    wallSeconds: secondsSince(started),
  };
  log(`soak: ${JSON.stringify(figures)}`);
  return { name: 'soak', figures, failures: capFailures(failures) };
}
