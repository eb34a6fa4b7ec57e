/**
 * Model-based tests of the module event system (SPEC section 2): random sequences of load,
 * hotload, subscribe, publish (routine and critical), slow down, crash, restart, unload and
 * advance, on nodes of up to 300 modules (a crowd of idle ones, so replays are far larger than a
 * mailbox), run on the seeded simulated scheduler and on fast-check's scheduler (which picks every
 * interleaving of actor turns), with the guarantees checked after every command:
 *
 * - per-module FIFO across routine and membership events, only critical events overtaking
 *   (checked by the node-wide `meta.seq` of what each incarnation received);
 * - ModuleLoaded exactly once, by replay or live, never before its subject and never after its
 *   unload without a new load (whatever the size of the replay);
 * - the bound: routine events never above the capacity, membership ones within the reserve;
 * - nothing delivered after Terminated, dead modules unsubscribed, the registry right;
 * - the accounting law: pending never negative, zero for every module not held on a gate once quiet.
 *
 * The model is deliberately tiny: which probe modules are loaded and which watch membership.
 * The properties are checked against what the probes observed, not against a copy of the system.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MODULE_NAMES,
  NodeUnderTest,
  fastCheckDriver,
  quiescentViolations,
  safetyViolations,
  simulatedDriver,
  type Driver,
  type ModuleName,
} from './harness.js';
import { breakages } from './broken/variants.js';
import { runs } from '../kernel/support.js';

interface Model {
  loaded: Set<ModuleName>;
  watchers: Set<ModuleName>;
}

type Cmd = fc.AsyncCommand<Model, NodeUnderTest>;

/** Checks the safety properties; throws with every violation found. */
function assertSafe(sut: NodeUnderTest): void {
  const violations = safetyViolations(sut);
  if (violations.length > 0) throw new Error(`safety violated:\n${violations.join('\n')}`);
}

class Load implements Cmd {
  constructor(
    readonly name: ModuleName,
    readonly watches: boolean,
  ) {}
  check = (m: Readonly<Model>): boolean => !m.loaded.has(this.name);
  async run(m: Model, sut: NodeUnderTest): Promise<void> {
    sut.load(this.name, this.watches);
    m.loaded.add(this.name);
    if (this.watches) m.watchers.add(this.name);
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `load(${this.name}${this.watches ? ', watches' : ''})`;
}

/** A load while traffic is flowing, without letting the system settle first. */
class Hotload extends Load {
  override async run(m: Model, sut: NodeUnderTest): Promise<void> {
    sut.publish();
    sut.load(this.name, this.watches);
    sut.publish();
    m.loaded.add(this.name);
    if (this.watches) m.watchers.add(this.name);
    assertSafe(sut);
    await Promise.resolve();
  }
  override toString = (): string => `hotload(${this.name}${this.watches ? ', watches' : ''})`;
}

class Subscribe implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(m: Model, sut: NodeUnderTest): Promise<void> {
    sut.subscribeMembership(this.name);
    m.watchers.add(this.name);
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `subscribe(${this.name}, membership)`;
}

class PublishCritical implements Cmd {
  check = (): boolean => true;
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    sut.publishCritical();
    assertSafe(sut);
    await Promise.resolve();
  }
  toString = (): string => 'publishCritical';
}

class Publish implements Cmd {
  constructor(readonly count: number) {}
  check = (): boolean => true;
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    for (let i = 0; i < this.count; i++) sut.publish();
    assertSafe(sut);
    await Promise.resolve();
  }
  toString = (): string => `publish(${this.count})`;
}

class SlowDown implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    sut.slowDown(this.name);
    assertSafe(sut);
    await Promise.resolve();
  }
  toString = (): string => `slowDown(${this.name})`;
}

class Release implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    sut.release(this.name);
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `release(${this.name})`;
}

class Crash implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    sut.crash(this.name);
    sut.publish();
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `crash(${this.name})`;
}

class Restart implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(_m: Model, sut: NodeUnderTest): Promise<void> {
    sut.restart(this.name);
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `restart(${this.name})`;
}

