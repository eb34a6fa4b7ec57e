/** Heap measurement for the memory cases (the process must run with `node --expose-gc`). */

/** Collects garbage twice (what one collection frees can make more collectable), then reads the heap in use. */
export function collectedHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('this bench case needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
