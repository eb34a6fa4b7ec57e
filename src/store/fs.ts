/**
 * The file-system seam of the store: the few operations the event log and the state file need,
 * so that the same code runs on the real disk ({@link nodeFs}) and on a simulated one
 * (`createMemoryDisk` in `memory-disk.ts`) that can lose unsynced bytes or fail a write.
 *
 * Errors are Node-style: an `Error` with a string `code` (`ENOENT`, `ENOSPC`, `EIO`, ...).
 */
import { open as openFile, mkdir, readdir, rename, unlink } from 'node:fs/promises';

/** How a file is opened. */
export type OpenMode =
  /** Read only; the file must exist. */
  | 'read'
  /** Read and write at any position; the file must exist. */
  | 'write'
  /** Read and write; created empty, or emptied when it exists. */
  | 'create';

/** An open file. Writes are positional (never `O_APPEND`), so a failed write can be written over. */
export interface StoreFile {
  /** Reads up to `buffer.length` bytes at `position`; resolves with the count (0 at the end). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /** Writes all of `data` at `position` (partial writes are continued, not reported). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** `fdatasync`: the file's data (and its size) are on the disk when this resolves. */
  datasync(): Promise<void>;
  /** Cuts or extends the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** The file's current size in bytes. */
  size(): Promise<number>;
  close(): Promise<void>;
}

/** The file-system operations of the store. */
export interface StoreFs {
  open(path: string, mode: OpenMode): Promise<StoreFile>;
  /** Names (not paths) of the entries of `dir`. */
  readdir(dir: string): Promise<string[]>;
  /** Creates `dir` and its parents when missing. */
  mkdir(dir: string): Promise<void>;
  /** Atomically replaces `to` with `from`. Durable once the directory is synced. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /**
   * `fsync` of a directory: entries created, renamed or removed in it are on the disk when this
   * resolves (a new file's `fdatasync` does not make its directory entry durable).
   */
  syncDir(dir: string): Promise<void>;
}

/** The error code of a failed file-system call, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const FLAGS: Readonly<Record<OpenMode, string>> = { read: 'r', write: 'r+', create: 'w+' };

/** Directory fsync is not supported everywhere (Windows); there, renames are as durable as they get. */
const NO_DIR_SYNC = new Set(['EISDIR', 'EPERM', 'EINVAL', 'EACCES']);

/** The real file system, on `node:fs/promises`. */
export function nodeFs(): StoreFs {
  return {
    async open(path, mode) {
      const handle = await openFile(path, FLAGS[mode]);
      return {
        async read(buffer, position) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          return bytesRead;
        },
        async write(data, position) {
          let done = 0;
          while (done < data.length) {
            const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
            done += bytesWritten;
          }
        },
        datasync: () => handle.datasync(),
        truncate: (length) => handle.truncate(length),
        size: async () => (await handle.stat()).size,
        close: () => handle.close(),
      };
    },
    readdir: (dir) => readdir(dir),
    mkdir: async (dir) => {
      await mkdir(dir, { recursive: true });
    },
    rename: (from, to) => rename(from, to),
    unlink: (path) => unlink(path),
    async syncDir(dir) {
      let handle;
      try {
        handle = await openFile(dir, 'r');
        await handle.sync();
      } catch (error) {
        if (!NO_DIR_SYNC.has(errorCode(error) ?? '')) throw error;
      } finally {
        await handle?.close();
      }
    },
  };
}
