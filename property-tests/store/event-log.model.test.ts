/**
 * Model-based test of the event log on the simulated disk: random sequences of appends, flushes,
 * single disk calls, timer advances, injected failures, process crashes and power losses (keeping
 * a random part of the unsynced bytes), and reads.
 *
 * The model is the simplest statement of durability: the seqs appended, in order, and the seqs a
 * resolved flush acknowledged. What the log holds (after any crash, and to any reader) must be in
 * append order, without a duplicate, and must contain every acknowledged seq; without failures it
 * is a prefix of what was appended (no gap).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulatedScheduler, type SimulatedScheduler } from '../../src/index.js';
import { openEventLog, type EventLog } from '../../src/store/event-log.js';
import type { StoreFs } from '../../src/store/fs.js';
import { createMemoryDisk, type MemoryDisk } from '../../src/store/memory-disk.js';
import { block, readAll, releaseNext, settleGated } from '../../test/store/support.js';
import { propertySeed } from '../kernel/support.js';
import { breakages, type Breakage } from './broken/disks.js';
import { checkKept } from './kept.js';

interface Model {
  /** Seqs appended (since the log last recovered them), in order. */
  appended: number[];
  /** Seqs acknowledged by a resolved flush. */
  acked: Set<number>;
  /** Appended since the last flush call: the next flush's window. */
  unflushed: number[];
  next: number;
  /** A failure was injected: failed batches leave holes, so only "in order" and "acked" hold. */
  faulted: boolean;
}

interface Real {
  readonly disk: MemoryDisk;
  readonly scheduler: SimulatedScheduler;
  readonly mount: () => StoreFs;
  log: EventLog;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const DIR = '/store';
const OPTIONS = { segmentMaxBytes: 1200, batchMaxEvents: 4, batchMaxDelayMs: 2 } as const;

function open(real: Pick<Real, 'disk' | 'scheduler' | 'mount'>): Promise<EventLog> {
  return settleGated(real.disk, openEventLog({ dir: DIR, fs: real.mount(), scheduler: real.scheduler, ...OPTIONS }));
}

/** What the log holds is ordered, duplicate-free, within what was appended, and holds every ack. */
function checkHeld(model: Model, held: readonly number[], when: string, acked: ReadonlySet<number> = model.acked): void {
  checkKept(model.appended, held, acked, when);
  if (!model.faulted) expect(held, `${when}: a prefix of what was appended`).toEqual(model.appended.slice(0, held.length));
}

class Append implements Cmd {
  constructor(
    readonly count: number,
    readonly gap: number,
  ) {}
  check = (): boolean => true;
  run(model: Model, real: Real): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const seq = model.next + (i === 0 ? this.gap : 0);
      real.log.append(block(seq));
      model.appended.push(seq);
      model.unflushed.push(seq);
      model.next = seq + 1;
    }
    return Promise.resolve();
  }
  toString = (): string => `append(${this.count}, gap ${this.gap})`;
}

class Flush implements Cmd {
  /** `wait`: release disk calls until the flush settles; else it settles later, or never (a crash). */
  constructor(readonly wait: boolean) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    const window = model.unflushed;
    model.unflushed = [];
    // Only a resolved flush acknowledges its window.
    const flushed = real.log.flush().then(
      () => window.forEach((seq) => model.acked.add(seq)),
      () => undefined,
    );
    if (this.wait) await settleGated(real.disk, flushed);
  }
  toString = (): string => (this.wait ? 'flush (waited)' : 'flush');
}

class Step implements Cmd {
  constructor(readonly calls: number) {}
  check = (): boolean => true;
  async run(_: Model, real: Real): Promise<void> {
    for (let i = 0; i < this.calls && real.disk.waiting > 0; i++) await releaseNext(real.disk);
  }
  toString = (): string => `disk calls(${this.calls})`;
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(_: Model, real: Real): Promise<void> {
    await real.scheduler.advanceBy(this.ms);
  }
  toString = (): string => `advance(${this.ms})`;
}

