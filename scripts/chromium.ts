/**
 * `npx tsx scripts/chromium.ts`: the project's own way to get a headless chromium for the browser
 * test of the HTML report (test/browser/), printing its path. In this order:
 *
 *   1. `CHROMIUM_BIN`, when set (it must be an executable file);
 *   2. `/usr/bin/chromium`, when Debian's package is installed;
 *   3. as root: `apt-get install -y --no-install-recommends chromium` (with `apt-get update` first
 *      if apt's lists do not know it), then `/usr/bin/chromium`;
 *   4. otherwise: Debian's package and the libraries it needs that the machine lacks, fetched with
 *      `apt-get download` and unpacked with `dpkg-deb -x` into
 *      `${MODACTOR_TOOLS_DIR:-$HOME/.cache/modactor-tools}/chromium` (no root needed), run with
 *      `LD_LIBRARY_PATH` pointing into it.
 *
 * Nothing else is downloaded: `npx playwright install` cannot reach its own download host from
 * these machines; playwright-core drives whatever this returns.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A chromium to launch: its executable and the environment it needs. */
export interface Chromium {
  readonly path: string;
  /** Extra environment (`LD_LIBRARY_PATH` for an unpacked one), to merge into the launch's. */
  readonly env: Readonly<Record<string, string>>;
  readonly source: 'CHROMIUM_BIN' | 'system' | 'apt-get install' | 'cache' | 'apt-get download';
}

/** Options of {@link obtainChromium}; the defaults are what the machine is. */
export interface ObtainOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where Debian's package is installed. Default `/usr/bin/chromium`. */
  readonly systemPath?: string;
  /** True to install with apt-get (root). Default: whether this process runs as root. */
  readonly root?: boolean;
  readonly onProgress?: (line: string) => void;
}

/** The launch flags that work on these machines (no sandbox for root, no GPU, nothing phoning home). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The folder an unpacked chromium is kept in. */
export function chromiumCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.MODACTOR_TOOLS_DIR ?? join(env.HOME ?? homedir(), '.cache', 'modactor-tools'), 'chromium');
}

/** What to do when no chromium could be had. */
export function howToProvide(): string {
  return (
    'provide a chromium: set CHROMIUM_BIN=/path/to/chromium (any chromium or chrome of the last few ' +
    'versions), or install Debian\'s package (apt-get install chromium), or let `npx tsx scripts/chromium.ts` ' +
    'fetch it (apt-get download, no root needed)'
  );
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds or installs a chromium (see the file's comment for the order); throws saying how to provide one. */
export async function obtainChromium(options: ObtainOptions = {}): Promise<Chromium> {
  const env = options.env ?? process.env;
  const systemPath = options.systemPath ?? '/usr/bin/chromium';
  const root = options.root ?? process.getuid?.() === 0;
  const progress = options.onProgress ?? (() => undefined);
  const fromEnv = env.CHROMIUM_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!executable(fromEnv)) throw new Error(`CHROMIUM_BIN=${fromEnv} is not an executable file; ${howToProvide()}`);
    return { path: fromEnv, env: {}, source: 'CHROMIUM_BIN' };
  }
  if (executable(systemPath)) return { path: systemPath, env: {}, source: 'system' };
  try {
    if (root) {
      await aptInstall(progress);
      if (executable(systemPath)) return { path: systemPath, env: {}, source: 'apt-get install' };
      throw new Error(`apt-get installed chromium, but ${systemPath} is not there`);
    }
    return await unpacked(chromiumCacheDir(env), progress);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`no chromium: ${message.split('\n').slice(0, 3).join(' ')}; ${howToProvide()}`);
  }
}

async function aptInstall(progress: (line: string) => void): Promise<void> {
  const install = (): Promise<unknown> =>
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 << 20 });
  progress('installing chromium: apt-get install -y --no-install-recommends chromium');
  try {
    await install();
  } catch {
    progress('apt-get install failed; apt-get update, then again');
    await run('apt-get', ['update'], { maxBuffer: 64 << 20 });
    await install();
  }
}

/** The unpacked chromium of the cache, fetched first when it is not there. */
async function unpacked(cacheDir: string, progress: (line: string) => void): Promise<Chromium> {
  const tree = join(cacheDir, 'root');
  const binary = join(tree, 'usr', 'lib', 'chromium', 'chromium');
  const ready = join(cacheDir, 'ready');
  const libraries = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu', 'usr/lib/chromium'].map((dir) => join(tree, dir));
  const env = { LD_LIBRARY_PATH: [...libraries, process.env.LD_LIBRARY_PATH ?? ''].filter((p) => p !== '').join(':') };
  if (existsSync(ready) && executable(binary)) return { path: binary, env, source: 'cache' };

  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(join(cacheDir, 'debs'), { recursive: true });
  const packages = await missingPackages('chromium');
  progress(`fetching chromium and ${packages.length - 1} packages it needs with apt-get download into ${cacheDir}`);
  await run('apt-get', ['download', ...packages], { cwd: join(cacheDir, 'debs'), maxBuffer: 64 << 20 });
  for (const deb of readdirSync(join(cacheDir, 'debs')).filter((f) => f.endsWith('.deb'))) {
    await run('dpkg-deb', ['-x', join(cacheDir, 'debs', deb), tree]);
  }
  rmSync(join(cacheDir, 'debs'), { recursive: true, force: true });
  const { stdout } = await run('ldd', [binary], { env: { ...process.env, ...env } });
  const unresolved = stdout.split('\n').filter((line) => line.includes('not found'));
  if (unresolved.length > 0) throw new Error(`the unpacked chromium lacks libraries: ${unresolved.map((l) => l.trim()).join(', ')}`);
  writeFileSync(ready, `${packages.join('\n')}\n`);
  return { path: binary, env, source: 'apt-get download' };
}

/**
 * `name` and `name-common` (the files the binary finds next to itself: ICU data, resources), and
 * every package they depend on (recursively) that dpkg does not have installed.
 */
async function missingPackages(name: string): Promise<string[]> {
  const { stdout: tree } = await run(
    'apt-cache',
    ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', '--no-pre-depends', name],
    { maxBuffer: 64 << 20 },
  );
  // Package names stand at the start of a line; indented lines are the relations, <virtual> ones skipped.
  const named = [...new Set(tree.split('\n').filter((line) => /^[a-z0-9][a-z0-9+.-]*$/.test(line)))];
  const { stdout: installed } = await run('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Status}\n'], { maxBuffer: 64 << 20 });
  const have = new Set(installed.split('\n').filter((line) => line.endsWith(' installed')).map((line) => line.split(' ')[0]));
  return named.filter((pkg) => pkg === name || pkg === `${name}-common` || !have.has(pkg));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  obtainChromium({ onProgress: (line) => console.error(line) }).then(
    (chromium) => console.log(`${chromium.path}\t(${chromium.source})${chromium.env.LD_LIBRARY_PATH === undefined ? '' : `\tLD_LIBRARY_PATH=${chromium.env.LD_LIBRARY_PATH}`}`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
