/**
 * A real `nats-server` for tests, benchmarks and local clusters: obtained without root and started
 * on a random loopback port with JetStream on.
 *
 * Where the binary comes from, in order:
 * 1. `NATS_SERVER_BIN`, when set (it must run and be 2.10 or newer; no silent fallback);
 * 2. the cache, `${MODACTOR_TOOLS_DIR:-$HOME/.cache/modactor-tools}/nats-server/<version>/nats-server`;
 * 3. Debian's `nats-server` package of the suite `trixie` (2.10.x; bookworm's 2.9 is too old),
 *    fetched with `apt-get download` against a private source list that names the machine's own
 *    Debian mirror, with apt's lists in the cache folder, and unpacked with `dpkg-deb -x`: no root,
 *    and the system's apt setup is never touched.
 *
 * This is real I/O (child processes, the file system, the wall clock for start-up deadlines), like
 * the process-module host: it does not run on a node's scheduler. @internal
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const run = promisify(execFile);

/** The oldest server the bus is built and tested against (Debian bookworm's 2.9.10 is refused). */
export const MIN_NATS_SERVER_VERSION = '2.10.0';

/** The Debian suite whose `nats-server` package is new enough and runs on bookworm too. */
const DEBIAN_SUITE = 'trixie';

/** A nats-server binary and its version. */
export interface NatsServerBinary {
  readonly path: string;
  readonly version: string;
  /** Where it came from: `NATS_SERVER_BIN`, the cache, or a download just now. */
  readonly source: 'env' | 'cache' | 'download';
}

/** Options of {@link obtainNatsServer}. */
export interface ObtainOptions {
  /** The environment to read `NATS_SERVER_BIN`, `MODACTOR_TOOLS_DIR` and `HOME` from, and to run apt in. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Progress lines (the download takes a few seconds). */
  readonly onProgress?: (line: string) => void;
}

/** How to provide a server by hand, said in every failure. */
function howToProvide(cacheDir: string): string {
  return (
    'Provide a nats-server 2.10 or newer with JetStream: set NATS_SERVER_BIN=/path/to/nats-server ' +
    '(a release binary from https://github.com/nats-io/nats-server/releases, or `go install github.com/nats-io/nats-server/v2@latest`), ' +
    `or place it at ${join(cacheDir, '<version>', 'nats-server')}.`
  );
}

/** Thrown when no usable server can be found or fetched; its message says how to provide one. */
export class NatsServerUnavailable extends Error {
  override readonly name = 'NatsServerUnavailable';
}

/** The folder holding cached binaries, one sub-folder per version. */
export function natsServerCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const tools = env['MODACTOR_TOOLS_DIR'] ?? join(env['HOME'] ?? homedir(), '.cache', 'modactor-tools');
  return join(tools, 'nats-server');
}

/** `[major, minor, patch]` of `v2.10.27` / `2.10.27`, or null. */
export function parseVersion(text: string): [number, number, number] | null {
  const match = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (match === null) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** True when version `a` is at least `b` (both as `x.y.z`). */
export function versionAtLeast(a: string, b: string): boolean {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x === null || y === null) return false;
  for (let i = 0; i < 3; i++) {
    if ((x[i] as number) !== (y[i] as number)) return (x[i] as number) > (y[i] as number);
  }
  return true;
}