class Fault implements Cmd {
  constructor(
    readonly op: 'write' | 'datasync' | 'syncDir',
    readonly code: 'ENOSPC' | 'EIO',
  ) {}
  check = (): boolean => true;
  run(model: Model, real: Real): Promise<void> {
    real.disk.injectFault({ op: this.op, code: this.code, partialBytes: 150 });
    model.faulted = true;
    return Promise.resolve();
  }
  toString = (): string => `fault(${this.op} ${this.code})`;
}

class Crash implements Cmd {
  /** `keep`: undefined for a process crash, else the part of unsynced bytes a power loss keeps. */
  constructor(readonly keep: number | undefined) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    const when = this.toString();
    if (this.keep === undefined) real.disk.crash();
    else {
      const keep = this.keep;
      real.disk.powerLoss({ keepUnsynced: (_, bytes) => bytes * keep });
    }
    real.disk.clearFaults();
    real.log = await open(real);
    const held = (await settleGated(real.disk, readAll(real.log))).seqs;
    checkHeld(model, held, when);
    expect(real.log.recovery.corrupt).toEqual([]);
    expect(real.log.lastSeq).toBe(held.at(-1) ?? 0);
    // Recovered is the new truth: numbering continues after it.
    model.appended = held;
    model.unflushed = [];
    model.next = Math.max(model.next, real.log.lastSeq + 1);
  }
  toString = (): string => (this.keep === undefined ? 'crash(process)' : `crash(power, keeping ${this.keep} of unsynced bytes)`);
}

class Read implements Cmd {
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    // A flush that resolves while the reader reads may come after the reader passed its records.
    const ackedBefore = new Set(model.acked);
    const held = (await settleGated(real.disk, readAll(real.log))).seqs;
    checkHeld(model, held, 'read', ackedBefore);
  }
  toString = (): string => 'read';
}

const commands = fc.commands(
  [
    fc.tuple(fc.integer({ min: 1, max: 6 }), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }))).map(([n, gap]) => new Append(n, gap)),
    fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constant(0)).map(([n, gap]) => new Append(n, gap)),
    fc.constant(new Flush(false)),
    fc.constant(new Flush(true)),
    fc.integer({ min: 1, max: 8 }).map((n) => new Step(n)),
    fc.integer({ min: 1, max: 8 }).map((n) => new Step(n)),
    fc.integer({ min: 1, max: 3 }).map((ms) => new Advance(ms)),
    fc.tuple(fc.constantFrom('write' as const, 'datasync' as const, 'syncDir' as const), fc.constantFrom('ENOSPC' as const, 'EIO' as const)).map(
      ([op, code]) => new Fault(op, code),
    ),
    fc.oneof(fc.constant(undefined), fc.constantFrom(0, 0.3, 1)).map((keep) => new Crash(keep)),
    fc.constant(new Read()),
  ],
  { maxCommands: 60, size: '+1' },
);

/** The log on a disk whose mounts `breakage` spoils (none: the real thing) behaves as the model. */
function logBehavesAsModel(breakage: Breakage | undefined) {
  return fc.asyncProperty(commands, async (cmds) => {
    const disk = createMemoryDisk({ gated: true });
    const scheduler = createSimulatedScheduler({ autoRun: false });
    const mount = (): StoreFs => (breakage === undefined ? disk.mount() : breakage(disk.mount()));
    const real: Real = { disk, scheduler, mount, log: await open({ disk, scheduler, mount }) };
    const model: Model = { appended: [], acked: new Set(), unflushed: [], next: 1, faulted: false };
    await fc.asyncModelRun(() => ({ model, real }), cmds);
    // Whatever the commands left pending: a last power loss must keep every acknowledged seq.
    await new Crash(0).run(model, real);
  });
}

const seed = propertySeed();

describe('event log model', () => {
  it(`keeps every acknowledged record, in order, without duplicates, through crashes and power losses (seed ${seed})`, async () => {
    await fc.assert(logBehavesAsModel(undefined), { seed, numRuns: 400 });
  });

  for (const [name, breakage] of Object.entries(breakages)) {
    it(`catches a disk where ${name} (seed ${seed})`, async () => {
      const result = await fc.check(logBehavesAsModel(breakage), { seed, numRuns: 300 });
      expect(result.failed).toBe(true);
    });
  }
});
