/**
 * Death watch under random spawn/watch/unwatch/stop/crash sequences and random interleavings:
 * in each watcher incarnation's own history, every watch gets exactly one Terminated if the
 * target died and the watcher lived on, none after an unwatch, and never two for one watch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createActorSystem,
  createSimulatedScheduler,
  isModactorError,
  type ActorRef,
  type ActorSystem,
  type BehaviorFactory,
} from '../../src/index.js';
import { withTerminatedAlwaysDelivered } from './broken/double-delivering-watch.js';
import { kernelWatch, naiveWatch, type WatchImpl } from './broken/naive-watch.js';
import { defined, propertySeed, runs } from './support.js';

/** One step of a watcher's handler; `yield` lets every other runnable actor go first. */
type Step<T> = { readonly op: 'watch' | 'unwatch'; readonly target: T } | { readonly op: 'yield' };

type WatcherMessage =
  | { readonly op: 'steps'; readonly steps: readonly Step<ActorRef<unknown>>[] }
  | { readonly op: 'terminated'; readonly target: ActorRef<unknown> }
  | { readonly op: 'crash' };

type Action =
  | { readonly type: 'steps'; readonly watcher: number; readonly steps: readonly Step<number>[] }
  | { readonly type: 'stop-target' | 'crash-target' | 'respawn-target'; readonly target: number }
  | { readonly type: 'crash-watcher' | 'stop-watcher'; readonly watcher: number }
  | { readonly type: 'run'; readonly turns: number };

const TARGETS = 3;
const WATCHERS = 2;
const target = fc.nat(TARGETS - 1);
const watcher = fc.nat(WATCHERS - 1);
const step: fc.Arbitrary<Step<number>> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('watch' as const, 'unwatch' as const), target }) },
  { weight: 1, arbitrary: fc.constant({ op: 'yield' as const }) },
);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('steps' as const), watcher, steps: fc.array(step, { minLength: 1, maxLength: 4 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({ type: fc.constantFrom('stop-target' as const, 'crash-target' as const, 'respawn-target' as const), target }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('crash-watcher' as const, 'stop-watcher' as const), watcher }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('run' as const), turns: fc.integer({ min: 1, max: 8 }) }) },
);

type Entry = readonly ['watch' | 'unwatch' | 'terminated', string];
interface History {
  readonly self: ActorRef<WatcherMessage>;
  readonly entries: Entry[];
}

type WatchFactory = (system: ActorSystem) => WatchImpl<WatcherMessage>;
const byKernel: WatchFactory = () => kernelWatch<WatcherMessage>();
const naively: WatchFactory = () => naiveWatch<WatcherMessage>((ctx, t) => void ctx.self.tellPriority({ op: 'terminated', target: t }));

