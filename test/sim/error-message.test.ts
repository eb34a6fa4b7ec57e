import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/sim/error-message.js';

describe('errorMessage', () => {
  it("gives an Error's message and anything else as a string", () => {
    expect(errorMessage(new TypeError('bad'))).toBe('bad');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });

  it('never throws, even for a value whose conversion to a string throws', () => {
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(errorMessage(hostile)).toBe('an object');
    expect(errorMessage(Object.create(null))).toBe('an object');
    expect(errorMessage(Symbol('s'))).toBe('Symbol(s)');
  });
});
