import { readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type * as Esbuild from 'esbuild';

/**
 * Where the cases are transpiled to before a run. Under node_modules/.cache so that git, tsc and
 * eslint leave it alone; it holds its own package.json because Node does not look past a
 * node_modules boundary for `"type": "module"`.
 */
export const BUILD_DIR = 'node_modules/.cache/modactor-bench';

/**
 * Transpiles src/ and bench/ once per run with esbuild (the transpiler tsx itself uses, same
 * per-file transform: no bundling, imports left as they are), so each case process starts with
 * plain `node` instead of paying for tsx's loader hooks (~0.3-0.5 s per process, which would add
 * up to half of `--quick`). Returns the build directory, or null when esbuild (installed with tsx)
 * cannot be loaded; the driver then runs the cases through `node --import tsx`.
 */
export async function prebuild(root: string): Promise<string | null> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return null;
  }
  const out = join(root, BUILD_DIR);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entryPoints = ['src', 'bench'].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map((file) => relative(root, join(root, dir, file))),
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
    keepNames: true, // as tsx does
    logLevel: 'error',
  });
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  return BUILD_DIR;
}
