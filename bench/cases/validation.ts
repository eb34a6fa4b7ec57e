/**
 * Validation + frozen copy per publish: ns per valid `NewBlock` event through one check, in a
 * tight loop over a pool of 4,096 distinct events (each built as a publisher would, a fresh
 * literal with its own hash and height).
 *
 *   node --import tsx bench/cases/validation.ts --impl catalogue|stamped|validate-only [--events N] [--rounds R]
 *
 * - `catalogue`: `nodeCatalogue.check(event)`, what `publish` does: parse into a fresh deep-frozen
 *   copy (on a checkout from before parsing, the same call validated and returned the event);
 * - `stamped`: `nodeCatalogue.check(event, meta)` with a frozen `{ source, seq, time }`, as the
 *   EventManager stamps it;
 * - `validate-only`: the hand-written floor (`bench/baselines/validate-only.ts`), no copy.
 *
 * Rounds after two warm-up rounds; the metrics are the median ns per event of wall time and of
 * process CPU time (user + system, every thread: GC included), the latter steadier on a machine
 * shared with other work. The copies are kept alive in a ring of 4,096 so that the garbage they
 * make is collected as in a running node.
 */
import { nodeCatalogue } from '../../src/events/node-catalogue.js';
import { parseArgs } from '../lib/args.js';
import { median, runCase, type CaseResult } from '../lib/report.js';

const POOL = 4096;

runCase(async () => {
  const args = parseArgs();
  const impl = args.string('impl', 'catalogue');
  const events = args.number('events', 2_000_000);
  const rounds = args.number('rounds', 7);
  const check = await pick(impl);
  const pool = Array.from({ length: POOL }, (_, i) => ({
    type: 'NewBlock',
    payload: { blockHash: i.toString(16).padStart(64, '0'), height: i },
  }));
  const kept: unknown[] = new Array<unknown>(POOL);
  const perEvent: number[] = [];
  const cpuPerEvent: number[] = [];
  let refused = 0;
  for (let r = -2; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < events; i++) {
      const result = check(pool[i & (POOL - 1)]);
      if (result === undefined || result instanceof Error) refused++;
      kept[i & (POOL - 1)] = result;
    }
    const ns = Number(process.hrtime.bigint() - t0) / events;
    const cpu = process.cpuUsage(cpu0);
    if (r >= 0) {
      perEvent.push(ns);
      cpuPerEvent.push(((cpu.user + cpu.system) * 1000) / events);
    }
  }
  if (refused > 0) throw new Error(`${refused} valid events were refused by ${impl}`);
  const result: CaseResult = {
    metrics: { nsPerEvent: median(perEvent), cpuNsPerEvent: median(cpuPerEvent) },
    info: { impl, events, rounds, perEvent, cpuPerEvent },
  };
  return result;
});

async function pick(impl: string): Promise<(event: unknown) => unknown> {
  switch (impl) {
    case 'catalogue':
      return (event) => nodeCatalogue.check(event);
    case 'stamped': {
      let seq = 0;
      return (event) => nodeCatalogue.check(event, Object.freeze({ source: 'bench', seq: ++seq, time: seq }));
    }
    case 'validate-only':
      return (await import('../baselines/validate-only.js')).validateNewBlock;
    default:
      throw new Error(`Expected --impl catalogue, stamped or validate-only, got "${impl}"`);
  }
}
