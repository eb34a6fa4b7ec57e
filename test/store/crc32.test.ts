import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Of } from '../../src/store/crc32.js';

describe('crc32Of: the CRC-32 of bytes in place', () => {
  it("answers zlib's crc32 for any bytes and any range of a buffer (every length around the 8-byte steps)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32Of(bytes, start, end)).toBe(crc32(bytes.subarray(start, end)) >>> 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('matches the standard check value and the empty range', () => {
    expect(crc32Of(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
    expect(crc32Of(Buffer.from('x'), 1, 1)).toBe(0);
  });
});
