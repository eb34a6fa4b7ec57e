/**
 * Model-based test of a node with a store on the simulated disk: random sequences of publishes
 * (routine and critical), flushes, a module with replay held, released, made to crash, time
 * advanced, and node restarts (graceful, process crash, power loss).
 *
 * The model is small: the events published (each with its own number), those a resolved flush
 * acknowledged, and, at each node restart, the position the saved state holds for the module.
 * The properties:
 * - acknowledged = durable: after every restart the log holds every acknowledged event, in publish
 *   order, and nothing that was not published;
 * - the module's replay: by the end, it took every event the log holds; it took an event twice
 *   only across a node restart that left the event's seq above the saved position (and not among
 *   the seqs saved as handled ahead of it): the at-least-once window of a crash, or a handler the
 *   shutdown killed before it finished; never within one node's life, whatever the module's crashes.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryDisk, type MemoryDisk } from '../../src/store/memory-disk.js';
import { openEventLog } from '../../src/store/event-log.js';
import { loadState } from '../../src/store/state-file.js';
import { defineModule, type ModactorNode, type NodeEvent, type SimulatedScheduler } from '../../src/index.js';
import { DIR, diskNode, drive, hash } from '../../test/node/support.js';
import { propertySeed, runs } from '../kernel/support.js';
import { breakages } from './broken/node-store.js';
import { checkKept } from './kept.js';

const MODULE = 'r';

interface Model {
  /** The next event's number (a NewBlock's height, a DataMaintenance's targetAgeDays). */
  next: number;
  /** Every event published, in order. */
  published: number[];
  /** Published since the last flush call: the next flush's window. */
  unflushed: number[];
  acked: Set<number>;
}

/** An event the module took: in which node's life, its number and seq. */
interface Take {
  readonly life: number;
  readonly id: number;
  readonly seq: number;
}

/** A node restart: the life it began, and the module's position the saved state held. */
interface Restart {
  readonly life: number;
  readonly position: number;
  readonly ahead: readonly number[];
}

class Real {
  life = 0;
  node!: ModactorNode;
  scheduler!: SimulatedScheduler;
  readonly takes: Take[] = [];
  readonly restarts: Restart[] = [];
  slow = false;
  crashNext = false;
  gates: (() => void)[] = [];
  private readonly pending: Promise<unknown>[] = [];

  constructor(readonly disk: MemoryDisk) {}

  /** A new node process on the disk, started, with the module loaded. */
  async begin(): Promise<void> {
    this.life++;
    const life = this.life;
    ({ node: this.node, scheduler: this.scheduler } = diskNode(this.disk, {
      seed: life,
      store: { batchMaxEvents: 3, saveDelayMs: 5 },
      node: { shutdownTimeoutMs: 50 },
    }));
    const module = defineModule({
      name: MODULE,
      version: '1',
      subscribe: ['NewBlock', 'DataMaintenance'],
      mailboxCapacity: 4,
      replay: true,
      restart: { maxRestarts: 1_000_000, withinMs: 1 },
      handle: async (event: NodeEvent) => {
        const id = event.type === 'NewBlock' ? event.payload.height : event.type === 'DataMaintenance' ? (event.payload.targetAgeDays ?? -1) : -1;
        this.takes.push({ life, id, seq: event.meta?.seq ?? -1 });
        if (this.slow) await new Promise<void>((resolve) => this.gates.push(resolve));
        if (this.crashNext && life === this.life) {
          this.crashNext = false;
          throw new Error('crashes on purpose');
        }
      },
    });
    await drive(this.scheduler, this.node.start());
    await drive(this.scheduler, this.node.load(module));
  }

  track(promise: Promise<unknown>): void {
    this.pending.push(promise.catch(() => undefined));
  }

  release(): void {
    this.slow = false;
    for (const open of this.gates.splice(0)) open();
  }
}

