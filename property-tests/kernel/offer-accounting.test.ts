/**
 * Accounting law of the kernel: every offer has exactly one outcome. An enqueued message is later
 * handled, or is the one whose handler failed, or is reported as a dead letter lost on
 * termination; a full or closed offer is reported as exactly one dead letter of that reason.
 * Nothing vanishes, whatever the interleaving of tells, crashes, stops, hangs and time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createActorSystem,
  createSimulatedScheduler,
  isModactorError,
  type ActorRef,
  type DeadLetterReason,
  type OfferResult,
} from '../../src/index.js';
import { withKillForgettingTheMessageInHand } from './broken/forgetful-kill.js';
import { withForgetfulClose } from './broken/mailboxes.js';
import { defined, propertySeed, runs } from './support.js';

type Kind = 'work' | 'slow' | 'crash' | 'hang';
interface Message {
  readonly id: number;
  readonly kind: Kind;
}

type Action =
  | { readonly type: 'tell'; readonly actor: number; readonly kind: Kind; readonly priority: boolean }
  | { readonly type: 'stop'; readonly actor: number }
  | { readonly type: 'respawn'; readonly actor: number }
  | { readonly type: 'run'; readonly turns: number }
  | { readonly type: 'advance'; readonly ms: number };

const ACTORS = 3;
const actor = fc.nat(ACTORS - 1);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('tell' as const),
      actor,
      kind: fc.constantFrom<Kind>('work', 'work', 'work', 'slow', 'crash', 'hang'),
      priority: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('stop' as const), actor }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('respawn' as const), actor }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('run' as const), turns: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 80 }) }) },
);

interface Ledger {
  readonly offers: Map<number, OfferResult>;
  readonly handled: number[];
  readonly failed: number[];
  readonly dead: { readonly id: number; readonly reason: DeadLetterReason }[];
}

/** Runs one scenario to the end (shutdown included) and returns what happened to every offer. */
async function runScenario(seed: number, actions: readonly Action[]): Promise<Ledger> {
  const scheduler = createSimulatedScheduler({ seed, autoRun: false });
  const system = createActorSystem({ scheduler, shutdownTimeoutMs: 50, supervision: { maxRestarts: 1000, withinMs: 1 } });
  const ledger: Ledger = { offers: new Map(), handled: [], failed: [], dead: [] };
  system.onDeadLetter((letter) => ledger.dead.push({ id: (letter.message as Message).id, reason: letter.reason }));
  const behavior = (m: Message, ctx: { delay(ms: number): Promise<void> }): void | Promise<void> => {
    switch (m.kind) {
      case 'work':
        ledger.handled.push(m.id);
        return;
      case 'slow':
        return ctx.delay(5).then(() => void ledger.handled.push(m.id));
      case 'crash':
        ledger.failed.push(m.id);
        throw new Error(`crash ${m.id}`);
      case 'hang':
        return new Promise<void>(() => undefined);
    }
  };
  const spawn = (i: number): ActorRef<Message> =>
    system.spawn<Message>(behavior, { name: `a${i}`, mailboxCapacity: 3, priorityCapacity: 2 });
  const last: ActorRef<Message>[] = Array.from({ length: ACTORS }, (_, i) => spawn(i));
  const current = (i: number): ActorRef<Message> => {
    const ref = system.lookup<Message>(`/a${i}`) ?? defined(last[i], `actor a${i}`);
    last[i] = ref;
    return ref;
  };
  let nextId = 0;
  const pending: Promise<void>[] = [];

  for (const a of actions) {
    switch (a.type) {
      case 'tell': {
        const message = { id: nextId++, kind: a.kind };
        const ref = current(a.actor);
        ledger.offers.set(message.id, a.priority ? ref.tellPriority(message) : ref.tell(message));
        break;
      }
      case 'stop':
        pending.push(system.stop(current(a.actor)));
        break;
      case 'respawn':
        if (system.lookup(`/a${a.actor}`) === undefined) {
          try {
            last[a.actor] = spawn(a.actor);
          } catch (error) {
            if (!isModactorError(error, 'duplicate-name')) throw error; // mid-restart: the slot is taken
          }
        }
        break;
      case 'run':
        await scheduler.runUntilIdle({ maxTurns: a.turns });
        break;
      case 'advance':
        await scheduler.advanceBy(a.ms);
        break;
    }
  }
  const done = system.shutdown();
  await scheduler.runAll();
  await done;
  await Promise.all(pending);
  return ledger;
}

/** The accounting law, checked on one ledger. */
function checkLedger(ledger: Ledger): void {
  const outcomes = new Map<number, string[]>();
  const add = (id: number, outcome: string): void => {
    outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
  };
  for (const id of ledger.handled) add(id, 'handled');
  for (const id of ledger.failed) add(id, 'failed');
  for (const { id, reason } of ledger.dead) add(id, `dead:${reason}`);
  for (const [id, result] of ledger.offers) {
    const got = outcomes.get(id) ?? [];
    const allowed =
      result === 'enqueued' ? ['handled', 'failed', 'dead:lost-on-termination'] : result === 'full' ? ['dead:mailbox-full'] : ['dead:closed'];
    expect(got, `message ${id} offered with result ${result}`).toHaveLength(1);
    expect(allowed, `message ${id} offered with result ${result}`).toContain(got[0]);
    outcomes.delete(id);
  }
  expect([...outcomes.keys()], 'outcomes of messages never offered').toEqual([]);
}

const scenario = fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.array(action, { minLength: 1, maxLength: 40, size: 'max' }));
const accountingLaw = () =>
  fc.asyncProperty(scenario, async ([seed, actions]) => {
    checkLedger(await runScenario(seed, actions));
  });

const seed = propertySeed();

describe('offer accounting', () => {
  it(`gives every offer exactly one outcome and loses nothing (seed ${seed})`, async () => {
    await fc.assert(accountingLaw(), { seed, numRuns: runs(120) });
  });

  it(`catches a mailbox that forgets its queue when it closes (seed ${seed})`, async () => {
    const result = await withForgetfulClose(() => fc.check(accountingLaw(), { seed, numRuns: 120 }));
    expect(result.failed).toBe(true);
  });

  it(`catches a kill that forgets the message in hand (seed ${seed})`, async () => {
    const result = await withKillForgettingTheMessageInHand(() => fc.check(accountingLaw(), { seed, numRuns: 120 }));
    expect(result.failed).toBe(true);
  });
});
