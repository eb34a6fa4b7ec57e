/**
 * Flow control and serialization across the process boundary: the module's bound holds across
 * host queue, pipe and child; bytes in flight are bounded; a child that never reads is
 * disconnected; events that cannot be serialized are dropped for process modules only. The tests
 * that count run the node on the simulated scheduler (real children, virtual time), so the node
 * does exactly what it can between two awaited points and time moves only when told.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  EventType,
  createNode,
  createSimulatedScheduler,
  defineProcessModule,
  defineCatalogue,
  defineModule,
  nodePayloadChecks,
  object,
  string,
  type Check,
  type EventOf,
  type ModactorNode,
  type NodeEventMap,
  type ProcessModule,
  type ProcessModuleManifest,
  type PublishReceipt,
  type SimulatedScheduler,
} from '../../src/index.js';
import { serializeMessage } from '../../src/ipc/channel.js';
import { rawFixture, sdkFixture } from './fixtures.js';
import { accounting, hash, observer, realNode, testLogger } from './helpers.js';

/** A node on the simulated scheduler: actors run when work arrives, time moves only when told. */
function simulatedNode<E extends NodeEventMap = NodeEventMap>(
  options: { catalogue?: ReturnType<typeof defineCatalogue<E>> } = {},
): { node: ModactorNode<E>; scheduler: SimulatedScheduler } {
  const scheduler = createSimulatedScheduler();
  const node = createNode<E>({ logger: testLogger(), scheduler, shutdownTimeoutMs: 1000, ...options });
  return { node, scheduler };
}

/** Shuts a simulated node down, moving virtual time so that stuck modules hit their timeouts. */
async function shutDown(node: ModactorNode<never> | ModactorNode, scheduler: SimulatedScheduler): Promise<void> {
  const done = (node as ModactorNode).shutdown();
  let finished = false;
  void done.then(() => (finished = true));
  for (let i = 0; i < 100 && !finished; i++) await scheduler.advanceBy(100);
  await done;
}

/** A catalogue with one loosely typed event, so that large and unserializable values can pass validation. */
type LooseMap = NodeEventMap & { Telemetry: { readonly source: string; readonly data: unknown } };
const anything: Check<unknown> = (value) => value;
const looseCatalogue = defineCatalogue<LooseMap>({ ...nodePayloadChecks, Telemetry: object({ source: string, data: anything }) });
const telemetry = (source: string, data: unknown): EventOf<LooseMap> => ({ type: 'Telemetry', payload: { source, data } });

/** A process module of the loose catalogue receiving Telemetry: an SDK fixture, or a raw one. */
function looseModule(
  name: string,
  mode: string,
  overrides: Partial<ProcessModuleManifest<LooseMap>> = {},
  fixture: 'sdk-child' | 'raw-child' = 'sdk-child',
): ProcessModule<LooseMap> {
  return defineProcessModule<LooseMap>(
    {
      name,
      version: '1.0.0',
      entry: new URL(`./fixtures/${fixture}.ts`, import.meta.url),
      subscribe: ['Telemetry'],
      publishes: ['HealthCheck'],
      ...overrides,
      args: ['--mode', mode, '--name', name],
    },
    { catalogue: looseCatalogue },
  );
}

