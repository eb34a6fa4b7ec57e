/**
 * docs/node-options.md's graceful-shutdown recipe, run as written in its own process (with
 * `modactor/...` resolved to this checkout's sources): SIGTERM once it is ready, then it must log
 * the shutdown, let the module flush, and exit 0 by itself.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { entryPoints, root } from '../package/public-api.js';

/** The first ```ts block under `## heading` of a docs page. */
function example(page: string, heading: string): string {
  const markdown = readFileSync(join(root, page), 'utf8');
  const start = markdown.indexOf(`## ${heading}\n`);
  const block = start < 0 ? null : /```ts\n([\s\S]*?)```/.exec(markdown.slice(start));
  if (block?.[1] === undefined) throw new Error(`expected a ts block under "## ${heading}" in ${page}, got none`);
  return block[1];
}

/** `from 'modactor/x'` → the entry point's source file, as the package's source condition would. */
function withSources(code: string): string {
  let out = code;
  for (const entry of entryPoints()) out = out.replaceAll(`from '${entry.specifier}'`, `from '${entry.source}'`);
  return out;
}

// Inside the project, so that bare imports (pino) resolve from its node_modules.
const dir = join(root, 'node_modules/.cache/modactor-docs', `shutdown-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('docs/node-options.md: the app shuts its node down gracefully on SIGTERM and exits 0', { timeout: 60_000 }, async () => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'app.mts');
  writeFileSync(file, withSources(example('docs/node-options.md', 'Graceful shutdown in an application')));
  const app = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  app.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => app.on('close', (code, signal) => resolve({ code, signal })));
  const messages: string[] = [];
  for await (const line of createInterface({ input: app.stdout })) {
    const { msg } = JSON.parse(line) as { msg: string };
    messages.push(msg);
    if (msg === 'node ready') app.kill('SIGTERM');
  }
  expect(await exited).toEqual({ code: 0, signal: null });
  expect(stderr).toBe('');
  expect(messages.filter((m) => ['node ready', 'shutting down', 'flushing before stop', 'stopped'].includes(m))).toEqual([
    'node ready',
    'shutting down',
    'flushing before stop',
    'stopped',
  ]);
});