async function runScenario(seed: number, actions: readonly Action[], makeWatch: WatchFactory) {
  const scheduler = createSimulatedScheduler({ seed, autoRun: false });
  const system = createActorSystem({ scheduler, supervision: { maxRestarts: 1000, withinMs: 1 } });
  const impl = makeWatch(system);
  const histories: History[] = [];
  const targets = new Map<string, ActorRef<unknown>>();

  const watcherBehavior: BehaviorFactory<WatcherMessage> = {
    create(ctx) {
      const entries: Entry[] = [];
      histories.push({ self: ctx.self, entries });
      return {
        async receive(m) {
          if (m.op === 'crash') throw new Error('watcher crash');
          if (m.op === 'terminated') {
            entries.push(['terminated', m.target.id]);
            return;
          }
          for (const s of m.steps) {
            if (s.op === 'yield') {
              await Promise.resolve();
              continue;
            }
            entries.push([s.op, s.target.id]);
            if (s.op === 'watch') impl.watch(system, ctx, s.target);
            else impl.unwatch(system, ctx, s.target);
          }
        },
        onTerminated: (t) => void entries.push(['terminated', t.id]),
      };
    },
  };
  const spawnTarget = (i: number): void => {
    try {
      system.spawn<'crash'>(() => {
        throw new Error('target crash');
      }, { name: `t${i}` });
    } catch (error) {
      if (!isModactorError(error, 'duplicate-name')) throw error;
    }
  };
  const lastTarget: (ActorRef<unknown> | undefined)[] = [];
  const targetRef = (i: number): ActorRef<unknown> => {
    const ref = system.lookup(`/t${i}`) ?? defined(lastTarget[i], `target t${i}`);
    lastTarget[i] = ref;
    targets.set(ref.id, ref);
    return ref;
  };
  for (let i = 0; i < TARGETS; i++) {
    spawnTarget(i);
    targetRef(i);
  }
  const watchers = Array.from({ length: WATCHERS }, (_, i) => system.spawn(watcherBehavior, { name: `w${i}` }));
  const watcherRef = (i: number): ActorRef<WatcherMessage> => {
    const ref = system.lookup<WatcherMessage>(`/w${i}`) ?? defined(watchers[i], `watcher w${i}`);
    watchers[i] = ref;
    return ref;
  };
  const pending: Promise<void>[] = [];

  for (const a of actions) {
    switch (a.type) {
      case 'steps':
        watcherRef(a.watcher).tell({
          op: 'steps',
          steps: a.steps.map((s) => (s.op === 'yield' ? s : { op: s.op, target: targetRef(s.target) })),
        });
        break;
      case 'stop-target':
        pending.push(system.stop(targetRef(a.target)));
        break;
      case 'crash-target':
        (targetRef(a.target) as ActorRef<'crash'>).tell('crash');
        break;
      case 'respawn-target':
        if (system.lookup(`/t${a.target}`) === undefined) spawnTarget(a.target);
        break;
      case 'crash-watcher':
        watcherRef(a.watcher).tell({ op: 'crash' });
        break;
      case 'stop-watcher':
        pending.push(system.stop(watcherRef(a.watcher)));
        break;
      case 'run':
        await scheduler.runUntilIdle({ maxTurns: a.turns });
        break;
    }
  }
  await scheduler.runUntilIdle();
  await Promise.all(pending);
  return { histories, targets, finish: async () => {
    const done = system.shutdown();
    await scheduler.runAll();
    await done;
  } };
}

/** Checks one watcher incarnation's history against the death-watch contract. */
function checkHistory(history: History, targets: ReadonlyMap<string, ActorRef<unknown>>): void {
  const watching = new Map<string, boolean>();
  history.entries.forEach(([op, id], index) => {
    const where = `${history.self.path} (incarnation ${history.self.id}), entry ${index} ${op} ${id}: ${JSON.stringify(history.entries)}`;
    if (op === 'watch') watching.set(id, true);
    else if (op === 'unwatch') watching.set(id, false);
    else {
      expect(watching.get(id) === true, `a Terminated outside a watch, or a second one, at ${where}`).toBe(true);
      watching.set(id, false);
    }
  });
  if (!history.self.isAlive) return; // a dead watcher gets nothing more
  for (const [id, on] of watching) {
    if (on) expect(targets.get(id)?.isAlive, `${history.self.path} still waits for the Terminated of dead ${id}`).toBe(true);
  }
}

const scenario = fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(action, { minLength: 4, maxLength: 40, size: 'medium' }));
const exactlyOneTerminatedPerWatch = (makeWatch: WatchFactory) =>
  fc.asyncProperty(scenario, async ([seed, actions]) => {
    const { histories, targets, finish } = await runScenario(seed, actions, makeWatch);
    try {
      for (const history of histories) checkHistory(history, targets);
    } finally {
      await finish();
    }
  });

const seed = propertySeed();

describe('death watch property', () => {
  it(`delivers exactly one Terminated per watch, none after unwatch (seed ${seed})`, async () => {
    await fc.assert(exactlyOneTerminatedPerWatch(byKernel), { seed, numRuns: runs(150) });
  });

  it(`catches a watch that double-delivers and ignores unwatch (seed ${seed})`, async () => {
    const result = await fc.check(exactlyOneTerminatedPerWatch(naively), { seed, numRuns: 150 });
    expect(result.failed).toBe(true);
  });

  it(`catches a kernel that delivers every queued Terminated, watched or not (seed ${seed})`, async () => {
    const result = await withTerminatedAlwaysDelivered(() => fc.check(exactlyOneTerminatedPerWatch(byKernel), { seed, numRuns: 150 }));
    expect(result.failed).toBe(true);
  });
});