describe('a slow process module', () => {
  it('drops the events past the host-side bound of 100, counts them channelFull and as dead letters of its full mailbox, keeps it subscribed', { timeout: 30_000 }, async () => {
    const node = realNode({ shutdownTimeoutMs: 1000 });
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    // A credit window of 1: exactly like an in-process module stuck on its first event.
    const slow = sdkFixture('slow', 'stuck', { subscribe: [EventType.NewBlock], credits: 1, shutdownTimeoutMs: 1000 });
    await node.load(slow);
    const first = node.publisher.newBlock(hash(0), 0);
    await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    const receipts = [first];
    const deadBefore = node.system.deadLetterCounts()['mailbox-full'];
    // Published in one go: the host actor takes none of them meanwhile, nothing more is in flight
    // than the first event, so the mailbox itself refuses the surplus.
    for (let height = 1; height < 150; height++) receipts.push(node.publisher.newBlock(hash(height), height));
    expect(receipts.filter((r) => r.enqueued === 1)).toHaveLength(101);
    expect(receipts.filter((r) => r.dropped === 1)).toHaveLength(49);
    expect(node.system.deadLetterCounts()['mailbox-full'] - deadBefore).toBe(49);
    const stats = await node.events.getDeliveryStats('slow');
    expect(stats).toMatchObject({ successful: 101, channelFull: 49, handled: 0 });
    expect(await node.events.getSubscribers(EventType.NewBlock)).toEqual(['slow']);
    await node.unload('slow');
    const after = await node.events.getDeliveryStats('slow');
    if (after === undefined) throw new Error('no stats');
    expect(after).toMatchObject({ successful: 101, channelFull: 49, lostOnCrash: 101 });
    expect(accounting(after)).toEqual({ offered: 150, pending: 0 });
    await node.shutdown();
  });

  it('holds at most its capacity plus the one in hand (101) across mailbox, pipe and child, by default', { timeout: 30_000 }, async () => {
    const { node, scheduler } = simulatedNode();
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const slow = sdkFixture('slow', 'stuck', { subscribe: [EventType.NewBlock], shutdownTimeoutMs: 1000 });
    expect(slow.manifest).toMatchObject({ mailboxCapacity: 100, credits: 100 });
    await node.load(slow);
    node.publisher.newBlock(hash(0), 0);
    await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    let published = 1;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1000; i++) node.publisher.newBlock(hash(published), published++);
      // The host actor forwards everything its windows allow (no acknowledgement comes back).
      await scheduler.runUntilIdle();
      const stats = await node.events.getDeliveryStats('slow');
      if (stats === undefined) throw new Error('no stats');
      expect(accounting(stats)).toEqual({ offered: published, pending: 101 });
      expect(stats).toMatchObject({ successful: 101, channelFull: published - 101, handled: 0 });
      // Each drop a dead letter of its full mailbox, also those the events in flight refused.
      expect(node.system.deadLetterCounts()['mailbox-full']).toBe(published - 101);
      // 100 in the child (its window), 1 in the host actor's hand, none queued.
      expect(slow.status()).toMatchObject({ inFlightEvents: 100 });
    }
    await shutDown(node, scheduler);
    const after = await node.events.getDeliveryStats('slow');
    expect(after).toMatchObject({ successful: 101, lostOnCrash: 101 });
  });

  it('holds at most maxInFlightBytes of events in flight to a child, whatever the event size', { timeout: 30_000 }, async () => {
    const { node, scheduler } = simulatedNode<LooseMap>({ catalogue: looseCatalogue });
    const announced = new Promise<void>((resolve) => {
      void node.load(
        defineModule<LooseMap>({
          name: 'obs',
          version: '1.0.0',
          subscribe: ['HealthCheck'],
          handle: (event) => {
            if (event.type === 'HealthCheck' && event.payload.checkType === 'stuck') resolve();
          },
        }),
      );
    });
    const budget = 1024 * 1024;
    const slow = looseModule('slow', 'stuck', { maxInFlightBytes: budget, shutdownTimeoutMs: 1000 });
    await node.load(slow);
    const big = 'x'.repeat(100_000);
    node.events.publish(telemetry('0', big));
    await announced;
    for (let i = 1; i < 300; i++) node.events.publish(telemetry(String(i), big));
    await scheduler.runUntilIdle();
    for (let i = 300; i < 600; i++) node.events.publish(telemetry(String(i), big));
    await scheduler.runUntilIdle();
    const eventBytes = JSON.stringify(telemetry('100', big)).length;
    // As many whole events as fit in the budget: 10 of about 100 kB in 1 MiB; the 11th waits in the host's hand.
    const status = slow.status();
    expect(status.inFlightEvents).toBe(Math.floor(budget / eventBytes));
    expect(status.inFlightBytes).toBeLessThanOrEqual(budget);
    expect(status.maxInFlightBytesSeen).toBeLessThanOrEqual(budget);
    // The bound of the module holds too: 101 unhandled, everything else dropped and counted.
    const stats = await node.events.getDeliveryStats('slow');
    if (stats === undefined) throw new Error('no stats');
    expect(accounting(stats)).toEqual({ offered: 600, pending: 101 });
    await shutDown(node as unknown as ModactorNode, scheduler);
  });
});

