/**
 * Runs every ```ts example of docs/kernel.md as a user would (with `modactor` resolved to this
 * checkout's src/index.ts) and compares its output with the `// Output:` comment at its end.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface Example {
  readonly section: string;
  readonly code: string;
  readonly output: string[];
}

function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  let section = '(top)';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('## ')) section = line.slice(3);
    if (line !== '```ts') continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] as string);
    const marker = body.indexOf('// Output:');
    const output = marker < 0 ? [] : body.slice(marker + 1).map((l) => l.replace(/^\/\/ ?/, ''));
    examples.push({ section, code: body.join('\n'), output });
  }
  return examples;
}

const examples = examplesOf(await readFile(join(root, 'docs/kernel.md'), 'utf8'));

/**
 * Runs every example in one child process, one after the other, each as its own module; returns
 * what each printed (console.log lines) and the process's stderr.
 */
async function runAll(): Promise<{ outputs: string[][]; stderr: string }> {
  // Written inside the project so that bare imports (xstate) resolve from its node_modules.
  const cache = join(root, 'node_modules/.cache/modactor-docs');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'run-'));
  const files: string[] = [];
  for (const [i, example] of examples.entries()) {
    const file = join(dir, `example-${i + 1}.mts`);
    await writeFile(file, example.code.replaceAll("from 'modactor'", `from '${join(root, 'src/index.ts')}'`));
    files.push(file);
  }
  const driver = join(dir, 'driver.mts');
  await writeFile(
    driver,
    [
      "import { format } from 'node:util';",
      "import { pathToFileURL } from 'node:url';",
      `const files: string[] = ${JSON.stringify(files)};`,
      'const outputs: string[][] = [];',
      'const log = console.log;',
      'for (const file of files) {',
      '  const lines: string[] = [];',
      '  console.log = (...args: unknown[]) => void lines.push(format(...args));',
      '  try {',
      '    await import(pathToFileURL(file).href);',
      '  } finally {',
      '    console.log = log;',
      '  }',
      '  outputs.push(lines);',
      '}',
      'process.stdout.write(JSON.stringify(outputs));',
    ].join('\n'),
  );
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', driver], { cwd: root, timeout: 60_000 });
    return { outputs: JSON.parse(stdout) as string[][], stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('docs/kernel.md examples', () => {
  let result: { outputs: string[][]; stderr: string };
  beforeAll(async () => {
    result = await runAll();
  });

  it('has examples, each ending with its output, and they run without errors', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const example of examples) expect(example.output.length, example.section).toBeGreaterThan(0);
    expect(result.stderr).toBe('');
  });

  it.each(examples.map((e, i) => [i + 1, e.section, e] as const))('example %i (%s) prints its Output', (i, _s, example) => {
    expect(result.outputs[i - 1]).toEqual(example.output);
  });
});
