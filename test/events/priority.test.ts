import { it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { isCriticalEvent } from '../../src/events/priority.js';
import { nodeEventArbitrary } from './arbitraries.js';
import { sampleEvent } from './samples.js';

describe('isCriticalEvent', () => {
  it('is true for NodeShutdown', () => {
    expect(isCriticalEvent(sampleEvent('NodeShutdown'))).toBe(true);
  });

  it.each(['low', 'medium', 'high'] as const)('for DataMaintenance with urgency %s', (urgency) => {
    const event = { type: 'DataMaintenance', payload: { operation: 'flush', urgency, reason: 'shutdown' } } as const;
    expect(isCriticalEvent(event)).toBe(urgency === 'high');
  });

  it('is false for routine traffic and never throws on malformed values', () => {
    expect(isCriticalEvent(sampleEvent('NewBlock'))).toBe(false);
    expect(isCriticalEvent(sampleEvent('NodeShutdownCompleted'))).toBe(false);
    expect(isCriticalEvent({ type: 'DataMaintenance', payload: null })).toBe(false);
    expect(isCriticalEvent({ type: 'DataMaintenance' })).toBe(false);
    expect(isCriticalEvent({ type: 'Custom', payload: { urgency: 'high' } })).toBe(false);
  });

  prop.prop([nodeEventArbitrary])('matches the rule for any node event', (event) => {
    const expected =
      event.type === 'NodeShutdown' || (event.type === 'DataMaintenance' && event.payload.urgency === 'high');
    expect(isCriticalEvent(event)).toBe(expected);
  });
});
