import { describe, expect, it } from 'vitest';
import { ModactorError, isModactorError } from '../../src/index.js';
import { describeValue } from '../../src/kernel/errors.js';

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

  it('has no issues and no cause unless given', () => {
    const error = new ModactorError('invalid-argument', 'bad');
    expect(error.issues).toEqual([]);
    expect(error.cause).toBeUndefined();
    // No own `cause` at all, as an Error made without one (loggers print a `cause: undefined` otherwise).
    expect(Object.hasOwn(error, 'cause')).toBe(false);
    expect(Object.hasOwn(new ModactorError('invalid-argument', 'bad', {}), 'cause')).toBe(false);
  });
});

describe('describeValue, the "got" of an error message', () => {
  it.each<[unknown, string]>([
    [null, 'null'],
    [[1, 2], 'an array'],
    ['short', '"short"'],
    ['x'.repeat(40), JSON.stringify('x'.repeat(40))],
    ['x'.repeat(41), 'a string of length 41'],
    [1.5, 'number 1.5'],
    [false, 'boolean false'],
    [3n, 'bigint 3'],
    [undefined, 'undefined'],
    [Symbol('s'), 'a symbol'],
    [() => 1, 'a function'],
    [{ a: 1 }, 'an object'],
  ])('describes %s as %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});
