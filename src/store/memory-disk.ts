/**
 * A simulated disk for tests and the simulator: files and directories in memory, with the two
 * states a real disk has (what a process sees, and what is durable) kept apart, so that a test can
 * cut the power and see only what was `fdatasync`ed (file data) and `fsync`ed (directory entries).
 *
 * A process reaches the disk through a mount ({@link MemoryDisk.mount}, a {@link StoreFs}). A crash
 * (of the process or of the power) kills every mount: their calls in flight and later never settle,
 * as nothing runs in a dead process. A new mount is the restarted process.
 *
 * The model is strict, as POSIX allows: a new file's directory entry is durable only after the
 * directory is synced, a rename likewise, and a power loss keeps no unsynced byte unless told to
 * (`keepUnsynced`, to model a page written back early and a record torn across pages).
 */
import { dirname } from 'node:path';
import type { OpenMode, StoreFile, StoreFs } from './fs.js';

/** File-system calls a fault can be injected into. */
export type FsOperation = 'open' | 'mkdir' | 'read' | 'write' | 'datasync' | 'truncate' | 'stat' | 'close' | 'rename' | 'unlink' | 'syncDir' | 'readdir';

/** A failure injected into the next calls of one operation. */
export interface DiskFault {
  readonly op: FsOperation;
  readonly code: 'ENOSPC' | 'EIO';
  /** How many calls fail (default 1; `Infinity` until {@link MemoryDisk.clearFaults}). */
  readonly times?: number;
  /** For `write`: bytes written before the failure (default 0), as a disk filling up would. */
  readonly partialBytes?: number;
  /** Only calls on this path (a file, or the directory for `readdir`/`syncDir`). Default: any. */
  readonly path?: string;
}

/** Options of {@link MemoryDisk.powerLoss}. */
export interface PowerLossOptions {
  /**
   * For a file whose unsynced change is an append: how many of its unsynced bytes the disk had
   * written anyway (default 0: every unsynced byte is lost). Other unsynced changes are lost whole.
   */
  readonly keepUnsynced?: (path: string, unsyncedBytes: number) => number;
}

/** Calls that reached the disk, per operation (failed ones included). */
export type DiskCounts = Record<FsOperation, number>;

export interface MemoryDisk {
  /** A new process's view of the disk. */
  mount(): StoreFs;
  /** The process dies (SIGKILL): mounts die, the page cache survives (every written byte stays). */
  crash(): void;
  /** The machine loses power: mounts die, unsynced bytes and directory changes are lost. */
  powerLoss(options?: PowerLossOptions): void;
  /** Makes the next calls of `fault.op` fail with `fault.code`. */
  injectFault(fault: DiskFault): void;
  clearFaults(): void;
  /** Calls per operation since the disk was made. */
  readonly counts: Readonly<DiskCounts>;
  /** What a process would read now at `path` (the page cache), or undefined when absent. */
  read(path: string): Uint8Array | undefined;
  /** Replaces or creates a file's content, durable at once (to prepare a damaged file in a test). */
  write(path: string, data: Uint8Array): void;
  /** Names in `dir` as a process sees them now. */
  list(dir: string): string[];
  /**
   * With `gated: true`, calls wait at a gate until released here, one at a time in call order:
   * releases up to `n` (default 1), letting each one's continuation run, and resolves with how many
   * were released.
   */
  release(n?: number): Promise<number>;
  /** Calls waiting at the gate. */
  readonly waiting: number;
}

/** Options of {@link createMemoryDisk}. */
export interface MemoryDiskOptions {
  /** Calls wait until {@link MemoryDisk.release}d (to crash between any two of them). Default false. */
  readonly gated?: boolean;
}

/** A file's bytes twice: as the page cache holds them, and as they are on the disk. */
class Inode {
  data = new Uint8Array(64);
  length = 0;
  synced = new Uint8Array(0);
  syncedLength = 0;
  /** Lowest offset changed since the last sync (`Infinity` when clean). */
  dirtyFrom = Number.POSITIVE_INFINITY;

  write(bytes: Uint8Array, position: number): void {
    const end = position + bytes.length;
    this.reserve(end);
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(bytes, position);
    this.length = Math.max(this.length, end);
    this.dirtyFrom = Math.min(this.dirtyFrom, position);
  }

