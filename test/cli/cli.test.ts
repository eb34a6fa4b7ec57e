import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../src/cli/main.js';

const bin = fileURLToPath(new URL('../../bin/modactor.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modactor-cli-'));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in a child process, from the sources, the way `npm start` does. */
function cli(...args: string[]): Promise<Run> {
  return cliWith({}, ...args);
}

/** The same, with more environment variables. */
function cliWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, MODACTOR_LOG_LEVEL: '', ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** stderr's lines, each parsed as a pino log line (a line that is not one fails the test). */
function logLines(stderr: string): { level: number; msg: string; module?: string }[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { level: number; msg: string; module?: string });
}

function scenarioFile(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

const small = {
  name: 'small',
  seed: 3,
  duration: 3000,
  modules: [{ actor: 'slow-consumer', options: { mailboxCapacity: 5 } }, { actor: 'indexer' }],
  traffic: [
    { kind: 'transactions', rate: 50 },
    { kind: 'blocks', every: 500 },
  ],
};

// Every child process starts at once; each test awaits its own.
let runs: {
  seven: Promise<Run>;
  sevenAgain: Promise<Run>;
  json: Promise<Run>;
  html: Promise<Run>;
  invalid: Promise<Run>;
  failing: Promise<Run>;
  usage: Promise<Run>;
  info: Promise<Run>;
  silentByEnv: Promise<Run>;
  missingDir: Promise<Run>;
  directory: Promise<Run>;
};
const htmlFile = join(dir, 'report.html');
beforeAll(() => {
  runs = {
    seven: cli('simulate', '--seed', '7'),
    sevenAgain: cli('simulate', '--seed', '7'),
    json: cli('simulate', scenarioFile('small.json', small), '--json'),
    html: cli('simulate', scenarioFile('small-html.json', small), '--html', htmlFile),
    invalid: cli('simulate', scenarioFile('bad.json', { ...small, faults: [{ kind: 'crash', module: 'indexer', at: 'x' }] })),
    failing: cli('simulate', scenarioFile('failing.json', { ...small, expect: [{ module: 'slow-consumer', dropped: 0 }] })),
    usage: cli('simulate', '--seed', 'seven'),
    info: cli('simulate', scenarioFile('small-info.json', small), '--json', '--log-level', 'info'),
    silentByEnv: cliWith({ MODACTOR_LOG_LEVEL: 'silent' }, 'simulate', scenarioFile('small-silent.json', small)),
    missingDir: cli('simulate', scenarioFile('small-missing.json', small), '--log-level', 'info', '--html', join(dir, 'no-such-dir', 'r.html')),
    directory: cli('simulate', scenarioFile('small-dir.json', small), '--log-level', 'info', '--html', dir),
  };
});

describe('modactor simulate (child processes)', () => {
  it('runs the default scenario, and `--seed 7` twice prints identical output', async () => {
    const [first, second] = await Promise.all([runs.seven, runs.sevenAgain]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('modactor simulate: scenario "default", seed 7, deterministic (virtual time)');
    expect(first.stdout).toContain('Result: PASS');
    expect(second.stdout).toBe(first.stdout);
    // stderr holds the node's warnings as pino lines (the crashes), and no progress line when it is not a terminal.
    const logs = logLines(first.stderr);
    expect(logs.every((line) => line.level >= 40)).toBe(true);
    expect(logs.filter((line) => line.msg === 'module crashed' && line.module === 'crashy')).toHaveLength(3);
  });

  it('logs at --log-level on stderr, and the JSON report on stdout stays clean', async () => {
    const run = await runs.info;
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { passed: boolean }).passed).toBe(true);
    const loaded = logLines(run.stderr).filter((line) => line.msg === 'module loaded');
    expect(loaded.map((line) => [line.level, line.module])).toEqual([
      [30, 'sim.recorder'],
      [30, 'slow-consumer'],
      [30, 'indexer'],
    ]);
  });

  it('takes the log level from MODACTOR_LOG_LEVEL', async () => {
    const run = await runs.silentByEnv;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Result: PASS');
    expect(run.stderr).toBe('');
  });

  it('refuses an --html file it cannot write before running anything: exit 2, one line, no stack', async () => {
    const [missing, directory] = await Promise.all([runs.missingDir, runs.directory]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: `modactor simulate: --html ${join(dir, 'no-such-dir', 'r.html')}: cannot write it: no such directory ${join(dir, 'no-such-dir')}\n` });
    // At --log-level info a run would have logged its modules' loads: nothing ran.
    expect(directory).toEqual({ code: 2, stdout: '', stderr: `modactor simulate: --html ${dir}: cannot write it: it is a directory\n` });
  });

  it('prints the report as JSON with --json', async () => {
    const run = await runs.json;
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { passed: boolean; scenario: { name: string }; modules: { name: string }[] };
    expect(report).toMatchObject({ passed: true, scenario: { name: 'small' } });
    expect(report.modules.map((m) => m.name)).toEqual(['slow-consumer', 'indexer']);
  });

  it('writes a self-contained HTML page with an SVG chart with --html', async () => {
    const run = await runs.html;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`wrote ${htmlFile}`);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link/);
  });

  it('exits non-zero for an invalid scenario, naming the bad field on stderr', async () => {
    const run = await runs.invalid;
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('faults[0].at: expected a finite number >= 0, got string "x"');
  });

  it('exits non-zero when a check fails, and says which', async () => {
    const run = await runs.failing;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}expect slow-consumer/);
    expect(run.stdout).toMatch(/- slow-consumer: dropped is \d+, expected dropped = 0/);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Result: FAIL, 1 of 9 checks failed: expect slow-consumer');
  });

  it('exits non-zero for bad arguments', async () => {
    const run = await runs.usage;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^modactor simulate: --seed: expected a non-negative safe integer, got string "seven"\n\nUsage:/);
  });
});

describe('modactor simulate: arguments, in the vocabulary\'s issue shape', () => {
  /** Runs the CLI in this process with `env`, and what it wrote. */
  async function inProcess(env: Record<string, string>, ...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), progress: false, env, onSignal: () => () => undefined };
    const code = await main(args, io);
    return { code, stdout, stderr };
  }

  it('names every bad option on a line of its own, before anything runs', async () => {
    const run = await inProcess({}, 'simulate', 'a.json', 'b.json', '--seed=-1', '--time-scale', '0', '--html', '', '--log-level', 'loud', '--metrics-port', '70000');
    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n\nUsage:')[0]?.split('\n')).toEqual([
      'modactor simulate: expected at most one scenario file, got 2: a.json b.json',
      'modactor simulate: --seed: expected a non-negative safe integer, got string "-1"',
      'modactor simulate: --time-scale: expected a finite number > 0, got string "0"',
      'modactor simulate: --html: expected a non-empty string, got string ""',
      'modactor simulate: --log-level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got string "loud"',
      'modactor simulate: --metrics-port: expected a port from 0 to 65535, got string "70000"',
      'modactor simulate: --metrics-port: expected --real as well (a simulated run takes no real time to scrape), got no --real',
    ]);
  });

  it('checks MODACTOR_LOG_LEVEL as it checks --log-level, and --log-level wins over it', async () => {
    const bad = await inProcess({ MODACTOR_LOG_LEVEL: 'verbose' }, 'simulate', '--seed', '7');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/^modactor simulate: MODACTOR_LOG_LEVEL: expected one of "fatal", .*, got string "verbose"\n/);
    const help = await inProcess({ MODACTOR_LOG_LEVEL: 'verbose' }, 'simulate', '--log-level', 'silent', '--help');
    expect(help.code).toBe(EXIT.ok);
  });
});
