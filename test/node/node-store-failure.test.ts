/**
 * The node's side of its store (src/node/node.ts): a store that cannot be opened fails the node
 * with one error naming why (its cause the store's), which every call then gets; a module with
 * replay is welcome on a node with a store, at load and at reload.
 */
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { createMemoryDisk, diskNode, drive, heights } from './support.js';

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code?: string; cause?: unknown },
  );
}

describe('a node whose store cannot be opened', () => {
  it('fails with one node-failed error naming the store\'s failure, which start, load and flush all get', async () => {
    const disk = createMemoryDisk();
    disk.injectFault({ op: 'mkdir', code: 'EIO' });
    const { node, scheduler } = diskNode(disk);
    const starting = node.start(); // called before the store's failure is known
    const failure = await drive(scheduler, rejection(starting));
    expect(failure).toMatchObject({ code: 'node-failed' });
    expect(failure.message).toMatch(/^The node failed: .*EIO.*; shut it down$/);
    expect(isModactorError(failure.cause, 'store-failed')).toBe(true);
    expect(await rejection(node.load(heights('m').module))).toBe(failure);
    expect(await rejection(node.events.flush())).toBe(failure);
    expect(node.status()).toMatchObject({ state: 'failed', started: false, failure: failure.message });
    await drive(scheduler, node.shutdown());
    expect(node.status().state).toBe('failed');
  });
});

describe('a node with a store', () => {
  it('loads and reloads a module with replay', async () => {
    const disk = createMemoryDisk();
    const { node, scheduler } = diskNode(disk);
    await drive(scheduler, node.load(heights('m', { replay: true }).module));
    const reloaded = await drive(scheduler, node.reload('m', heights('m', { replay: { fromSeq: 1 } }).module));
    expect(reloaded).toMatchObject({ name: 'm', state: 'running' });
    await drive(scheduler, node.shutdown());
  });
});