describe('a process module catching up on its ModuleLoaded replay, stuck on its first event', () => {
  /** A node with `count` other modules loaded (and so replayed to a newcomer), the observer first. */
  async function nodeWithModules(count: number): Promise<{ node: ModactorNode; obs: ReturnType<typeof observer> }> {
    const node = realNode({ shutdownTimeoutMs: 1000 });
    const obs = observer('obs', [EventType.HealthCheck, EventType.ModuleUnloaded]);
    await node.load(obs.module);
    for (let i = 1; i < count; i++) await node.load(defineModule({ name: `idle-${i}`, version: '1.0.0', subscribe: [], handle: () => undefined }));
    return { node, obs };
  }
  const stuckOn = (obs: ReturnType<typeof observer>, name: string): Promise<unknown> =>
    obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck' && e.meta?.source === name);

  it('drops a routine event while its events in flight fill its bound, and lets one wait behind the replay while they leave room', { timeout: 30_000 }, async () => {
    const { node, obs } = await nodeWithModules(8);
    // A bound of 2 and a replay of 8 or 9 ModuleLoaded: the child takes the first and never ends
    // it; the host forwards what its window allows and keeps the next in hand, the replay waits.
    const full = sdkFixture('full', 'stuck', { mailboxCapacity: 2, credits: 2, shutdownTimeoutMs: 200 });
    const roomy = sdkFixture('roomy', 'stuck', { mailboxCapacity: 2, credits: 1, shutdownTimeoutMs: 200 });
    await node.load(full);
    await node.load(roomy);
    await stuckOn(obs, 'full');
    await stuckOn(obs, 'roomy');
    expect(full.status()).toMatchObject({ inFlightEvents: 2 });
    expect(roomy.status()).toMatchObject({ inFlightEvents: 1 });

    // In flight beyond the one in hand: 2 of 2 for full (no room), 1 of 2 for roomy.
    const receipt = node.publisher.newBlock(hash(1), 1);
    expect(receipt).toMatchObject({ enqueued: 1, dropped: 1, failed: 0 });
    expect(await node.events.getDeliveryStats('full')).toMatchObject({ channelFull: 1, membershipDropped: 0 });
    expect(await node.events.getDeliveryStats('roomy')).toMatchObject({ channelFull: 0 });
    await node.shutdown();
  });

  it('refuses as failed an event offered after its host actor terminated, before the node retired it', { timeout: 30_000 }, async () => {
    const { node, obs } = await nodeWithModules(8);
    const roomy = sdkFixture('roomy', 'stuck', { mailboxCapacity: 2, credits: 1, shutdownTimeoutMs: 200, restart: { type: 'temporary' } });
    await node.load(roomy);
    await stuckOn(obs, 'roomy');
    expect(roomy.status()).toMatchObject({ inFlightEvents: 1 });
    // The one moment a publisher can act between the end of the host actor and its retirement:
    // the dead letters of what its mailbox still held, reported as it closes.
    let receipt: PublishReceipt | undefined;
    const stopObserving = node.system.onDeadLetter((letter) => {
      if (receipt === undefined && letter.recipient === '/modules/roomy' && letter.reason === 'lost-on-termination') {
        receipt = node.publisher.newBlock(hash(1), 1);
      }
    });
    process.kill(roomy.status().pid as number, 'SIGKILL');
    await obs.waitForBrief('ModuleUnloaded(roomy)');
    stopObserving();
    // Its in-flight event leaves room in its bound, and the replay is pending: the event would
    // wait behind it, but the module is dead.
    expect(receipt).toEqual({ enqueued: 0, dropped: 0, failed: 1, filtered: 0, serializationFailed: 0 });
    await node.shutdown();
  });
});

