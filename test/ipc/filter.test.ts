/**
 * The declarative filter of process and worker modules: validated with the manifest, evaluated by
 * the node before the offer, declined events counted `filtered` and never sent to the child.
 */
import { describe, expect, it } from 'vitest';
import { EventType, isModactorError, nodeCatalogue, type NodeEvent, type ProcessModuleManifest } from '../../src/index.js';
import { validateManifest } from '../../src/ipc/manifest.js';
import { echoModule } from '../../actors/process-modules.js';
import { compileEventFilter } from '../../src/ipc/event-filter.js';
import type { ValidationIssue } from '../../src/kernel/errors.js';
import { accounting, hash, observer, realNode } from './helpers.js';

const block = (height: number): NodeEvent => ({ type: 'NewBlock', payload: { blockHash: hash(height), height } });
const peer = (peerAddr: string, transportType: string): NodeEvent => ({
  type: 'PeerConnected',
  payload: { peerAddr, transportType, services: 1, version: 70016 },
});

function compile(spec: unknown, subscribed: readonly string[] = ['NewBlock', 'PeerConnected', 'HealthCheck']): (event: NodeEvent) => boolean {
  const issues: ValidationIssue[] = [];
  const filter = compileEventFilter(spec, subscribed, issues);
  expect(issues).toEqual([]);
  if (filter === undefined) throw new Error('no filter');
  return filter;
}

function issuesOf(spec: unknown, subscribed: readonly string[] = ['NewBlock', 'PeerConnected']): string[] {
  const issues: ValidationIssue[] = [];
  expect(compileEventFilter(spec, subscribed, issues)).toBeUndefined();
  return issues.map((i) => `${i.path}: ${i.message}`);
}

