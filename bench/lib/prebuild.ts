import { readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type * as Esbuild from 'esbuild';

/**
 * Where the cases are transpiled to before a run: a directory per driver process under
 * node_modules/.cache, so that git, tsc and eslint leave it alone and two runs at once do not
 * share files. Each holds its own package.json, because Node does not look past a node_modules
 * boundary for `"type": "module"`.
 */
export const BUILD_ROOT = 'node_modules/.cache/modactor-bench';

/**
 * Transpiles src/ and bench/ once per run with esbuild (the transpiler tsx itself uses, same
 * per-file transform: no bundling, imports left as they are), so each case process starts with
 * plain `node` instead of paying for tsx's loader hooks (~0.3-0.5 s per process, which would add
 * up to half of `--quick`). Without tsx's `keepNames`: that wraps every named function expression
 * in a `__name(fn, "...")` call (an own `name` property, which puts each closure's properties in
 * dictionary mode, about 300 bytes more per closure and a call each time one is created), which
 * the package users run (`tsc` output) does not have; the names are kept anyway, since nothing is
 * minified. Returns the build directory relative to `root`, or null when esbuild
 * (installed with tsx) cannot be loaded; the driver then runs the cases through `node --import tsx`.
 */
export async function prebuild(root: string): Promise<string | null> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  removeStaleBuilds(root);
  const dir = `${BUILD_ROOT}/${process.pid}`;
  const out = join(root, dir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entryPoints = ['src', 'bench'].flatMap((sub) =>
    readdirSync(join(root, sub), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map((file) => relative(root, join(root, sub, file))),
  );
  await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    outdir: out,
    outbase: '.',
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0] ?? '20'}`,
    logLevel: 'error',
  });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

/** Removes this run's build directory. */
export function removeBuild(root: string, dir: string): void {
  rmSync(join(root, dir), { recursive: true, force: true });
}

/** Removes build directories left by driver processes that no longer run (e.g. interrupted). */
function removeStaleBuilds(root: string): void {
  let entries: string[];
  try {
    entries = readdirSync(join(root, BUILD_ROOT));
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0); // signal 0: only asks whether the process exists
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(root, BUILD_ROOT, entry), { recursive: true, force: true });
  }
}