/** The event numbers in the log, in order (a fresh read-only look). */
async function logged(disk: MemoryDisk): Promise<number[]> {
  const log = await openEventLog({ dir: DIR, fs: disk.mount(), readOnly: true });
  const ids: number[] = [];
  for await (const event of log.read()) {
    const payload = event.payload as { height?: number; targetAgeDays?: number };
    ids.push(event.type === 'NewBlock' ? (payload.height as number) : (payload.targetAgeDays as number));
  }
  await log.close();
  return ids;
}

/** The replay property over a whole run, given the final log. Returns what is wrong. */
export function replayViolations(takes: readonly Take[], restarts: readonly Restart[], finalLog: readonly number[]): string[] {
  const found: string[] = [];
  const byId = new Map<number, Take[]>();
  for (const take of takes) byId.set(take.id, [...(byId.get(take.id) ?? []), take]);
  for (const id of finalLog) if (!byId.has(id)) found.push(`event ${id} is in the log but the module never took it`);
  for (const [id, list] of byId) {
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1] as Take;
      const again = list[i] as Take;
      const between = restarts.filter((r) => r.life > before.life && r.life <= again.life);
      if (!between.some((r) => again.seq > r.position && !r.ahead.includes(again.seq))) {
        found.push(`event ${id} (seq ${again.seq}) taken again in life ${again.life} after life ${before.life}, not above any saved position between`);
      }
    }
  }
  return found;
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Publish implements Cmd {
  constructor(
    readonly count: number,
    readonly critical: boolean,
  ) {}
  check = (): boolean => true;
  run(model: Model, real: Real): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const id = model.next++;
      if (this.critical) real.node.publisher.dataMaintenance('flush', 'high', 'manual', id);
      else real.node.events.publish({ type: 'NewBlock', payload: { blockHash: hash(id), height: id } });
      model.published.push(id);
      model.unflushed.push(id);
    }
    return Promise.resolve();
  }
  toString = (): string => `publish(${this.count}${this.critical ? ', critical' : ''})`;
}

class Flush implements Cmd {
  constructor(readonly wait: boolean) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    const window = model.unflushed;
    model.unflushed = [];
    const flushed = real.node.events.flush().then(() => window.forEach((id) => model.acked.add(id)));
    real.track(flushed);
    if (this.wait) await drive(real.scheduler, flushed);
  }
  toString = (): string => (this.wait ? 'flush (waited)' : 'flush');
}

class Hold implements Cmd {
  check = (): boolean => true;
  run(_: Model, real: Real): Promise<void> {
    real.slow = true;
    return Promise.resolve();
  }
  toString = (): string => 'hold the module';
}

class Release implements Cmd {
  check = (): boolean => true;
  run(_: Model, real: Real): Promise<void> {
    real.release();
    return Promise.resolve();
  }
  toString = (): string => 'release the module';
}

class CrashModule implements Cmd {
  check = (): boolean => true;
  run(_: Model, real: Real): Promise<void> {
    real.crashNext = true;
    return Promise.resolve();
  }
  toString = (): string => 'crash the module on its next event';
}

class Handle implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(_: Model, real: Real): Promise<void> {
    await real.scheduler.advanceBy(this.ms);
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString = (): string => `handle for ${this.ms} ms`;
}

class RestartNode implements Cmd {
  constructor(readonly how: 'graceful' | 'crash' | 'power', readonly keep = 0) {}
  check = (): boolean => true;
  async run(model: Model, real: Real): Promise<void> {
    if (this.how === 'graceful') {
      real.release();
      await drive(real.scheduler, real.node.shutdown());
    } else if (this.how === 'crash') {
      real.disk.crash();
    } else {
      const keep = this.keep;
      real.disk.powerLoss({ keepUnsynced: (_, bytes) => bytes * keep });
    }
    checkKept(model.published, await logged(real.disk), model.acked, this.toString());
    const { loaded } = await loadState(real.disk.mount(), DIR);
    const saved = loaded.modules[MODULE];
    real.gates = []; // a dead process's handlers never finish
    real.slow = false;
    real.crashNext = false;
    model.unflushed = [];
    await real.begin();
    real.restarts.push({ life: real.life, position: saved?.position ?? 0, ahead: saved?.ahead ?? [] });
  }
  toString = (): string => `restart node (${this.how}${this.how === 'power' ? `, keeping ${this.keep} of unsynced bytes` : ''})`;
}

