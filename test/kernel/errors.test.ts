import { describe, expect, it } from 'vitest';
import { ModactorError, isModactorError } from '../../src/index.js';

describe('ModactorError', () => {
  it('carries a stable code, checked with isModactorError rather than by message', () => {
    const error = new ModactorError('invalid-capacity', 'Expected a positive safe integer, got 0');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ModactorError');
    expect(isModactorError(error)).toBe(true);
    expect(isModactorError(error, 'invalid-capacity')).toBe(true);
    expect(isModactorError(error, 'system-stopped')).toBe(false);
    expect(isModactorError(new Error('invalid-capacity'))).toBe(false);
    expect(isModactorError({ code: 'invalid-capacity' })).toBe(false);
  });

  it('keeps its cause and issues', () => {
    const cause = new Error('root');
    const found = { path: 'a.b', expected: 'x', got: 'y', message: 'expected x, got y' };
    const error = new ModactorError('invalid-argument', 'bad', { cause, issues: [found] });
    expect(error.cause).toBe(cause);
    expect(error.issues).toEqual([found]);
  });
});
