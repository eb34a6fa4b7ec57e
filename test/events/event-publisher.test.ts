import { it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { nodeCatalogue, nodePayloadChecks, type NodeEvent, type NodeEventType } from '../../src/events/node-catalogue.js';
import { createEventPublisher, type EventPublisher } from '../../src/node/event-publisher.js';
import { asJson, nodeEventArbitrary } from './arbitraries.js';
import { HASH_A } from './samples.js';
import { runs } from '../../property-tests/kernel/support.js';

function recording(): { publisher: EventPublisher<number>; published: NodeEvent[] } {
  const published: NodeEvent[] = [];
  const publisher = createEventPublisher((event) => published.push(event));
  return { publisher, published };
}

const helperName = (type: NodeEventType): string => type.charAt(0).toLowerCase() + type.slice(1);

/** Calls a type's helper with the event's payload fields positionally, in the catalogue's field order. */
function publishThroughHelper(publisher: EventPublisher<unknown>, event: NodeEvent): unknown {
  const fields = Object.keys(nodePayloadChecks[event.type].shape);
  const payload = event.payload as unknown as Readonly<Record<string, unknown>>;
  const args = fields.map((field) => payload[field]);
  while (args.length > 0 && args.at(-1) === undefined) args.pop();
  const helper = (publisher as unknown as Record<string, (...args: unknown[]) => unknown>)[helperName(event.type)];
  if (helper === undefined) throw new Error(`no helper for ${event.type}`);
  return helper(...args);
}

describe('EventPublisher', () => {
  it('has exactly one helper per catalogue type, named in lowerCamelCase', () => {
    const { publisher } = recording();
    expect(Object.keys(publisher).sort()).toEqual(nodeCatalogue.types.map(helperName).sort());
  });

  it('publishes a NewBlock through the publish function and returns its result', () => {
    const seen: NodeEvent[] = [];
    const publisher = createEventPublisher((event) => {
      seen.push(event);
      return { enqueued: 1 };
    });
    expect(publisher.newBlock(HASH_A, 7)).toEqual({ enqueued: 1 });
    expect(seen).toEqual([{ type: 'NewBlock', payload: { blockHash: HASH_A, height: 7 } }]);
  });

  it('leaves omitted optional fields out of the payload instead of setting them to undefined', () => {
    const { publisher, published } = recording();
    publisher.dataMaintenance('flush', 'high', 'shutdown', undefined, 30);
    publisher.peerConnected('203.0.113.7:8333', 'tcp', 1, 70016);
    publisher.maintenanceStarted('prune');
    publisher.maintenanceCompleted('prune', true, 12);
    publisher.healthCheck('periodic', true);
    expect(published.map((event) => Object.keys(event.payload))).toEqual([
      ['operation', 'urgency', 'reason', 'timeoutSeconds'],
      ['peerAddr', 'transportType', 'services', 'version'],
      ['maintenanceType'],
      ['maintenanceType', 'success', 'durationMs'],
      ['checkType', 'nodeHealthy'],
    ]);
    for (const event of published) expect(nodeCatalogue.validate(event)).toEqual(event);
  });

  it('includes optional fields that are given', () => {
    const { publisher, published } = recording();
    publisher.dataMaintenance('cleanup', 'low', 'periodic', 30, 60);
    publisher.peerConnected('203.0.113.7:8333', 'quinn', 9, 70016, 'node-7');
    expect(published).toEqual([
      { type: 'DataMaintenance', payload: { operation: 'cleanup', urgency: 'low', reason: 'periodic', targetAgeDays: 30, timeoutSeconds: 60 } },
      { type: 'PeerConnected', payload: { peerAddr: '203.0.113.7:8333', transportType: 'quinn', services: 9, version: 70016, peerNodeId: 'node-7' } },
    ]);
  });

  it('publishes the membership events with their fields', () => {
    const { publisher, published } = recording();
    publisher.moduleLoaded('m', '1.0.0');
    publisher.moduleUnloaded('m', '1.0.0');
    publisher.moduleCrashed('m', 'boom');
    expect(published).toEqual([
      { type: 'ModuleLoaded', payload: { moduleName: 'm', version: '1.0.0' } },
      { type: 'ModuleUnloaded', payload: { moduleName: 'm', version: '1.0.0' } },
      { type: 'ModuleCrashed', payload: { moduleName: 'm', error: 'boom' } },
    ]);
  });

  it('helpers work detached from the publisher', () => {
    const { publisher, published } = recording();
    const { nodeShutdown } = publisher;
    nodeShutdown('signal', 30);
    expect(published).toEqual([{ type: 'NodeShutdown', payload: { reason: 'signal', timeoutSeconds: 30 } }]);
  });

  prop.prop([nodeEventArbitrary], { numRuns: runs(500) })(
    'for any valid event, its helper called with the fields in catalogue order publishes an equal, valid event',
    (event) => {
      const { publisher, published } = recording();
      expect(publishThroughHelper(publisher, event)).toBe(1);
      expect(published).toHaveLength(1);
      const [out] = published as [NodeEvent];
      expect(out).toEqual(event);
      expect(Object.keys(out.payload)).toEqual(Object.keys(nodePayloadChecks[event.type].shape).filter((f) => f in event.payload));
      expect(Object.values(out.payload)).not.toContain(undefined);
      expect(nodeCatalogue.validate(out)).toEqual(asJson(out));
    },
  );

  it('publishes a MaintenanceCompleted with a -0 result, which the catalogue reads as 0 (as JSON does)', () => {
    const { publisher, published } = recording();
    publisher.maintenanceCompleted(' ', false, 0, { '': -0 });
    const [out] = published as [NodeEvent];
    expect(Object.is((out.payload as { results: Record<string, number> }).results[''], -0)).toBe(true);
    expect(Object.is((nodeCatalogue.validate(out).payload as { results: Record<string, number> }).results[''], 0)).toBe(true);
    expect(nodeCatalogue.validate(out)).toEqual(asJson(out));
  });
});
