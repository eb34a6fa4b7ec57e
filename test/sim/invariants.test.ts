import { beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, simulateWithTrace, type InvariantName, type Trace, type TraceModule } from '../../src/sim.js';
import { smallScenario } from './support.js';

/**
 * Testing the tests: each invariant holds on a real run, and fails on a copy of its trace doctored
 * the way a broken runtime would have behaved (events out of order, an announcement twice, a
 * capacity off by one, ...).
 */
let trace: Trace;
beforeAll(async () => {
  const run = await simulateWithTrace(smallScenario());
  trace = run.trace;
  expect(run.report.passed).toBe(true);
});

const doctored = (change: (t: Trace) => void): Trace => {
  const copy = structuredClone(trace);
  change(copy);
  return copy;
};
const mod = (t: Trace, name: string): TraceModule => {
  const m = t.modules.get(name);
  if (m === undefined) throw new Error(`no module ${name} in the trace`);
  return m;
};
const violations = (t: Trace, name: InvariantName): readonly string[] => {
  const [result] = checkInvariants(t, [name]);
  return result?.violations ?? [];
};
const loadedOffer = (t: Trace, module: string, about: string): number => {
  const inc = mod(t, module).incarnations[0];
  const index = inc?.ops.findIndex((op) => op.op === 'enqueued' && t.events[op.ev]?.type === 'ModuleLoaded' && t.events[op.ev]?.about?.module === about);
  if (inc === undefined || index === undefined || index < 0) throw new Error(`no ModuleLoaded(${about}) offered to ${module}`);
  return index;
};

describe('the invariants hold on a real run of a small scenario', () => {
  it('passes all of them, having checked something', () => {
    const results = checkInvariants(trace);
    expect(results.map((r) => [r.id, r.status])).toEqual(results.map((r) => [r.id, 'pass']));
    expect(results.find((r) => r.id === 'fifo')?.checked).toMatch(/^[1-9]\d* events taken/);
    expect(results.find((r) => r.id === 'restart-policy')?.checked).toBe('2 crashes');
  });
});

