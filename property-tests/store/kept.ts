/** The durability check both store properties share. */

/**
 * What a log holds after a crash, against what was put in it: in that order, each once, nothing
 * else, and every acknowledged item kept. Throws naming the first thing wrong.
 */
export function checkKept(put: readonly number[], held: readonly number[], acked: ReadonlySet<number>, when: string): void {
  const position = new Map(put.map((item, i) => [item, i]));
  let last = -1;
  for (const item of held) {
    const at = position.get(item);
    if (at === undefined) throw new Error(`${when}: ${item} was never put in the log (or is a duplicate of a recovered one)`);
    if (at <= last) throw new Error(`${when}: ${item} out of order or twice`);
    last = at;
  }
  const kept = new Set(held);
  const lost = [...acked].filter((item) => !kept.has(item));
  if (lost.length > 0) throw new Error(`${when}: acknowledged items lost: ${lost.slice(0, 10).join(', ')}`);
}