/** Runs `<path> --version`; the version (`2.10.27`), or a reason it is unusable. */
async function probe(path: string): Promise<{ version: string } | { problem: string }> {
  let out: string;
  try {
    out = (await run(path, ['--version'], { timeout: 10_000 })).stdout;
  } catch (error) {
    return { problem: `${path} --version failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const version = parseVersion(out);
  if (version === null) return { problem: `${path} --version printed ${JSON.stringify(out.trim().slice(0, 80))}, not a version` };
  const text = version.join('.');
  if (!versionAtLeast(text, MIN_NATS_SERVER_VERSION)) {
    return { problem: `${path} is nats-server ${text}, older than ${MIN_NATS_SERVER_VERSION}` };
  }
  return { version: text };
}

/** The newest usable cached binary, if any. */
async function fromCache(cacheDir: string): Promise<NatsServerBinary | null> {
  let entries: string[];
  try {
    entries = await readdir(cacheDir);
  } catch {
    return null;
  }
  const versions = entries.filter((e) => /^\d+\.\d+\.\d+$/.test(e) && versionAtLeast(e, MIN_NATS_SERVER_VERSION));
  versions.sort((a, b) => (versionAtLeast(a, b) ? -1 : 1));
  for (const version of versions) {
    const path = join(cacheDir, version, 'nats-server');
    if (!existsSync(path)) continue;
    const result = await probe(path);
    if ('version' in result) return { path, version: result.version, source: 'cache' };
  }
  return null;
}

/** A Debian archive source: the URI of the machine's configured mirror for its release. */
export interface DebianMirror {
  readonly uri: string;
  /** The keyring the system uses for it, when it names one. */
  readonly signedBy: string | undefined;
}

/**
 * Finds the machine's Debian mirror in apt's sources (one-line `.list` and deb822 `.sources`
 * files): the `deb` entry with component `main` whose suite is the system's release codename.
 */
export function findDebianMirror(files: readonly { name: string; text: string }[], codename: string): DebianMirror | null {
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (key: string): string[] => {
          const match = new RegExp(`^${key}:[ \\t]*(.*)$`, 'mi').exec(stanza);
          return match?.[1] === undefined ? [] : match[1].trim().split(/\s+/);
        };
        if (field('Enabled')[0] === 'no' || !field('Types').includes('deb')) continue;
        if (!field('Suites').includes(codename) || !field('Components').includes('main')) continue;
        const uri = field('URIs')[0];
        if (uri !== undefined) return { uri, signedBy: field('Signed-By')[0] };
      }
    } else {
      for (const raw of text.split('\n')) {
        const line = raw.replace(/#.*$/, '').trim();
        const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
        if (match === null) continue;
        const [, options = '', uri, suite, components = ''] = match;
        if (uri === undefined || suite !== codename || !components.split(/\s+/).includes('main')) continue;
        const signedBy = /signed-by=(\S+)/.exec(options)?.[1];
        return { uri, signedBy };
      }
    }
  }
  return null;
}

/** Reads apt's source files and the release codename of this machine. */
async function systemMirror(): Promise<DebianMirror> {
  let codename = '';
  try {
    codename = /^VERSION_CODENAME=["']?([^"'\n]*)/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // no os-release: not a Debian-like system
  }
  if (codename === '') throw new Error('this machine has no /etc/os-release VERSION_CODENAME (not Debian?)');
  const files: { name: string; text: string }[] = [];
  const add = async (path: string): Promise<void> => {
    try {
      files.push({ name: path, text: await readFile(path, 'utf8') });
    } catch {
      // absent
    }
  };
  await add('/etc/apt/sources.list');
  try {
    for (const name of (await readdir('/etc/apt/sources.list.d')).sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) await add(join('/etc/apt/sources.list.d', name));
    }
  } catch {
    // no sources.list.d
  }
  const mirror = findDebianMirror(files, codename);
  if (mirror === null) throw new Error(`no Debian mirror for "${codename}" with component main in /etc/apt/sources.list(.d)`);
  return mirror;
}

/** Downloads trixie's nats-server package into `cacheDir/<version>/`; returns the binary. */
async function download(cacheDir: string, env: Readonly<Record<string, string | undefined>>, onProgress: (line: string) => void): Promise<NatsServerBinary> {
  const mirror = await systemMirror();
  await mkdir(cacheDir, { recursive: true });
  // Everything of one attempt lives in its own folder, renamed into place at the end: concurrent
  // first runs (parallel test files) never share apt's lock or a half-written binary.
  const work = await mkdtemp(join(cacheDir, '.download-'));
  try {
    const lists = join(work, 'lists');
    await mkdir(join(lists, 'partial'), { recursive: true });
    await mkdir(join(work, 'cache', 'archives', 'partial'), { recursive: true });
    const keyring = mirror.signedBy ?? (existsSync('/usr/share/keyrings/debian-archive-keyring.gpg') ? '/usr/share/keyrings/debian-archive-keyring.gpg' : undefined);
    const sourceList = join(work, 'sources.list');
    await writeFile(sourceList, `deb ${keyring === undefined ? '' : `[signed-by=${keyring}] `}${mirror.uri} ${DEBIAN_SUITE} main\n`);
    const aptOptions = [
      '-o', `Dir::Etc::sourcelist=${sourceList}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::State::Lists=${lists}`,
      '-o', `Dir::Cache=${join(work, 'cache')}`,
      '-o', 'APT::Get::List-Cleanup=0',
      '-o', 'Acquire::Languages=none',
      '-o', 'Acquire::http::Timeout=30',
      // As root, apt would hand downloads to its `_apt` user, who cannot write here.
      ...(process.getuid?.() === 0 ? ['-o', `APT::Sandbox::User=${userInfo().username}`] : []),
    ];
    onProgress(`nats-server: fetching the Debian ${DEBIAN_SUITE} package index from ${mirror.uri}`);
    await run('apt-get', ['-q', ...aptOptions, 'update'], { timeout: 180_000, cwd: work, env });
    onProgress(`nats-server: downloading the ${DEBIAN_SUITE} nats-server package`);
    await run('apt-get', ['-q', ...aptOptions, 'download', 'nats-server'], { timeout: 180_000, cwd: work, env });
    const deb = (await readdir(work)).find((f) => f.startsWith('nats-server_') && f.endsWith('.deb'));
    if (deb === undefined) throw new Error('apt-get download produced no nats-server_*.deb');
    const root = join(work, 'root');
    await run('dpkg-deb', ['-x', join(work, deb), root], { timeout: 60_000, env });
    const inner = ['usr/sbin/nats-server', 'usr/bin/nats-server'].map((p) => join(root, p)).find((p) => existsSync(p));
    if (inner === undefined) throw new Error(`${deb} holds no usr/sbin/nats-server or usr/bin/nats-server`);
    const result = await probe(inner);
    if ('problem' in result) throw new Error(result.problem);
    const staged = join(work, result.version);
    await mkdir(staged);
    await rename(inner, join(staged, 'nats-server'));
    const target = join(cacheDir, result.version);
    try {
      await rename(staged, target);
    } catch (error) {
      // Another process put the same version in place first: use theirs.
      if (!existsSync(join(target, 'nats-server'))) throw error;
    }
    onProgress(`nats-server: ${result.version} cached at ${target}`);
    return { path: join(target, 'nats-server'), version: result.version, source: 'download' };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

let obtained: Promise<NatsServerBinary> | null = null;

/**
 * A usable nats-server binary (2.10 or newer): `NATS_SERVER_BIN`, else the cache, else downloaded
 * into the cache. Memoized per process. Rejects with {@link NatsServerUnavailable}, whose message
 * says how to provide one, when none can be had.
 */
export function obtainNatsServer(options: ObtainOptions = {}): Promise<NatsServerBinary> {
  if (options.env === undefined && obtained !== null) return obtained;
  const attempt = obtainUncached(options);
  if (options.env === undefined) {
    obtained = attempt;
    attempt.catch(() => {
      obtained = null;
    });
  }
  return attempt;
}

async function obtainUncached(options: ObtainOptions): Promise<NatsServerBinary> {
  const env = options.env ?? process.env;
  const cacheDir = natsServerCacheDir(env);
  const fromEnv = env['NATS_SERVER_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') {
    const result = await probe(fromEnv);
    if ('problem' in result) throw new NatsServerUnavailable(`NATS_SERVER_BIN is not usable: ${result.problem}. ${howToProvide(cacheDir)}`);
    return { path: fromEnv, version: result.version, source: 'env' };
  }
  const cached = await fromCache(cacheDir);
  if (cached !== null) return cached;
  try {
    return await download(cacheDir, env, options.onProgress ?? (() => undefined));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new NatsServerUnavailable(`Cannot obtain nats-server: no NATS_SERVER_BIN, nothing cached in ${cacheDir}, and the download failed (${reason}). ${howToProvide(cacheDir)}`, {
      cause: error,
    });
  }
}

// ---- Running a server -----------------------------------------------------------------------------

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** The binary; default {@link obtainNatsServer}. */
  readonly binary?: string;
  /** The client port; default a random free one chosen by the server. */
  readonly port?: number;
  /** JetStream's store folder; default a fresh temporary one, removed by `stop()`. */
  readonly storeDir?: string;
  /** Require this user and password from clients. */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Extra configuration file text (e.g. `max_pending: 65536`); command-line settings win. */
  readonly config?: string;
  /** How long start-up may take. Default 15 s. */
  readonly startTimeoutMs?: number;
}

/** A nats-server process started by {@link startNatsServer}. */
export interface RunningNatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly binary: string;
  /** The server's log so far (its last 2,000 lines). */
  log(): string;
  /** True between a (re)start and a stop or kill. */
  readonly running: boolean;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and keeps the store: `restart()` brings it back. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL): no goodbye to its clients. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stops it and removes what it created (the temporary store and config). */
  dispose(): Promise<void>;
}

const MAX_LOG_LINES = 2000;

/**
 * Starts a nats-server on 127.0.0.1 with JetStream (`-js`, a store folder) and resolves once a
 * client has connected to it and JetStream answered: readiness is proven by connecting, not by
 * waiting. Rejects (and kills the process) if it does not get there within the start timeout.
 *
 * @example
 * ```ts
 * const server = await startNatsServer({ auth: { user: 'a', pass: 'b' } });
 * // ... connect to server.url ...
 * await server.dispose();
 * ```
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<RunningNatsServer> {
  const binary = options.binary ?? (await obtainNatsServer()).path;
  const scratch = await mkdtemp(join(tmpdir(), 'modactor-nats-'));
  const storeDir = options.storeDir ?? join(scratch, 'store');
  let configFile: string | undefined;
  if (options.config !== undefined) {
    configFile = join(scratch, 'server.conf');
    await writeFile(configFile, options.config);
  }
  const lines: string[] = [];
  let child: ChildProcess | null = null;
  let port = options.port ?? -1;
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  const launch = async (): Promise<void> => {
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-n', `modactor-test-${process.pid}`];
    if (configFile !== undefined) args.push('-c', configFile);
    if (options.auth !== undefined) args.push('--user', options.auth.user, '--pass', options.auth.pass);
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    // A server must not outlive the process that started it (a test run that ends abruptly).
    const orphanGuard = (): void => void proc.kill('SIGKILL');
    process.once('exit', orphanGuard);
    proc.once('exit', () => process.removeListener('exit', orphanGuard));
    let buffered = '';
    const listening = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not report ready within ${timeoutMs} ms`)), timeoutMs);
      let seenPort: number | null = null;
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(line);
          if (lines.length > MAX_LOG_LINES) lines.shift();
          const listen = /Listening for client connections on [^\s]*:(\d+)/.exec(line);
          if (listen !== null) seenPort = Number(listen[1]);
          if (line.includes('Server is ready') && seenPort !== null) {
            clearTimeout(timer);
            resolve(seenPort);
          }
        }
      });
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited during start-up (${signal ?? `code ${code}`}):\n${lines.slice(-20).join('\n')}`));
      });
    });
    try {
      port = await listening;
      await provenReady(`nats://127.0.0.1:${port}`, options.auth, timeoutMs);
    } catch (error) {
      proc.kill('SIGKILL');
      child = null;
      throw error;
    }
  };

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const force = signal === 'SIGKILL' ? null : setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    if (force !== null) clearTimeout(force);
  };

  await launch().catch(async (error: unknown) => {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  });
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    binary,
    log: () => lines.join('\n'),
    get running() {
      return child !== null;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      await launch();
    },
    async dispose() {
      await end('SIGTERM');
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Connects a client and asks JetStream for the account: the server is ready when both work. */
async function provenReady(url: string, auth: NatsServerOptions['auth'], timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: url, timeout: timeoutMs, ...(auth === undefined ? {} : { user: auth.user, pass: auth.pass }) });
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } finally {
    await nc.close();
  }
}