describe('each invariant catches its broken variant', () => {
  it('fifo: two events taken in swapped order', () => {
    const t = doctored((d) => {
      const ops = mod(d, 'watcher').incarnations[0]?.ops ?? [];
      const takes = ops.flatMap((op, i) => (op.op === 'taken' && d.events[op.ev]?.type === 'NewBlock' ? [i] : []));
      const [a, b] = takes as [number, number];
      [ops[a], ops[b]] = [ops[b] as (typeof ops)[number], ops[a] as (typeof ops)[number]];
    });
    expect(violations(t, 'fifo')[0]).toMatch(/^watcher took NewBlock at \d+\.\d{3}s before NewBlock, enqueued earlier$/);
  });

  it('module-loaded-once: an announcement delivered twice (replay and live)', () => {
    const t = doctored((d) => {
      const ops = mod(d, 'watcher').incarnations[0]?.ops ?? [];
      const i = loadedOffer(d, 'watcher', 'slow');
      ops.splice(i + 1, 0, { ...(ops[i] as (typeof ops)[number]) });
    });
    expect(violations(t, 'module-loaded-once')).toEqual(['watcher got ModuleLoaded(slow) 2 times for one announcement']);
  });

  it('module-loaded-once: an announcement never delivered', () => {
    const t = doctored((d) => {
      const ops = mod(d, 'watcher').incarnations[0]?.ops ?? [];
      ops.splice(loadedOffer(d, 'watcher', 'late'), 1);
    });
    expect(violations(t, 'module-loaded-once')).toEqual([expect.stringMatching(/^watcher never got ModuleLoaded\(late\) for its announcement #1/)]);
  });

  it('unloaded-after-loaded: an unload published for a module never loaded', () => {
    const t = doctored((d) => {
      const i = d.lifecycle.findIndex((r) => r.type === 'ModuleLoaded' && r.payload.moduleName === 'crashy');
      d.lifecycle.splice(i, 1);
    });
    expect(violations(t, 'unloaded-after-loaded')[0]).toMatch(/^ModuleCrashed\(crashy\) published at \d+\.\d{3}s while it was not loaded$/);
  });

  it('unloaded-after-loaded: a subscriber told of an unload it was never told the load of', () => {
    const t = doctored((d) => {
      const ops = mod(d, 'watcher').incarnations[0]?.ops ?? [];
      ops.splice(loadedOffer(d, 'watcher', 'crashy'), 1);
    });
    expect(violations(t, 'unloaded-after-loaded')[0]).toMatch(/^watcher got ModuleUnloaded\(crashy\) at \d+\.\d{3}s without its ModuleLoaded before it$/);
  });

  it('accounting: a statistic that does not match what happened', () => {
    const t = doctored((d) => {
      const cp = d.checkpoints.find((c) => c.label === 'after-modules-stopped');
      const stats = cp?.stats.slow;
      if (stats === undefined) throw new Error('no stats for slow');
      stats.handled += 1;
    });
    const found = violations(t, 'accounting');
    expect(found[0]).toMatch(/^slow at \d+\.\d{3}s \(after-modules-stopped\): stats say handled \d+ but \d+ observed$/);
    expect(found[1]).toMatch(/offered \d+ != \d+ settled \+ -?\d+ pending/);
  });

  it('mailbox-bound: a capacity off by one either way', () => {
    const smaller = doctored((d) => {
      mod(d, 'slow').capacity = 2;
    });
    expect(violations(smaller, 'mailbox-bound')[0]).toMatch(/^slow held 3 events in its user lane at \d+\.\d{3}s \(capacity 2\)$/);
    const larger = doctored((d) => {
      mod(d, 'slow').capacity = 4;
    });
    expect(violations(larger, 'mailbox-bound')[0]).toMatch(/^slow dropped an event as full at \d+\.\d{3}s with only 3 of 4 queued$/);
  });

  it('nothing-after-termination: a module given up still listed as a subscriber', () => {
    const t = doctored((d) => {
      const cp = d.checkpoints.find((c) => c.label === 'before-shutdown');
      (cp?.subscribers as Record<string, string[]>).NewBlock?.push('crashy');
    });
    expect(violations(t, 'nothing-after-termination')).toEqual([expect.stringMatching(/^crashy is still a subscriber of NewBlock at .* but is not alive$/)]);
  });

  it('restart-policy: given up too early, or restarted past the limit', () => {
    const lenient = doctored((d) => {
      mod(d, 'crashy').restart = { type: 'permanent', maxRestarts: 2, withinMs: 60_000 };
    });
    expect(violations(lenient, 'restart-policy')).toEqual([expect.stringMatching(/^crashy crashed at .* with 1 restart\(s\) in the last 60000 ms \(limit 2, permanent\) but was given up$/)]);
    const strict = doctored((d) => {
      mod(d, 'crashy').restart = { type: 'permanent', maxRestarts: 0, withinMs: 60_000 };
    });
    expect(violations(strict, 'restart-policy')[0]).toMatch(/with 0 restart\(s\) .* \(limit 0, permanent\) but was restarted$/);
  });

  it('graceful-shutdown: a live subscriber that never got NodeShutdown, a system still running', () => {
    const t = doctored((d) => {
      const inc = mod(d, 'watcher').incarnations.at(-1);
      if (inc !== undefined) inc.ops.splice(0, inc.ops.length, ...inc.ops.filter((op) => op.op === 'failed' || d.events[op.ev]?.type !== 'NodeShutdown'));
      d.shutdown.systemStopped = false;
    });
    expect(violations(t, 'graceful-shutdown')).toEqual([
      'the actor system is still running after shutdown',
      'watcher was live at the shutdown but never got NodeShutdown',
    ]);
  });
});
