/**
 * Model-based test of the mailbox: random sequences of offers (routine, reserved, priority,
 * system), takes and a close, run against a model of three plain arrays. The model is much simpler
 * than the system: no ring, no growth; the user lane is one array whose entries remember their class.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OfferResult } from '../../src/index.js';
import {
  offByOneMailbox,
  overtakingReserveMailbox,
  realMailbox,
  sloppyRingMailbox,
  type MailboxFactory,
  type MailboxUnderTest,
} from './broken/mailboxes.js';
import { propertySeed, runs } from './support.js';

interface Model {
  readonly capacity: number;
  readonly priorityCapacity: number;
  readonly reserveCapacity: number;
  user: { readonly message: number; readonly reserved: boolean }[];
  priority: number[];
  system: number[];
  closed: boolean;
}

type MailboxCommand = fc.Command<Model, MailboxUnderTest>;

/** Every check a command makes after acting: the bounds hold in every state. */
function checkBounds(model: Model, real: MailboxUnderTest): void {
  const routine = model.user.filter((entry) => !entry.reserved).length;
  expect(real.size).toBe(model.user.length);
  expect(real.routineSize).toBe(routine);
  expect(real.prioritySize).toBe(model.priority.length);
  expect(real.routineSize).toBeLessThanOrEqual(model.capacity);
  expect(real.size - real.routineSize).toBeLessThanOrEqual(model.reserveCapacity);
  expect(real.prioritySize).toBeLessThanOrEqual(model.priorityCapacity);
}

/** The model's answer to an offer into a bounded lane. */
function modelOffer(model: Model, lane: number[], bound: number, message: number): OfferResult {
  if (model.closed) return 'closed';
  if (lane.length >= bound) return 'full';
  lane.push(message);
  return 'enqueued';
}

/** The model's answer to an offer of one class into the user lane: each class has its own bound. */
function modelUserOffer(model: Model, message: number, reserved: boolean): OfferResult {
  if (model.closed) return 'closed';
  const held = model.user.filter((entry) => entry.reserved === reserved).length;
  if (held >= (reserved ? model.reserveCapacity : model.capacity)) return 'full';
  model.user.push({ message, reserved });
  return 'enqueued';
}

class Offer implements MailboxCommand {
  constructor(readonly message: number) {}
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    const expected = modelUserOffer(model, this.message, false);
    expect(real.offer(this.message)).toBe(expected);
    checkBounds(model, real);
  }
  toString = (): string => `offer(${this.message})`;
}

class OfferReserved implements MailboxCommand {
  constructor(readonly message: number) {}
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    const expected = modelUserOffer(model, this.message, true);
    expect(real.offerReserved(this.message)).toBe(expected);
    checkBounds(model, real);
  }
  toString = (): string => `offerReserved(${this.message})`;
}

class OfferPriority implements MailboxCommand {
  constructor(readonly message: number) {}
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    const expected = modelOffer(model, model.priority, model.priorityCapacity, this.message);
    expect(real.offerPriority(this.message)).toBe(expected);
    checkBounds(model, real);
  }
  toString = (): string => `offerPriority(${this.message})`;
}

class OfferSystem implements MailboxCommand {
  constructor(readonly message: number) {}
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    const expected: OfferResult = model.closed ? 'closed' : 'enqueued';
    if (!model.closed) model.system.push(this.message);
    expect(real.offerSystem(this.message)).toBe(expected);
    checkBounds(model, real);
  }
  toString = (): string => `offerSystem(${this.message})`;
}

class TakeUser implements MailboxCommand {
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    const fromPriority = model.priority.shift();
    const expected =
      fromPriority !== undefined
        ? { message: fromPriority, lane: 'priority' }
        : model.user.length > 0
          ? { message: model.user.shift()?.message, lane: 'user' }
          : undefined;
    expect(real.takeUser()).toEqual(expected);
    checkBounds(model, real);
  }
  toString = (): string => 'takeUser';
}

class TakeSystem implements MailboxCommand {
  check = (): boolean => true;
  run(model: Model, real: MailboxUnderTest): void {
    expect(real.takeSystem()).toBe(model.system.shift());
    checkBounds(model, real);
  }
  toString = (): string => 'takeSystem';
}

class Close implements MailboxCommand {
  check = (model: Readonly<Model>): boolean => !model.closed;
  run(model: Model, real: MailboxUnderTest): void {
    const expected = [...model.priority, ...model.user.map((entry) => entry.message)];
    model.priority = [];
    model.user = [];
    model.system = [];
    model.closed = true;
    expect(real.close()).toEqual(expected); // nothing queued vanishes: it is handed back
    expect(real.closed).toBe(true);
    checkBounds(model, real);
  }
  toString = (): string => 'close';
}

const message = fc.integer({ min: 0, max: 999 });
const offer = message.map((m) => new Offer(m));
const take = fc.constant(new TakeUser());
// Offers and takes weigh most (listed several times): the lanes fill, drain and wrap around.
const commands = fc.commands(
  [
    offer,
    offer,
    offer,
    offer,
    take,
    take,
    take,
    message.map((m) => new OfferReserved(m)),
    message.map((m) => new OfferReserved(m)),
    message.map((m) => new OfferPriority(m)),
    message.map((m) => new OfferSystem(m)),
    fc.constant(new TakeSystem()),
    fc.constant(new Close()),
  ],
  { maxCommands: 80, size: 'max' },
);

/**
 * The mailbox of `make` behaves as the model: bounded per class, one FIFO for the user lane across
 * routine and reserved messages, one outcome per offer.
 */
function mailboxBehavesAsModel(make: MailboxFactory) {
  return fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 6 }),
    commands,
    (capacity, priorityCapacity, reserveCapacity, cmds) => {
      const setup = () => ({
        model: { capacity, priorityCapacity, reserveCapacity, user: [], priority: [], system: [], closed: false } satisfies Model,
        real: make(capacity, priorityCapacity, reserveCapacity),
      });
      fc.modelRun(setup, cmds);
    },
  );
}

const seed = propertySeed();

describe('mailbox model', () => {
  it(`never exceeds its bounds, is one FIFO across routine and reserved messages and answers every offer once (seed ${seed})`, () => {
    fc.assert(mailboxBehavesAsModel(realMailbox), { seed, numRuns: runs(300) });
  });

  it(`catches a mailbox whose capacity is off by one (seed ${seed})`, () => {
    const result = fc.check(mailboxBehavesAsModel(offByOneMailbox), { seed, numRuns: 300 });
    expect(result.failed).toBe(true);
  });

  it(`catches reserved messages that overtake routine ones (a lane of their own) (seed ${seed})`, () => {
    const result = fc.check(mailboxBehavesAsModel(overtakingReserveMailbox), { seed, numRuns: 300 });
    expect(result.failed).toBe(true);
  });

  it(`catches a ring buffer that scrambles the order when it grows (seed ${seed})`, () => {
    const result = fc.check(mailboxBehavesAsModel(sloppyRingMailbox), { seed, numRuns: 2000 });
    expect(result.failed).toBe(true);
  });
});
