/**
 * The host's end of the connection to one module child: a child process on a private duplex pipe
 * (NDJSON, frames size-limited before parsing), or a worker thread (message passing). Both deliver
 * the child's messages as strings for the session to validate. @internal
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { childLoader, currentLoaderEnvironment } from './child-loader.js';
import { FrameReader } from './frame-reader.js';
import type { NormalizedManifest } from './manifest.js';
import { CHANNEL_FD, CHANNEL_FD_ENV, PROTOCOL_VERSION, type HostMessage } from './protocol.js';

/** How the child ended. */
export interface ChannelExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** What a channel reports to its session. Each callback may run at any time outside actor turns. */
export interface ChannelHandlers {
  /** One message from the child, not yet parsed nor validated. */
  onFrame(raw: string): void;
  /** The child sent something that is not a message at all (oversized frame, non-string). */
  onViolation(detail: string): void;
  /** The child could not be started, or the worker threw. */
  onError(message: string): void;
  /** Exactly once: the child is gone and everything it sent has been delivered. */
  onClose(exit: ChannelExit): void;
}

/** The host's end of a module connection. */
export interface HostChannel {
  /** The child process id (process isolation). */
  readonly pid: number | undefined;
  /** The worker's thread id (worker isolation). */
  readonly threadId: number | undefined;
  /** Sends one message; false when the channel is already closed. Never throws. */
  send(message: HostMessage): boolean;
  /** Ends the child at once: SIGKILL, or `worker.terminate()`. */
  kill(): void;
  /** Stops delivering the child's frames (after a violation). */
  stopReading(): void;
}

/** The host's pending output after which it stops reading the child until the output drains. */
const MAX_WRITE_BACKLOG = 8 * 1024 * 1024;

/** Opens the channel the manifest asks for. */
export function openChannel(manifest: NormalizedManifest, handlers: ChannelHandlers): HostChannel {
  return manifest.isolation === 'worker' ? openWorkerChannel(manifest, handlers) : openProcessChannel(manifest, handlers);
}

/**
 * Spawns `node [loader flags] [execArgv] <entry> [args]` (child-loader.ts) with the channel on
 * fd 3: a duplex pipe the host reads with a {@link FrameReader}. Not fork's IPC channel: that one
 * parses whatever the child writes, however long, before any code of ours could look at its size.
 */
export function openProcessChannel(manifest: NormalizedManifest, handlers: ChannelHandlers): HostChannel {
  let closed = false;
  const close = (exit: ChannelExit): void => {
    if (closed) return;
    closed = true;
    handlers.onClose(exit);
  };
  let execArgv: string[];
  try {
    const loader = childLoader(currentLoaderEnvironment(manifest.typescript), manifest.entryPath);
    execArgv = [...loader.flags, ...(loader.kind === 'tsx' ? ['--import', loader.loader] : []), ...manifest.execArgv];
  } catch (error) {
    handlers.onError(error instanceof Error ? error.message : String(error));
    close({ code: null, signal: null });
    return { pid: undefined, threadId: undefined, send: () => false, kill: () => undefined, stopReading: () => undefined };
  }
  const child: ChildProcess = spawn(process.execPath, [...execArgv, manifest.entryPath, ...manifest.args], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, ...manifest.env, [CHANNEL_FD_ENV]: String(CHANNEL_FD) },
  });
  const socket = child.stdio[CHANNEL_FD] as Socket | null | undefined;
  const reader = new FrameReader(
    manifest.maxMessageBytes,
    (frame) => handlers.onFrame(frame),
    (bytes) => handlers.onViolation(`a message of more than ${bytes - 1} bytes exceeds the limit of ${manifest.maxMessageBytes}`),
  );
  let paused = false;
  if (socket !== null && socket !== undefined) {
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    // EPIPE/ECONNRESET when the child dies: its exit is reported by the process itself.
    socket.on('error', () => undefined);
    socket.on('drain', () => {
      if (paused) {
        paused = false;
        socket.resume();
      }
    });
  }
  child.on('error', (error) => {
    if (child.pid === undefined) {
      handlers.onError(error.message);
      close({ code: null, signal: null });
    }
  });
  // 'close' comes after 'exit' once the child's stdio, our channel included, is fully read.
  child.on('close', (code, signal) => close({ code, signal }));
  return {
    pid: child.pid,
    threadId: undefined,
    send(message) {
      if (closed || socket === null || socket === undefined || socket.destroyed || !socket.writable) return false;
      socket.write(`${JSON.stringify(message)}\n`);
      if (!paused && socket.writableLength > MAX_WRITE_BACKLOG) {
        // The child does not read what we send: stop reading what it sends until it does.
        paused = true;
        socket.pause();
      }
      return true;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stopReading() {
      reader.stop();
    },
  };
}

/** The module a worker starts with: loads the entry (through tsx for TypeScript). */
const WORKER_BOOTSTRAP = [
  "import { workerData } from 'node:worker_threads';",
  'const boot = workerData.modactor;',
  'if (boot.tsx !== null) { const { tsImport } = await import(boot.tsx); await tsImport(boot.entry, boot.entry); }',
  'else { await import(boot.entry); }',
].join('\n');
const WORKER_BOOTSTRAP_URL = new URL(`data:text/javascript,${encodeURIComponent(WORKER_BOOTSTRAP)}`);

/** Starts the module in a worker thread; the worker posts its messages as JSON strings. */
export function openWorkerChannel(manifest: NormalizedManifest, handlers: ChannelHandlers): HostChannel {
  let closed = false;
  let reading = true;
  let worker: Worker;
  try {
    const loader = childLoader(currentLoaderEnvironment(manifest.typescript), manifest.entryPath);
    worker = new Worker(WORKER_BOOTSTRAP_URL, {
      argv: [...manifest.args],
      ...(loader.flags.length === 0 ? {} : { execArgv: [...process.execArgv, ...loader.flags] }),
      workerData: {
        modactor: {
          protocol: PROTOCOL_VERSION,
          entry: pathToFileURL(manifest.entryPath).href,
          tsx: loader.kind === 'tsx' ? loader.api : null,
        },
      },
    });
  } catch (error) {
    handlers.onError(error instanceof Error ? error.message : String(error));
    handlers.onClose({ code: null, signal: null });
    return { pid: undefined, threadId: undefined, send: () => false, kill: () => undefined, stopReading: () => undefined };
  }
  worker.on('message', (message: unknown) => {
    if (!reading) return;
    if (typeof message === 'string') handlers.onFrame(message);
    else handlers.onViolation(`expected a JSON string message, got ${message === null ? 'null' : typeof message}`);
  });
  worker.on('messageerror', () => {
    if (reading) handlers.onViolation('a message that could not be deserialized');
  });
  worker.on('error', (error) => handlers.onError(error.message));
  worker.on('exit', (code) => {
    if (closed) return;
    closed = true;
    handlers.onClose({ code, signal: null });
  });
  return {
    pid: undefined,
    threadId: worker.threadId,
    send(message) {
      if (closed) return false;
      worker.postMessage(message);
      return true;
    },
    kill() {
      if (!closed) void worker.terminate();
    },
    stopReading() {
      reading = false;
    },
  };
}
