/**
 * A real process appending and flushing to real files, SIGKILLed mid-stream several times: every
 * flushed record is recovered, in order, with no gap, and each new process goes on from there.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { openEventLog } from '../../src/store/event-log.js';
import { range, readAll, realPlace } from './support.js';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const appender = new URL('./fixtures/appender.ts', import.meta.url).pathname;

/**
 * Starts the appender on `dir`, SIGKILLs it once it reported `flushes` flushes, and resolves with
 * the seq it opened at and the last seq it reported flushed.
 */
async function appendUntilKilled(dir: string, flushes: number): Promise<{ opened: number; flushed: number }> {
  const child = spawn(process.execPath, ['--import', tsx, appender, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  let opened = -1;
  let flushed = -1;
  let seen = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const [word, value] = line.split(' ');
    if (word === 'opened') opened = Number(value);
    if (word === 'flushed') {
      flushed = Number(value);
      if (++seen === flushes) child.kill('SIGKILL');
    }
  }
  const signal = await exited;
  expect(signal, `the appender was killed, not stopped on its own (${stderr.trim()})`).toBe('SIGKILL');
  return { opened, flushed };
}

it('recovers every flushed record after each SIGKILL, in order, without a gap', { timeout: 120_000 }, async () => {
  const { dir } = realPlace();
  let recovered = 0;
  for (const flushes of [1, 4, 2, 7, 3]) {
    const { opened, flushed } = await appendUntilKilled(dir, flushes);
    expect(opened).toBe(recovered); // the new process continued after what the last open found
    expect(flushed).toBeGreaterThanOrEqual(opened + flushes * 250);

    const log = await openEventLog({ dir });
    const { seqs, stats } = await readAll(log);
    await log.close();
    expect(stats.corrupt).toBe(0);
    expect(log.lastSeq).toBeGreaterThanOrEqual(flushed);
    expect(seqs).toEqual(range(1, log.lastSeq));
    recovered = log.lastSeq;
  }
});
