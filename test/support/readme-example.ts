import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Runs the first ```ts block under `## heading` in README.md as a user would (with `modactor`
 * resolved to this checkout's src/index.ts), and returns its exit code and output.
 */
export async function runReadmeExample(heading: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  if (block?.[1] === undefined) throw new Error(`README.md's "${heading}" section has no ts block`);
  const code = block[1].replaceAll("from 'modactor'", `from '${join(root, 'src/index.ts')}'`);
  const file = join(await mkdtemp(join(tmpdir(), 'modactor-readme-')), 'example.mts');
  await writeFile(file, code);
  return new Promise((resolvePromise) => {
    execFile(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolvePromise({ code: exit, stdout, stderr });
    });
  });
}
