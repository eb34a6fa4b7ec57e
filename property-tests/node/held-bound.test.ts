/**
 * The bound across a boundary (SPEC section 2, process modules): a module whose events leave its
 * mailbox before they are handled (a process module forwards them to its child, which acknowledges
 * them later) holds at most its capacity of unhandled events plus the one in hand, across mailbox
 * and flight. Here the boundary is modelled in process by a host that forwards what it takes to an
 * "in flight" list the test acknowledges at will, maintaining `held` as the process host does; the
 * router's admission is the real one. Random publishes and acknowledgements, checked after each.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNode, createSimulatedScheduler, EventType, type BehaviorFactory, type NodeEventMap } from '../../src/index.js';
import { createIncarnation, EventRouter, type ModuleIncarnation } from '../../src/node/event-router.js';
import { Barrier, type ModuleServices } from '../../src/node/module-instance.js';
import { propertySeed, runs } from '../kernel/support.js';

const CAPACITY = 5;

interface Flight {
  readonly inFlight: unknown[];
  incarnation: ModuleIncarnation<NodeEventMap> | null;
  waiting: (() => void) | null;
}

/** A module whose host forwards events "across the boundary", at most CAPACITY un-acknowledged. */
function boundaryModule(flight: Flight) {
  return {
    name: 'remote',
    version: '1',
    subscribe: [EventType.NewBlock],
    mailboxCapacity: CAPACITY,
    instanceBehavior: (services: ModuleServices<NodeEventMap>): BehaviorFactory<unknown> => ({
      create(actx) {
        const stats = services.router.statsFor('remote');
        stats.incarnations++;
        const incarnation = createIncarnation<NodeEventMap>({ name: 'remote', version: '1', ref: actx.self, stats, capacity: actx.mailboxCapacity, crash: actx });
        flight.incarnation = incarnation;
        return {
          onStart() {
            services.report({ kind: 'instance-started', incarnation });
            services.report({ kind: 'handshake', incarnation, types: [EventType.NewBlock] });
          },
          receive(message: unknown): void | Promise<void> {
            if (message instanceof Barrier) return message.reached();
            services.router.pull(incarnation);
            flight.inFlight.push(message);
            // As the process host: what is in flight beyond the one in hand counts against the bound.
            incarnation.held = Math.max(0, flight.inFlight.length - 1);
            if (flight.inFlight.length < CAPACITY) return undefined;
            return new Promise<void>((resolve) => {
              flight.waiting = resolve;
            });
          },
        };
      },
    }),
  };
}

function ack(flight: Flight, n: number): void {
  const acked = flight.inFlight.splice(0, n);
  const incarnation = flight.incarnation;
  if (incarnation !== null) {
    incarnation.settled += acked.length;
    incarnation.stats.handled += acked.length;
    incarnation.held = Math.max(0, flight.inFlight.length - 1);
  }
  if (flight.inFlight.length < CAPACITY && flight.waiting !== null) {
    const resume = flight.waiting;
    flight.waiting = null;
    resume();
  }
}

const steps = fc.array(
  fc.oneof(
    fc.integer({ min: 1, max: 20 }).map((n) => ({ publish: n }) as const),
    fc.integer({ min: 1, max: 8 }).map((n) => ({ ack: n }) as const),
  ),
  { minLength: 1, maxLength: 40, size: 'max' },
);

/** Unhandled events never exceed the capacity plus the one in hand; every offer is counted once. */
const boundHolds = fc.asyncProperty(steps, async (plan) => {
  const scheduler = createSimulatedScheduler({ seed: 3, autoRun: false });
  const node = createNode({ scheduler });
  const flight: Flight = { inFlight: [], incarnation: null, waiting: null };
  const loading = node.load(boundaryModule(flight));
  await scheduler.runAll();
  await loading;
  let height = 0;
  let published = 0;
  for (const step of plan) {
    if ('publish' in step) {
      for (let i = 0; i < step.publish; i++) node.publisher.newBlock((++height).toString(16).padStart(64, '0'), height);
      published += step.publish;
    } else {
      ack(flight, step.ack);
    }
    await scheduler.runUntilIdle();
    const queued = node.system.lookup('/modules/remote')?.queued ?? 0;
    if (queued + flight.inFlight.length > CAPACITY + 1) {
      throw new Error(`${queued} queued + ${flight.inFlight.length} in flight > ${CAPACITY} + 1 in hand`);
    }
  }
  const asking = node.events.getDeliveryStats('remote');
  await scheduler.runUntilIdle();
  const stats = await asking;
  expect((stats?.successful ?? 0) + (stats?.channelFull ?? 0)).toBe(published);
  ack(flight, CAPACITY);
  const stopping = node.shutdown();
  await scheduler.runAll();
  await stopping;
});

const seed = propertySeed();

describe('the bound across a boundary', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it(`holds: mailbox plus in flight never above capacity + 1 (seed ${seed})`, async () => {
    await fc.assert(boundHolds, { seed, numRuns: runs(200) });
  });

  it(`catches a router that does not count what is in flight (seed ${seed})`, async () => {
    vi.spyOn(EventRouter.prototype as unknown as { hasRoom(): boolean }, 'hasRoom').mockReturnValue(true);
    const result = await fc.check(boundHolds, { seed, numRuns: 200 });
    expect(result.failed).toBe(true);
  });
});
