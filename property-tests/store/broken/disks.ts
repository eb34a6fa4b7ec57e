/**
 * Deliberately broken disks for the event-log property: each lies about one durability call, as a
 * log that skipped that call would behave. The property must fail on every one; if one passes,
 * the property is too weak to catch a log that acknowledges before its data is durable.
 */
import type { StoreFs } from '../../../src/store/fs.js';

/** A broken mount made from a good one. */
export type Breakage = (fs: StoreFs) => StoreFs;

export const breakages: Record<string, Breakage> = {
  'fdatasync does nothing (a log that acknowledges before syncing its data)': (fs) => ({
    ...fs,
    open: async (path, mode) => ({ ...(await fs.open(path, mode)), datasync: () => Promise.resolve() }),
  }),
  'the directory sync does nothing (a log that acknowledges a new segment before its name is durable)': (fs) => ({
    ...fs,
    syncDir: () => Promise.resolve(),
  }),
};
