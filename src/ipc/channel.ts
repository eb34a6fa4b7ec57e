/**
 * The host's end of the connection to one module child: a child process on a private duplex pipe
 * (NDJSON, frames size-limited as they are read), or a worker thread (message passing, JSON
 * strings both ways). Both deliver the child's messages as strings for the session to check and
 * parse, and the child's stderr as lines for the session to log. @internal
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { childLoader, currentLoaderEnvironment } from './child-loader.js';
import { LineSplitter } from './line-splitter.js';
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
  /** One line the child wrote to its stderr, at most {@link MAX_STDERR_LINE_BYTES} long. */
  onStderr(line: string): void;
  /** Exactly once: the child is gone and everything it sent has been delivered. */
  onClose(exit: ChannelExit): void;
}

/** The host's end of a module connection. */
export interface HostChannel {
  /** The child process id (process isolation). */
  readonly pid: number | undefined;
  /** The worker's thread id (worker isolation). */
  readonly threadId: number | undefined;
  /** Sends one frame: a JSON text without its newline. False when the channel is closed. Never throws. */
  write(frame: string): boolean;
  /** Sends one message; false when the channel is closed or the message cannot be serialized. Never throws. */
  send(message: HostMessage): boolean;
  /** Output written but not yet taken by the operating system (0 for a worker), in UTF-16 code units. */
  pendingOutput(): number;
  /** Output taken by the operating system so far: it grows while the child reads. */
  flushedOutput(): number;
  /** Bytes of the child's frames examined so far (each byte received once). */
  bytesRead(): number;
  /** Ends the child at once: SIGKILL, or `worker.terminate()`. */
  kill(): void;
  /** Stops delivering the child's frames (after a violation). */
  stopReading(): void;
}

/** A line of a child's stderr longer than this is cut (the rest of it is skipped). */
export const MAX_STDERR_LINE_BYTES = 8 * 1024;

/** The JSON text of a message, or undefined when it cannot be serialized. Never throws. */
export function serializeMessage(message: HostMessage): string | undefined {
  try {
    return JSON.stringify(message);
  } catch {
    return undefined;
  }
}

/** A channel that never opened. */
const DEAD_CHANNEL: HostChannel = {
  pid: undefined,
  threadId: undefined,
  write: () => false,
  send: () => false,
  pendingOutput: () => 0,
  flushedOutput: () => 0,
  bytesRead: () => 0,
  kill: () => undefined,
  stopReading: () => undefined,
};

/** Feeds a child's stderr, line by line, to `onStderr`; keeps draining it so the child never blocks on it. */
function readStderr(stream: Readable | null | undefined, handlers: ChannelHandlers): void {
  if (stream === null || stream === undefined) return;
  const lines = new LineSplitter((line) => handlers.onStderr(line), { maxBytes: MAX_STDERR_LINE_BYTES, overlong: 'truncate' });
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('error', () => undefined);
}

/** Opens the channel the manifest asks for. */
export function openChannel(manifest: NormalizedManifest, handlers: ChannelHandlers): HostChannel {
  return manifest.isolation === 'worker' ? openWorkerChannel(manifest, handlers) : openProcessChannel(manifest, handlers);
}

/**
 * Spawns `node [loader flags] [execArgv] <entry> [args]` (child-loader.ts) with the channel on
 * fd 3: a duplex pipe the host reads with a size-limited {@link LineSplitter}. Not fork's IPC
 * channel: that one parses whatever the child writes, however long, before any code of ours could
 * look at its size. The child's stderr is piped to the host (re-emitted through its logger); its
 * stdout is the host's.
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
    return DEAD_CHANNEL;
  }
  const child: ChildProcess = spawn(process.execPath, [...execArgv, manifest.entryPath, ...manifest.args], {
    stdio: ['ignore', 'inherit', 'pipe', 'pipe'],
    env: { ...process.env, ...manifest.env, [CHANNEL_FD_ENV]: String(CHANNEL_FD) },
  });
  const socket = child.stdio[CHANNEL_FD] as Socket | null | undefined;
  const reader = new LineSplitter((frame) => handlers.onFrame(frame), {
    maxBytes: manifest.maxMessageBytes,
    onOversize: (bytes) => handlers.onViolation(`a message of more than ${bytes - 1} bytes exceeds the limit of ${manifest.maxMessageBytes}`),
  });
  readStderr(child.stderr, handlers);
  let paused = false;
  let written = 0;
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
  const write = (frame: string): boolean => {
    if (closed || socket === null || socket === undefined || socket.destroyed || !socket.writable) return false;
    socket.write(`${frame}\n`);
    written += frame.length + 1;
    if (!paused && socket.writableLength > manifest.maxInFlightBytes) {
      // The child does not read what we send: stop reading what it sends until it does, so that
      // answering its messages cannot grow the host's memory either.
      paused = true;
      socket.pause();
    }
    return true;
  };
  return {
    pid: child.pid,
    threadId: undefined,
    write,
    send(message) {
      const frame = serializeMessage(message);
      return frame !== undefined && write(frame);
    },
    pendingOutput: () => socket?.writableLength ?? 0,
    flushedOutput: () => written - (socket?.writableLength ?? 0),
    bytesRead: () => reader.scanned,
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

/** Starts the module in a worker thread; both sides post JSON strings. */
export function openWorkerChannel(manifest: NormalizedManifest, handlers: ChannelHandlers): HostChannel {
  let closed = false;
  let reading = true;
  let read = 0;
  let worker: Worker;
  try {
    const loader = childLoader(currentLoaderEnvironment(manifest.typescript), manifest.entryPath);
    worker = new Worker(WORKER_BOOTSTRAP_URL, {
      argv: [...manifest.args],
      stderr: true,
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
    return DEAD_CHANNEL;
  }
  readStderr(worker.stderr, handlers);
  worker.on('message', (message: unknown) => {
    if (!reading) return;
    if (typeof message === 'string') {
      read += message.length;
      handlers.onFrame(message);
    } else {
      handlers.onViolation(`expected a JSON string message, got ${message === null ? 'null' : typeof message}`);
    }
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
  const write = (frame: string): boolean => {
    if (closed) return false;
    worker.postMessage(frame);
    return true;
  };
  return {
    pid: undefined,
    threadId: worker.threadId,
    write,
    send(message) {
      const frame = serializeMessage(message);
      return frame !== undefined && write(frame);
    },
    pendingOutput: () => 0,
    flushedOutput: () => 0,
    bytesRead: () => read,
    kill() {
      if (!closed) void worker.terminate();
    },
    stopReading() {
      reading = false;
    },
  };
}
