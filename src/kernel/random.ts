/** A seeded pseudo-random generator (mulberry32): the same seed always gives the same sequence. */
export interface Random {
  /** A float in [0, 1). */
  readonly next: () => number;
  /** An integer in [0, n). */
  readonly int: (n: number) => number;
}

const TWO_POW_32 = 4294967296;

/**
 * One step of mulberry32: advances the state and returns the next 32-bit output. The state lives
 * in a typed array: a 32-bit value kept in a closure variable does not fit a small integer, so
 * every step would box a fresh heap number (the simulator draws one per actor turn).
 */
function step(state: Uint32Array): number {
  state[0] = (state[0] as number) + 0x6d2b79f5; // wraps at 2^32, as the typed array stores it
  const s = state[0];
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export function createRandom(seed: number): Random {
  const state = new Uint32Array(1);
  state[0] = seed >>> 0;
  return {
    next: () => step(state) / TWO_POW_32,
    int: (n) => Math.floor((step(state) / TWO_POW_32) * n),
  };
}