describe('a child that never reads', () => {
  it('is disconnected once output to it stays pending past its deadline on the node clock, its memory bounded', { timeout: 30_000 }, async () => {
    const { node, scheduler } = simulatedNode<LooseMap>({ catalogue: looseCatalogue });
    const budget = 1024 * 1024;
    const deaf = looseModule(
      'deaf',
      'deaf',
      { publishes: [], maxInFlightBytes: budget, heartbeat: { intervalMs: 1000, missed: 3 }, restart: { type: 'temporary' } },
      'raw-child',
    );
    await node.load(deaf);
    const big = 'y'.repeat(100_000);
    for (let i = 0; i < 50; i++) node.events.publish(telemetry(String(i), big));
    await scheduler.runUntilIdle();
    // The kernel took what fits in the pipe; the rest of the window waits in the host's output.
    const status = deaf.status();
    expect(status.inFlightBytes).toBeLessThanOrEqual(budget);
    expect(status.inFlightEvents).toBe(10);
    expect(status.state).toBe('running');
    // Nothing moves on the virtual clock until told: just short of the deadline, still connected.
    await scheduler.advanceBy(2900);
    expect(deaf.status()).toMatchObject({ state: 'running', crashes: 0 });
    await scheduler.advanceBy(300);
    const crashed = deaf.status();
    expect(crashed).toMatchObject({ notReading: 1, crashes: 1, protocolViolations: 0 });
    expect(crashed.lastFailure).toMatch(/^not reading: \d+ bytes of output pending for 3\d{3} ms: disconnected$/);
    const pending = Number(/(\d+) bytes/.exec(crashed.lastFailure ?? '')?.[1]);
    expect(pending).toBeGreaterThan(0);
    expect(pending).toBeLessThanOrEqual(budget);
    await shutDown(node as unknown as ModactorNode, scheduler);
    expect(await node.events.getDeliveryStats('deaf')).toMatchObject({ handled: 0, lostOnCrash: 50 });
  });
});