  truncate(length: number): void {
    this.reserve(length);
    if (length > this.length) this.data.fill(0, this.length, length);
    this.dirtyFrom = Math.min(this.dirtyFrom, this.length, length);
    this.length = length;
  }

  sync(): void {
    if (this.synced.length < this.length) {
      const next = new Uint8Array(Math.max(this.length, this.synced.length * 2));
      next.set(this.synced.subarray(0, this.syncedLength));
      this.synced = next;
    }
    const from = Math.min(this.dirtyFrom, this.length);
    this.synced.set(this.data.subarray(from, this.length), from);
    this.syncedLength = this.length;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
  }

  /** Back to the durable state, keeping `keep` unsynced appended bytes. */
  loseUnsynced(keep: number): void {
    const appendOnly = this.dirtyFrom >= this.syncedLength;
    const kept = appendOnly ? Math.min(Math.max(0, Math.floor(keep)), this.length - this.syncedLength) : 0;
    if (kept > 0) {
      const end = this.syncedLength + kept;
      if (this.synced.length < end) {
        const next = new Uint8Array(end);
        next.set(this.synced.subarray(0, this.syncedLength));
        this.synced = next;
      }
      this.synced.set(this.data.subarray(this.syncedLength, end), this.syncedLength);
      this.syncedLength = end;
    }
    this.data = new Uint8Array(Math.max(64, this.syncedLength));
    this.data.set(this.synced.subarray(0, this.syncedLength));
    this.length = this.syncedLength;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
  }

  unsyncedAppend(): number {
    return this.dirtyFrom >= this.syncedLength ? this.length - this.syncedLength : 0;
  }

