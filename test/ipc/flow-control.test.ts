/**
 * Flow control and serialization across the process boundary: the host-side mailbox bound holds
 * for a slow child, and events that cannot be serialized are dropped for process modules only.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  EventType,
  createNode,
  defineProcessModule,
  defineCatalogue,
  defineModule,
  nodePayloadChecks,
  object,
  string,
  type Check,
  type EventOf,
  type NodeEventMap,
} from '../../src/index.js';
import { sdkFixture } from './fixtures.js';
import { accounting, hash, observer, realNode } from './helpers.js';

describe('a slow process module', () => {
  it('drops the events past the host-side bound of 100, counts them channelFull, keeps it subscribed', { timeout: 30_000 }, async () => {
    const node = realNode({ shutdownTimeoutMs: 1000 });
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    // A credit window of 1: exactly like an in-process module stuck on its first event.
    const slow = sdkFixture('slow', 'stuck', { subscribe: [EventType.NewBlock], credits: 1, shutdownTimeoutMs: 1000 });
    await node.load(slow);
    const first = node.publisher.newBlock(hash(0), 0);
    await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    const receipts = [first];
    for (let height = 1; height < 150; height++) receipts.push(node.publisher.newBlock(hash(height), height));
    expect(receipts.filter((r) => r.enqueued === 1)).toHaveLength(101);
    expect(receipts.filter((r) => r.dropped === 1)).toHaveLength(49);
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

  it('never holds more than its mailbox plus its credit window, however fast events come', { timeout: 30_000 }, async () => {
    const node = realNode({ shutdownTimeoutMs: 1000 });
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const slow = sdkFixture('slow', 'stuck', { subscribe: [EventType.NewBlock], shutdownTimeoutMs: 1000 });
    expect(slow.manifest).toMatchObject({ mailboxCapacity: 100, credits: 1000 });
    const bound = 100 + slow.manifest.credits;
    await node.load(slow);
    node.publisher.newBlock(hash(0), 0);
    await obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === 'stuck');
    let published = 1;
    let full = false;
    for (let round = 0; round < 30 && !full; round++) {
      for (let i = 0; i < 1000; i++) node.publisher.newBlock(hash(published), published++);
      // A round trip through the event manager lets the host actor forward what its credits allow.
      const stats = await node.events.getDeliveryStats('slow');
      if (stats === undefined) throw new Error('no stats');
      const { offered, pending } = accounting(stats);
      expect(offered).toBe(published);
      expect(pending).toBeLessThanOrEqual(bound);
      expect(stats.channelFull).toBe(published - stats.successful);
      full = stats.successful === bound;
    }
    expect(full).toBe(true);
    // Full on both sides: nothing more gets in, everything else is counted channelFull.
    for (let i = 0; i < 1000; i++) node.publisher.newBlock(hash(published), published++);
    expect(await node.events.getDeliveryStats('slow')).toMatchObject({ successful: bound, channelFull: published - bound, handled: 0 });
    await node.unload('slow');
    await node.shutdown();
  });
});

/** A catalogue with one loosely typed event, so that unserializable values can pass validation. */
type LooseMap = NodeEventMap & { Telemetry: { readonly source: string; readonly data: unknown } };
const anything: Check<unknown> = (value) => value;
const looseCatalogue = defineCatalogue<LooseMap>({ ...nodePayloadChecks, Telemetry: object({ source: string, data: anything }) });

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
    const remote = defineProcessModule<LooseMap>(
      {
        name: 'remote',
        version: '1.0.0',
        entry: new URL('./fixtures/sdk-child.ts', import.meta.url),
        subscribe: ['Telemetry'],
        publishes: ['HealthCheck'],
        args: ['--mode', 'echo', '--name', 'remote'],
      },
      { catalogue: looseCatalogue },
    );
    await node.load(remote);

    const cycle: Record<string, unknown> = { a: 1 };
    cycle['self'] = cycle;
    const telemetry = (source: string, data: unknown): EventOf<LooseMap> => ({ type: 'Telemetry', payload: { source, data } });
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
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, eventType: 'Telemetry', dropped: 1 });
    await node.shutdown();
  });
});
