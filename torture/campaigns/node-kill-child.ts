/**
 * A node process for the node-kill campaign: a node with a store on real files and one module with
 * replay, publishing NewBlock events and flushing, until it is SIGKILLed.
 *
 *   node --import tsx node-kill-child.ts <dir> <cycle> <first height> run    publish and flush without end
 *   node --import tsx node-kill-child.ts <dir> <cycle> <first height> drain  let the module catch up, then shut down
 *
 * Each block's hash holds the cycle that published it and its height, so that an event is known by
 * them even when a crash lost it and its height (and maybe its seq) is published again.
 *
 * It prints, one line each, with a blocking write to fd 1 ({@link line}: process.stdout on a pipe is
 * asynchronous on POSIX, and what it still queued in memory when the process is killed would be
 * lost: the parent would miss handlings that happened), so a line printed is a line the parent
 * reads even when the process is killed right after:
 *   ready                          the store is open and the module loaded (it may be replaying)
 *   handled <seq> <height> <cycle> the module's handler took that event (printed before it returns)
 *   flushed <height>               a flush resolved: every height up to this one is acknowledged
 *   drained                        (drain) the module handled everything, the node shut down
 */
import { writeSync } from 'node:fs';
import { createNode, defineModule, type NodeEvent } from '../../src/index.js';

/** Writes a line to fd 1 before returning (a full pipe is waited for, never queued in memory). */
function line(text: string): void {
  let rest = Buffer.from(`${text}\n`);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(1, rest));
    } catch (error) {
      // fd 1 may be non-blocking (a pipe some code opened as a stream): wait for the reader.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

const [dir, cycle, first, mode] = process.argv.slice(2);
if (dir === undefined || cycle === undefined || first === undefined || (mode !== 'run' && mode !== 'drain')) {
  throw new Error(`Expected <dir> <cycle> <first height> run|drain, got ${process.argv.slice(2).join(' ')}`);
}
const BATCH = 200;
let height = Number(first) - 1;
const hash = (n: number): string => Number(cycle).toString(16).padStart(8, '0') + n.toString(16).padStart(56, '0');
const block = (n: number): NodeEvent => ({ type: 'NewBlock', payload: { blockHash: hash(n), height: n } });

let waitingFor: { height: number; resolve: () => void } | null = null;
const node = createNode({ store: { dir } });
await node.load(
  defineModule({
    name: 'replayer',
    version: '1.0.0',
    subscribe: ['NewBlock'],
    replay: true,
    handle(event) {
      if (event.type !== 'NewBlock') return;
      const published = parseInt(event.payload.blockHash.slice(0, 8), 16);
      line(`handled ${event.meta?.seq ?? 0} ${event.payload.height} ${published}`);
      if (waitingFor !== null && event.payload.height >= waitingFor.height) waitingFor.resolve();
    },
  }),
);
await node.start();
line('ready');

if (mode === 'drain') {
  // One more block: the module handles it after everything it was owed (one order).
  const last = ++height;
  const caughtUp = new Promise<void>((resolve) => (waitingFor = { height: last, resolve }));
  node.events.publish(block(last));
  await node.events.flush();
  line(`flushed ${last}`);
  await caughtUp;
  await node.shutdown();
  line('drained');
} else {
  for (;;) {
    for (let i = 0; i < BATCH; i++) node.events.publish(block(++height));
    const flushed = height;
    await node.events.flush();
    line(`flushed ${flushed}`);
  }
}