  contents(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  private reserve(size: number): void {
    if (size <= this.data.length) return;
    const next = new Uint8Array(Math.max(size, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

interface Directory {
  entries: Map<string, Inode>;
  synced: Map<string, Inode>;
}

function fsError(code: string, syscall: string, path: string): Error {
  const messages: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EEXIST: 'file already exists',
    ENOSPC: 'no space left on device',
    EIO: 'i/o error',
    EBADF: 'bad file descriptor',
  };
  return Object.assign(new Error(`${code}: ${messages[code] ?? 'error'}, ${syscall} '${path}'`), { code, syscall, path });
}

const never = new Promise<never>(() => undefined);

/**
 * Creates an empty simulated disk.
 *
 * @example
 * ```ts
 * const disk = createMemoryDisk();
 * const log = await openEventLog({ dir: '/store', fs: disk.mount(), scheduler });
 * log.append(event);
 * disk.powerLoss();                    // the append was not flushed: it is gone
 * const again = await openEventLog({ dir: '/store', fs: disk.mount(), scheduler });
 * ```
 */
export function createMemoryDisk(options: MemoryDiskOptions = {}): MemoryDisk {
  const dirs = new Map<string, Directory>();
  const faults: { fault: DiskFault; left: number }[] = [];
  const counts: DiskCounts = { open: 0, mkdir: 0, read: 0, write: 0, datasync: 0, truncate: 0, stat: 0, close: 0, rename: 0, unlink: 0, syncDir: 0, readdir: 0 };
  const gate: (() => void)[] = [];
  let generation = 0;

  const directory = (dir: string, syscall: string): Directory => {
    const found = dirs.get(dir);
    if (found === undefined) throw fsError('ENOENT', syscall, dir);
    return found;
  };
  const takeFault = (op: FsOperation, path: string): DiskFault | undefined => {
    const i = faults.findIndex((f) => f.fault.op === op && (f.fault.path === undefined || f.fault.path === path));
    if (i < 0) return undefined;
    const entry = faults[i] as { fault: DiskFault; left: number };
    if (--entry.left <= 0) faults.splice(i, 1);
    return entry.fault;
  };

  /** Directories are durable at once: the log's own directory is all it creates. */
  const makeDirs = (dir: string): void => {
    for (let d = dir; !dirs.has(d); d = dirname(d)) dirs.set(d, { entries: new Map(), synced: new Map() });
  };

  const mount = (): StoreFs => {
    const born = generation;
    /** Runs `effect` as one disk call: counted, gated, failed by a fault, or never settling when dead. */
    const call = async <T>(op: FsOperation, path: string, effect: (fault: DiskFault | undefined) => T): Promise<T> => {
      if (born !== generation) return never;
      if (options.gated === true) await new Promise<void>((resolve) => gate.push(resolve));
      else await Promise.resolve();
      if (born !== generation) return never;
      counts[op]++;
      const fault = takeFault(op, path);
      if (fault !== undefined && op !== 'write') throw fsError(fault.code, op, path);
      return effect(fault);
    };

    const handle = (inode: Inode, path: string): StoreFile => {
      let closed = false;
      const live = (syscall: string): void => {
        if (closed) throw fsError('EBADF', syscall, path);
      };
      return {
        read: (buffer, position) =>
          call('read', path, () => {
            live('read');
            const n = Math.max(0, Math.min(buffer.length, inode.length - position));
            buffer.set(inode.data.subarray(position, position + n));
            return n;
          }),
        write: (data, position) =>
          call('write', path, (fault) => {
            live('write');
            if (fault !== undefined) {
              inode.write(data.subarray(0, Math.min(data.length, fault.partialBytes ?? 0)), position);
              throw fsError(fault.code, 'write', path);
            }
            inode.write(data, position);
          }),
        datasync: () =>
          call('datasync', path, () => {
            live('fdatasync');
            inode.sync();
          }),
        truncate: (length) =>
          call('truncate', path, () => {
            live('ftruncate');
            inode.truncate(length);
          }),
        size: () =>
          call('stat', path, () => {
            live('fstat');
            return inode.length;
          }),
        close: () =>
          call('close', path, () => {
            closed = true;
          }),
      };
    };

    return {
      open: (path, mode: OpenMode) =>
        call('open', path, () => {
          const dir = directory(dirname(path), 'open');
          let inode = dir.entries.get(path);
          if (inode === undefined) {
            if (mode !== 'create') throw fsError('ENOENT', 'open', path);
            inode = new Inode();
            dir.entries.set(path, inode);
          } else if (mode === 'create') {
            inode.truncate(0);
          }
          return handle(inode, path);
        }),
      readdir: (dir) =>
        call('readdir', dir, () => [...directory(dir, 'scandir').entries.keys()].map((p) => p.slice(dir.length + 1)).sort()),
      mkdir: (dir) => call('mkdir', dir, () => makeDirs(dir)),
      rename: (from, to) =>
        call('rename', from, () => {
          const source = directory(dirname(from), 'rename');
          const inode = source.entries.get(from);
          if (inode === undefined) throw fsError('ENOENT', 'rename', from);
          const target = directory(dirname(to), 'rename');
          source.entries.delete(from);
          target.entries.set(to, inode);
        }),
      unlink: (path) =>
        call('unlink', path, () => {
          const dir = directory(dirname(path), 'unlink');
          if (!dir.entries.delete(path)) throw fsError('ENOENT', 'unlink', path);
        }),
      syncDir: (dir) =>
        call('syncDir', dir, () => {
          const d = directory(dir, 'fsync');
          d.synced = new Map(d.entries);
        }),
    };
  };

  const kill = (): void => {
    generation++;
    // Calls waiting at the gate belong to dead mounts: let them see it and hang.
    for (const resolve of gate.splice(0)) resolve();
  };

  return {
    mount,
    crash: kill,
    powerLoss(opts = {}) {
      kill();
      const inodes = new Map<Inode, string>();
      for (const d of dirs.values()) {
        d.entries = new Map(d.synced);
        for (const [path, inode] of d.entries) inodes.set(inode, path);
      }
      for (const [inode, path] of inodes) inode.loseUnsynced(opts.keepUnsynced?.(path, inode.unsyncedAppend()) ?? 0);
    },
    injectFault(fault) {
      faults.push({ fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    counts,
    read(path) {
      return dirs.get(dirname(path))?.entries.get(path)?.contents();
    },
    write(path, data) {
      makeDirs(dirname(path));
      const dir = dirs.get(dirname(path)) as Directory;
      const inode = dir.entries.get(path) ?? new Inode();
      inode.truncate(0);
      inode.write(data, 0);
      inode.sync();
      dir.entries.set(path, inode);
      dir.synced.set(path, inode);
    },
    list(dir) {
      return [...(dirs.get(dir)?.entries.keys() ?? [])].map((p) => p.slice(dir.length + 1)).sort();
    },
    async release(n = 1) {
      let released = 0;
      while (released < n && gate.length > 0) {
        (gate.shift() as () => void)();
        released++;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return released;
    },
    get waiting() {
      return gate.length;
    },
  };
}