describe('the declarative filter', () => {
  it('tests each operator on payload fields, and lets unlisted types through', () => {
    const heights = (spec: unknown): number[] => {
      const filter = compile({ NewBlock: { height: spec } });
      return [1, 2, 3, 4, 5].filter((h) => filter(block(h)));
    };
    expect(heights(3)).toEqual([3]);
    expect(heights({ eq: 3 })).toEqual([3]);
    expect(heights({ ne: 3 })).toEqual([1, 2, 4, 5]);
    expect(heights({ in: [1, 5, 'x'] })).toEqual([1, 5]);
    expect(heights({ gt: 3 })).toEqual([4, 5]);
    expect(heights({ gte: 3 })).toEqual([3, 4, 5]);
    expect(heights({ lt: 3 })).toEqual([1, 2]);
    expect(heights({ lte: 3 })).toEqual([1, 2, 3]);
    expect(heights({ gte: 2, lt: 4 })).toEqual([2, 3]);
    const peers = compile({ PeerConnected: { peerAddr: { prefix: '10.' }, transportType: { in: ['tcp', 'quic'] } } });
    expect([peer('10.0.0.1', 'tcp'), peer('10.0.0.2', 'ws'), peer('192.168.0.1', 'tcp'), peer('10.1.1.1', 'quic')].map(peers)).toEqual([true, false, false, true]);
    // Not listed: not filtered.
    expect(peers(block(1))).toBe(true);
  });

  it('declines an event whose payload lacks the field or holds another kind of value, and never throws', () => {
    const filter = compile({ HealthCheck: { healthReport: { prefix: 'ok' } }, NewBlock: { height: { gt: 1 } } });
    expect(filter({ type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true } })).toBe(false);
    expect(filter({ type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true, healthReport: 'ok fine' } })).toBe(true);
    expect(filter({ type: 'NewBlock', payload: { blockHash: '', height: '7' } } as unknown as NodeEvent)).toBe(false);
    const throwing = { type: 'NewBlock', payload: { blockHash: '', get height(): number { throw new Error('getter'); } } };
    expect(filter(throwing as unknown as NodeEvent)).toBe(false);
    // A field inherited from the prototype is not the payload's.
    expect(compile({ NewBlock: { toString: { prefix: '' } } })(block(1))).toBe(false);
  });

  it('names every bad part of a filter by path', () => {
    expect(issuesOf('height > 3')).toEqual(['filter: expected an object { EventType: { field: condition } }, got "height > 3"']);
    expect(issuesOf({ HealthCheck: { checkType: 'x' } })).toEqual([
      'filter.HealthCheck: expected an event type the module subscribes to (NewBlock, PeerConnected), got "HealthCheck"',
    ]);
    expect(issuesOf({ NewBlock: {} })).toEqual(['filter.NewBlock: expected 1 to 64 field conditions, got 0']);
    expect(issuesOf({ NewBlock: { height: { gt: '3', above: 1 }, blockHash: { in: [] } }, PeerConnected: { peerAddr: {}, services: [1] } })).toEqual([
      'filter.NewBlock.height.gt: expected a finite number, got "3"',
      'filter.NewBlock.height.above: expected one of eq, ne, in, gt, gte, lt, lte, prefix, got an unknown operator',
      'filter.NewBlock.blockHash.in: expected an array of 1 to 1024 strings, finite numbers, booleans or nulls, got an array',
      'filter.PeerConnected.peerAddr: expected at least one operator (eq, ne, in, gt, gte, lt, lte, prefix), got an empty object',
      'filter.PeerConnected.services: expected a value or an object of operators (eq, ne, in, gt, gte, lt, lte, prefix), got an array',
    ]);
    expect(issuesOf({ NewBlock: { height: { eq: Number.NaN }, blockHash: { prefix: 1 } } })).toEqual([
      'filter.NewBlock.height.eq: expected a string, finite number, boolean or null, got number NaN',
      'filter.NewBlock.blockHash.prefix: expected a string, got number 1',
    ]);
  });

  it('is part of the manifest: refused with invalid-manifest, compiled when valid', () => {
    const entry = new URL('./fixtures/sdk-child.ts', import.meta.url);
    const base: ProcessModuleManifest = { name: 'm', version: '1.0.0', entry, subscribe: [EventType.NewBlock] };
    expect(validateManifest({ ...base, filter: { NewBlock: { height: { gte: 10 } } } }, nodeCatalogue).filter?.(block(10))).toBe(true);
    try {
      validateManifest({ ...base, filter: { NewBlock: { height: { gte: 'ten' } } } } as never, nodeCatalogue);
      throw new Error('expected a throw');
    } catch (error) {
      expect(isModactorError(error, 'invalid-manifest')).toBe(true);
      expect((error as Error).message).toBe('Invalid manifest of module "m": filter.NewBlock.height.gte: expected a finite number, got "ten"');
    }
  });
});

describe('a process module with a filter', () => {
  it('receives only what its filter lets through; the node counts the rest filtered, nothing crosses for them', { timeout: 30_000 }, async () => {
    const node = realNode();
    const obs = observer('obs', [EventType.HealthCheck]);
    await node.load(obs.module);
    const echo = echoModule({ subscribe: [EventType.NewBlock], filter: { NewBlock: { height: { gte: 5 } } } });
    await node.load(echo);
    const receipts = Array.from({ length: 10 }, (_, i) => node.publisher.newBlock(hash(i + 1), i + 1));
    expect(receipts.map((r) => r.filtered)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    await obs.waitForBrief('echo NewBlock(10)');
    expect(obs.seen).toEqual(['echo NewBlock(5)', 'echo NewBlock(6)', 'echo NewBlock(7)', 'echo NewBlock(8)', 'echo NewBlock(9)', 'echo NewBlock(10)']);
    await node.unload('echo');
    const stats = await node.events.getDeliveryStats('echo');
    if (stats === undefined) throw new Error('no stats');
    expect(stats).toMatchObject({ filtered: 4, successful: 6, handled: 6 });
    expect(accounting(stats)).toEqual({ offered: 10, pending: 0 });
    await node.shutdown();
  });
});