describe('an event that cannot be serialized', () => {
  it('is dropped for the process module only, counted serializationFailed, its subscription kept, logged once', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const node = createNode<LooseMap>({ logger, catalogue: looseCatalogue });
    const local: string[] = [];
    let sawLast!: () => void;
    const last = new Promise<void>((resolve) => (sawLast = resolve));
    await node.load(
      defineModule<LooseMap>({
        name: 'local',
        version: '1.0.0',
        subscribe: ['Telemetry', 'HealthCheck'],
        mailboxCapacity: 1000,
        handle(event) {
          if (event.type === 'Telemetry') local.push(event.payload.source);
          if (event.type === 'HealthCheck') {
            local.push(`echo ${String(event.payload.healthReport)}`);
            if (event.payload.healthReport === 'Telemetry(last)') sawLast();
          }
        },
      }),
    );
    const remote = looseModule('remote', 'echo');
    await node.load(remote);

    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    expect(node.events.publish(telemetry('first', { n: 1 }))).toMatchObject({ enqueued: 2, serializationFailed: 0 });
    expect(node.events.publish(telemetry('bigint', { n: 10n }))).toMatchObject({ enqueued: 1, serializationFailed: 1 });
    expect(node.events.publish(telemetry('cycle', cycle))).toMatchObject({ enqueued: 1, serializationFailed: 1 });
    for (let i = 0; i < 100; i++) node.events.publish(telemetry('many', [BigInt(i)]));
    expect(node.events.publish(telemetry('last', [1, 'two', null]))).toMatchObject({ enqueued: 2, serializationFailed: 0 });
    await last;

    // The in-process module got everything; the process module everything that could cross.
    expect(local.filter((s) => !s.startsWith('echo'))).toEqual(['first', 'bigint', 'cycle', ...Array<string>(100).fill('many'), 'last']);
    expect(local.filter((s) => s.startsWith('echo'))).toEqual(['echo Telemetry(first)', 'echo Telemetry(last)']);
    const stats = await node.events.getDeliveryStats('remote');
    expect(stats).toMatchObject({ successful: 2, serializationFailed: 102, failed: 0, channelFull: 0 });
    expect(remote.status().serializationFailed).toBe(102);
    expect(await node.events.getSubscribers('Telemetry')).toEqual(['local', 'remote']);
    // One warning line for the first drop, not one per dropped event.
    const warnings = lines.filter((l) => l.includes('cannot be serialized'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, eventType: 'Telemetry', dropped: 1, module: 'remote' });
    await node.shutdown();
  });

  it('never throws out of the host when a value changes between the check and the serialization', { timeout: 30_000 }, async () => {
    const node = createNode<LooseMap>({ logger: testLogger(), catalogue: looseCatalogue });
    const remote = looseModule('remote', 'echo');
    const echoes: string[] = [];
    let sawAfter!: () => void;
    const after = new Promise<void>((resolve) => (sawAfter = resolve));
    await node.load(
      defineModule<LooseMap>({
        name: 'obs',
        version: '1.0.0',
        subscribe: ['HealthCheck'],
        handle(event) {
          if (event.type !== 'HealthCheck') return;
          echoes.push(String(event.payload.healthReport));
          if (event.payload.healthReport === 'Telemetry(after)') sawAfter();
        },
      }),
    );
    await node.load(remote);
    // JSON-safe when the node checks it, a BigInt when it is serialized (unless the node copied it first).
    let reads = 0;
    const shifty = {
      get value(): unknown {
        return reads++ === 0 ? 1 : 10n;
      },
    };
    const receipt = node.events.publish(telemetry('shifty', shifty));
    node.events.publish(telemetry('after', 1));
    await after;
    expect(await node.events.getSubscribers('Telemetry')).toEqual(['remote']);
    // Unloading waits for the child to exit, so every acknowledgement has arrived.
    await node.unload('remote');
    const stats = await node.events.getDeliveryStats('remote');
    if (stats === undefined) throw new Error('no stats');
    // Either way one counted outcome: handled (the node delivered what it checked) or
    // serializationFailed (moved there from enqueued); nothing thrown, the module still subscribed.
    const shiftyHandled = echoes.includes('Telemetry(shifty)');
    expect(receipt.enqueued + receipt.serializationFailed).toBe(1);
    expect(stats.handled + stats.serializationFailed).toBe(2);
    expect(stats.serializationFailed).toBe(shiftyHandled ? 0 : 1);
    expect(accounting(stats)).toEqual({ offered: 2, pending: 0 });
    await node.shutdown();
  });

  it('serializeMessage never throws: BigInt, cycles and throwing toJSON give undefined', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const throwing = { toJSON: (): never => { throw new Error('toJSON'); } };
    for (const value of [10n, cycle, throwing]) {
      expect(serializeMessage({ t: 'events', events: [value] })).toBeUndefined();
    }
    expect(serializeMessage({ t: 'stop' })).toBe('{"t":"stop"}');
  });
});

describe('the trust boundary budget on the virtual clock', () => {
  it('disconnects a child that floods refused messages once its refusal budget is spent, counting every frame', { timeout: 30_000 }, async () => {
    const { node, scheduler } = simulatedNode();
    const obs = observer('obs', [EventType.ModuleCrashed]);
    await node.load(obs.module);
    const flooder = rawFixture('flooder', 'refusal-flood', { maxMessageBytes: 1024 * 1024 }, ['--count', '3000']);
    await node.load(flooder);
    // It floods once it has started: on the first event it gets.
    node.events.publish({ type: EventType.NewBlock, payload: { blockHash: 'ab'.repeat(32), height: 1 } });
    const crashed = await obs.waitForBrief('ModuleCrashed(flooder)');
    const failed = (crashed.payload as { error: string }).error;
    expect(failed).toBe('protocol violation: too many refused messages (more than 1000 at once, 100/s on average): disconnected');
    const status = flooder.status();
    // Virtual time did not move: the burst of 1000 was all there was; the 1001st refusal crossed it.
    expect(status).toMatchObject({ refusedNotPermitted: 1001, framesRefused: 1001, protocolViolations: 1, framesViolating: 0 });
    expect(status.framesReceived).toBe(status.framesAccepted + status.framesRefused + status.framesViolating);
    await shutDown(node, scheduler);
  });
});
