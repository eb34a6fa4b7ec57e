/**
 * Helpers of the NATS tests: a real nats-server per test file, a fake node port that records what
 * the bus does to it, and waits that resolve on the event proving a state (never sleeps).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { pino, type Logger } from 'pino';
import { createRealScheduler, type Scheduler } from '../../src/index.js';
import { joinBus, type Bus, type BusConnectionChange, type BusOptions } from '../../src/nats/bus.js';
import { FakePort } from './fake-port.js';
import { Cluster, type ClusterNode } from './cluster/cluster.js';
import { startNatsServer, type NatsServerOptions, type RunningNatsServer } from '../../src/nats/server.js';

/** A pino logger for the bus under test: silent unless MODACTOR_TEST_LOG names a level. */
export function testLogger(): Logger {
  return pino({ level: process.env['MODACTOR_TEST_LOG'] ?? 'silent' }, pino.destination(2));
}

/**
 * Starts a real nats-server for the test file (obtained by the project's own code: NATS_SERVER_BIN,
 * the cache, or a download; when none can be had, the start fails loudly with how to provide one)
 * and disposes of it afterwards.
 */
export function useNatsServer(options: NatsServerOptions = {}): { readonly server: RunningNatsServer } {
  let server: RunningNatsServer | undefined;
  beforeAll(async () => {
    server = await startNatsServer(options);
  }, 180_000);
  afterAll(async () => {
    await server?.dispose();
  });
  return {
    get server(): RunningNatsServer {
      if (server === undefined) throw new Error('the nats-server of this file did not start (see the beforeAll error above)');
      return server;
    },
  };
}

/**
 * Three nodes `a`, `b` and `c` in processes of their own on the file's server (cluster/), started
 * before the file's tests (each knowing the others' sinks) and killed after them.
 */
export function useCluster(nats: { readonly server: RunningNatsServer }, prefix: string): { readonly cluster: Cluster; readonly a: ClusterNode; readonly b: ClusterNode; readonly c: ClusterNode } {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = new Cluster({ url: nats.server.url, prefix });
    const nodes = await Promise.all(['a', 'b', 'c'].map((id) => (cluster as Cluster).start(id)));
    await cluster.until(() => nodes.every((n) => n.registry.length === 3));
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });
  const started = (): Cluster => {
    if (cluster === undefined) throw new Error('the cluster of this file did not start (see the beforeAll error above)');
    return cluster;
  };
  return {
    get cluster() {
      return started();
    },
    // The node of each id now (a node killed and started again is the new one).
    get a() {
      return started().node('a');
    },
    get b() {
      return started().node('b');
    },
    get c() {
      return started().node('c');
    },
  };
}

/** Waits for the bus's next connection change of `type`. */
export function nextConnection(bus: Bus, type: BusConnectionChange['type']): Promise<BusConnectionChange> {
  return new Promise((resolve) => {
    const stop = bus.onConnection((change) => {
      if (change.type !== type) return;
      stop();
      resolve(change);
    });
  });
}

/** Short timings so fault tests finish quickly. */
export const FAST: Partial<BusOptions> = {
  heartbeatMs: 100,
  deadlineMs: 600,
  connection: { reconnectTimeWaitMs: 100, pingIntervalMs: 250, maxPingOut: 2 },
  durable: { ackTimeoutMs: 1000 },
  closeTimeoutMs: 2000,
};

/** Joins a fake node to the bus on `url` with the real scheduler. */
export async function fakeNode(nodeId: string, url: string, options: Partial<BusOptions> = {}): Promise<{ port: FakePort; bus: Bus }> {
  const port = new FakePort(nodeId);
  const bus = await joinBus(port, { servers: url, scheduler: realScheduler(), logger: testLogger(), ...FAST, ...options });
  return { port, bus };
}

/** The real scheduler (the bus's heartbeats and deadlines run on it). */
export function realScheduler(): Scheduler {
  return createRealScheduler();
}

export { FakePort, block, type Injected } from './fake-port.js';

/** A bus node in a child process (fixtures/bus-node.ts). */
export interface ChildNode {
  readonly proc: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix` (from now on). */
  line(prefix: string): Promise<string>;
  send(command: string): void;
  /** SIGKILL, and resolves once it exited. */
  kill(): Promise<void>;
}

/** Starts fixtures/bus-node.ts with `args`; resolves once it printed `ready`. */
export async function spawnBusNode(args: readonly string[]): Promise<ChildNode> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const script = fileURLToPath(new URL('./fixtures/bus-node.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', tsx, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once('exit', () => {
    exited = true;
    resolve();
  }));
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const i = waiters.findIndex((w) => text.startsWith(w.prefix));
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(text);
  });
  const child: ChildNode = {
    proc,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve });
        void exit.then(() => reject(new Error(`the bus node exited before printing "${prefix}"`)));
      }),
    send: (command) => proc.stdin?.write(`${command}\n`),
    async kill() {
      if (!exited) proc.kill('SIGKILL');
      await exit;
    },
  };
  await child.line('ready');
  return child;
}
