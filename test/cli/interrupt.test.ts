import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/modactor.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modactor-interrupt-'));

/** Command lines of the machine's processes that contain `marker` (read from /proc, at once). */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(marker)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

interface Interrupted {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The process module's child processes while the run was going. */
  readonly childrenBefore: readonly string[];
}

/**
 * Starts `modactor simulate --real` on `scenario` in a child process, sends it `signal` once the
 * node logged that `module` (hotloaded mid-run) loaded, and resolves when it exited.
 */
function interruptedRun(scenario: object, module: string, signal: NodeJS.Signals, marker: string): Promise<Interrupted> {
  const file = join(dir, `${module}.json`);
  writeFileSync(file, JSON.stringify(scenario));
  const child = spawn(process.execPath, [bin, 'simulate', file, '--real', '--log-level', 'info'], {
    env: { ...process.env, MODACTOR_LOG_LEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let childrenBefore: string[] = [];
  let sent = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const loaded = stderr.split('\n').some((line) => line.includes('"msg":"module loaded"') && line.includes(`"module":"${module}"`));
    if (loaded && !sent) {
      sent = true;
      childrenBefore = processesWith(marker);
      child.kill(signal);
    }
  });
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve({ code, stdout, stderr, childrenBefore }));
  });
}

describe('modactor simulate --real, interrupted (child processes)', () => {
  it('shuts the node down gracefully on SIGINT, prints the report of what ran, and leaves no process behind', async () => {
    // A name no other process has: the process module's child carries it in its arguments.
    const echo = `echo-${process.pid}-${Date.now().toString(36)}`;
    const run = await interruptedRun(
      {
        name: 'interrupted',
        duration: 600_000,
        timeScale: 0.5,
        modules: [
          { actor: 'indexer' },
          { actor: 'process-modules#echoModule', name: echo },
          { actor: 'peer-monitor', at: 1000 },
        ],
        traffic: [{ kind: 'blocks', every: 200 }],
      },
      'peer-monitor',
      'SIGINT',
      echo,
    );
    expect(run.childrenBefore).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('modactor simulate: SIGINT: shutting the node down gracefully (again to exit at once)\n');
    expect(run.stdout).toMatch(/\n {2}\d+\.\d{3} {2}shutdown requested: interrupted: SIGINT\n/);
    expect(run.stdout).toMatch(/\nNote: interrupted \(SIGINT\) at \d+\.\d{3}s: shut down gracefully before the scenario's end at 600\.000s\n/);
    expect(run.stdout).toMatch(new RegExp(`\\n {2}${echo} +process +\\d+ +\\d+ +0 +0 +0 +0 +healthy +healthy +stopped at shutdown\\n`));
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Result: PASS, 8 invariants and 0 expectations hold');
    expect(processesWith(echo)).toEqual([]);
  });

  it('does the same on SIGTERM, and exits 1 when an expectation failed in what ran', async () => {
    const run = await interruptedRun(
      {
        name: 'terminated',
        duration: 600_000,
        timeScale: 0.5,
        modules: [{ actor: 'indexer' }, { actor: 'mempool-watcher', at: 500 }],
        traffic: [{ kind: 'blocks', every: 200 }],
        expect: [{ module: 'indexer', handled: { min: 1_000_000 } }],
      },
      'mempool-watcher',
      'SIGTERM',
      'never-a-process-name',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('modactor simulate: SIGTERM: shutting the node down gracefully (again to exit at once)\n');
    expect(run.stdout).toContain('shutdown requested: interrupted: SIGTERM');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('Result: FAIL, 1 of 9 checks failed: expect indexer');
  });
});