const commands = fc.commands(
  [
    fc.tuple(fc.integer({ min: 1, max: 8 }), fc.boolean()).map(([n, critical]) => new Publish(critical ? 1 : n, critical)),
    fc.integer({ min: 1, max: 8 }).map((n) => new Publish(n, false)),
    fc.boolean().map((wait) => new Flush(wait)),
    fc.constant(new Hold()),
    fc.constant(new Release()),
    fc.constant(new CrashModule()),
    fc.constantFrom(0, 1, 3, 20).map((ms) => new Handle(ms)),
    fc.oneof(
      fc.constantFrom('graceful' as const, 'crash' as const).map((how) => new RestartNode(how)),
      fc.constantFrom(0, 0.5, 1).map((keep) => new RestartNode('power', keep)),
    ),
  ],
  { maxCommands: 40, size: '+1' },
);

function nodeBehavesAsModel() {
  return fc.asyncProperty(commands, async (cmds) => {
    const real = new Real(createMemoryDisk());
    await real.begin();
    const model: Model = { next: 1, published: [], unflushed: [], acked: new Set() };
    try {
      await fc.asyncModelRun(() => ({ model, real }), cmds);
      // A last graceful restart; then the module catches up with everything it is owed.
      await new RestartNode('graceful').run(model, real);
      await real.scheduler.advanceBy(1000);
      await drive(real.scheduler, real.node.events.flush());
      const finalLog = await logged(real.disk);
      const violations = replayViolations(real.takes, real.restarts, finalLog);
      if (violations.length > 0) throw new Error(violations.slice(0, 5).join('\n'));
    } finally {
      real.release();
      await drive(real.scheduler, real.node.shutdown());
    }
  });
}

const seed = propertySeed();

describe('node with a store, model-based', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it(`acknowledged = durable, and the replaying module takes every logged event, twice only across a restart that left it unsaved (seed ${seed})`, async () => {
    await fc.assert(nodeBehavesAsModel(), { seed, numRuns: runs(150) });
  });

  it('its replay check catches an event never taken and one taken twice within a node life or below the saved position', () => {
    const takes = [
      { life: 1, id: 1, seq: 5 },
      { life: 1, id: 2, seq: 6 },
    ];
    const restarts = [{ life: 2, position: 5, ahead: [] }];
    expect(replayViolations(takes, restarts, [1, 2])).toEqual([]);
    expect(replayViolations([...takes, { life: 2, id: 2, seq: 6 }], restarts, [1, 2])).toEqual([]);
    expect(replayViolations([...takes, { life: 2, id: 1, seq: 5 }], restarts, [1, 2])).toHaveLength(1);
    expect(replayViolations([...takes, { life: 1, id: 2, seq: 6 }], restarts, [1, 2])).toHaveLength(1);
    expect(replayViolations([...takes, { life: 2, id: 2, seq: 6 }], [{ life: 2, position: 5, ahead: [6] }], [1, 2])).toHaveLength(1);
    expect(replayViolations(takes, restarts, [1, 2, 3])).toEqual(['event 3 is in the log but the module never took it']);
  });

  for (const [name, breakage] of Object.entries(breakages)) {
    it(`catches a node where ${name} (seed ${seed})`, async () => {
      breakage();
      const result = await fc.check(nodeBehavesAsModel(), { seed, numRuns: 300 });
      expect(result.failed).toBe(true);
    });
  }
});
