/**
 * The docs stand alone: README.md, CHANGELOG.md and docs/*.md refer to nothing outside the
 * repository, and every path they write in backticks exists (or is one of the git-ignored
 * outputs of a build or a benchmark run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../package/public-api.js';

const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = new Map(pages.map((page) => [page, readFileSync(join(root, page), 'utf8')]));

/** Words that point at files or texts outside the repository. */
const OUTSIDE = [/\.\.\/shared/, /\/work\//, /\bSPEC\b/, /\bSTYLE\.md\b/, /integration-guide/i, /\bthe guide\b/i, /\bseed\//];

/** Packages a backticked specifier may name (`modactor/sdk`, `tsx/esm/api`): not paths of this repository. */
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const packages = new Set([manifest.name, ...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)]);

/**
 * The backticked words of a page that are repository paths: a relative path with a `/`
 * (`src/index.ts`, `bench/cases/`), not a URL, an actor path (`/modules/x`), a package specifier or
 * a placeholder (`<file>`, `*`).
 */
function pathsOf(markdown: string): { line: number; path: string }[] {
  const found: { line: number; path: string }[] = [];
  let fenced = false;
  for (const [i, line] of markdown.split('\n').entries()) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    for (const [, word = ''] of line.matchAll(/`([^`\s]+)`/g)) {
      if (!/^[\w@][\w.@-]*\/[\w./@-]*$/.test(word)) continue;
      const first = word.startsWith('@') ? word.split('/').slice(0, 2).join('/') : (word.split('/')[0] ?? '');
      if (packages.has(first)) continue;
      found.push({ line: i + 1, path: word });
    }
  }
  return found;
}

/** Written by `npm run build` and `npm run bench`, never committed (paths under a folder here count too): they must be git-ignored. */
const GENERATED = ['dist/', 'bench/results.json', 'bench/profiles/', 'node_modules/.cache/modactor-bench/'];

describe('the docs', () => {
  it.each(pages)('%s refers to nothing outside the repository', (page) => {
    const lines = (text.get(page) ?? '').split('\n');
    const outside = lines.flatMap((line, i) => (OUTSIDE.some((pattern) => pattern.test(line)) ? [`${page}:${i + 1}: ${line}`] : []));
    expect(outside).toEqual([]);
  });

  it.each(pages)('%s writes in backticks only paths that exist', (page) => {
    const missing = pathsOf(text.get(page) ?? '')
      .filter(({ path }) => !GENERATED.some((g) => path === g || (g.endsWith('/') && path.startsWith(g))) && !existsSync(join(root, path)))
      .map(({ line, path }) => `${page}:${line}: ${path}`);
    expect(missing).toEqual([]);
  });

  it('names as generated only outputs git ignores', () => {
    const ignored = execFileSync('git', ['check-ignore', ...GENERATED.map((p) => (p.endsWith('/') ? `${p}x` : p))], { cwd: root, encoding: 'utf8' });
    expect(ignored.trim().split('\n')).toHaveLength(GENERATED.length);
  });

  it('finds the paths it checks (the checker is not vacuous)', () => {
    expect(pathsOf('see `src/index.ts`, `modactor/sdk`, `/modules/x`, `cases/fanout.ts` and `https://x.y/z`').map((p) => p.path)).toEqual([
      'src/index.ts',
      'cases/fanout.ts',
    ]);
  });
});