class Unload implements Cmd {
  constructor(readonly name: ModuleName) {}
  check = (m: Readonly<Model>): boolean => m.loaded.has(this.name);
  async run(m: Model, sut: NodeUnderTest): Promise<void> {
    sut.unload(this.name);
    m.loaded.delete(this.name);
    m.watchers.delete(this.name);
    await sut.driver.advance(0);
    assertSafe(sut);
  }
  toString = (): string => `unload(${this.name})`;
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, sut: NodeUnderTest): Promise<void> {
    await sut.driver.advance(this.ms);
    assertSafe(sut);
    // Only past every timeout (stops of stuck modules take up to 2 s) is the system quiet.
    if (this.ms < QUIET_AFTER_MS) return;
    const quiet = await quiescentViolations(sut, m.loaded, quietWatchers(m, sut));
    if (quiet.length > 0) throw new Error(`quiescent properties violated:\n${quiet.join('\n')}`);
  }
  toString = (): string => `advance(${this.ms})`;
}

const QUIET_AFTER_MS = 5000;

/** Watchers not held on a gate: only those can be asked to have seen everything by now. */
function quietWatchers(m: Readonly<Model>, sut: NodeUnderTest): Set<ModuleName> {
  return new Set([...m.watchers].filter((name) => sut.probes.get(name)?.slow !== true));
}

const name = fc.constantFrom(...MODULE_NAMES);
const commands = fc.commands(
  [
    fc.tuple(name, fc.boolean()).map(([n, w]) => new Load(n, w)),
    fc.tuple(name, fc.boolean()).map(([n, w]) => new Hotload(n, w)),
    name.map((n) => new Subscribe(n)),
    fc.integer({ min: 1, max: 12 }).map((c) => new Publish(c)),
    fc.constant(new PublishCritical()),
    name.map((n) => new SlowDown(n)),
    name.map((n) => new Release(n)),
    name.map((n) => new Crash(n)),
    name.map((n) => new Restart(n)),
    name.map((n) => new Unload(n)),
    fc.constantFrom(0, 10, 100, QUIET_AFTER_MS).map((ms) => new Advance(ms)),
  ],
  { maxCommands: 50, size: 'large' },
);

/**
 * How many idle modules a run starts with: none in most runs, a few in many, and in some runs
 * hundreds, so that a newcomer's replay is many times its mailbox.
 */
const crowdSize = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 300 }) },
);

/** One run: a crowd, the commands, then release everything and check the quiescent properties at the end. */
async function runModel(driver: Driver, crowd: number, cmds: Iterable<Cmd>): Promise<void> {
  const sut = new NodeUnderTest(driver);
  const model: Model = { loaded: new Set(), watchers: new Set() };
  try {
    sut.loadCrowd(crowd);
    await driver.advance(0);
    await fc.asyncModelRun(() => ({ model, real: sut }), cmds);
    sut.releaseAll();
    await driver.settle(QUIET_AFTER_MS);
    assertSafe(sut);
    const quiet = await quiescentViolations(sut, model.loaded, model.watchers);
    if (quiet.length > 0) throw new Error(`quiescent properties violated at the end:\n${quiet.join('\n')}`);
  } finally {
    await sut.dispose();
  }
}

const simulatedProperty = fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), crowdSize, commands, async (seed, crowd, cmds) => {
  await runModel(simulatedDriver(seed), crowd, cmds);
});

const interleavingProperty = fc.asyncProperty(fc.scheduler(), fc.integer({ min: 0, max: 12 }), commands, async (s, crowd, cmds) => {
  await runModel(fastCheckDriver(s), crowd, cmds);
});

describe('the module event system against its model', () => {
  it('keeps FIFO, exactly-once membership, nothing after Terminated, the bound and the accounting law (simulated scheduler, seed printed on failure)', async () => {
    await fc.assert(simulatedProperty, { numRuns: runs(400) });
  });

  it('keeps the same guarantees under every interleaving fast-check picks (fc.scheduler)', async () => {
    await fc.assert(interleavingProperty, { numRuns: runs(200) });
  });
});

describe('the properties catch broken variants', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  for (const [label, breakIt] of Object.entries(breakages)) {
    it(`fails when ${label}`, async () => {
      breakIt();
      const result = await fc.check(simulatedProperty, { numRuns: 200, seed: 42 });
      expect(result.failed).toBe(true);
    });
  }
});
