/** `modactor log DIR`: the summary of a store, its events, and what it found wrong. */
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLogCommand } from '../../src/cli/log-command.js';
import { openStore } from '../../src/store/store.js';
import { segmentName } from '../../src/store/record.js';
import { block, clock, realPlace } from './support.js';

const bin = fileURLToPath(new URL('../../bin/modactor.js', import.meta.url));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runLogCommand(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const tx = (seq: number) => ({ type: 'NewTransaction', payload: { txHash: 'ab'.repeat(32) }, meta: { seq, source: 'mempool', time: 1_718_000_000_000 + seq } });

/** A store of 60 events in several segments (every fourth a NewTransaction) and a saved state. */
async function makeStore(): Promise<string> {
  const { dir } = realPlace();
  const store = await openStore({ dir, scheduler: clock(), segmentMaxBytes: 4000, batchMaxEvents: 10 });
  for (let seq = 1; seq <= 60; seq++) store.log.append(seq % 4 === 0 ? tx(seq) : block(seq));
  store.state.save({ lastSeq: 60, modules: { indexer: { position: 55, restarts: 1, health: [{ time: 5, health: 'healthy' }] } } });
  await store.close();
  return dir;
}

let dir: string;
beforeAll(async () => {
  dir = await makeStore();
});

describe('modactor log', () => {
  it('summarizes a store: segments, seq range, events per type, torn and corrupt records, saved state', async () => {
    const { code, stdout, stderr } = await run(dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`store ${dir} (event log format 1)`);
    expect(lines[1]).toMatch(/^segments: [3-9], \d+\.\d KiB$/);
    expect(lines).toContain('seq range: 1-60 (60 records)');
    expect(stdout).toContain('events per type:\n  NewBlock        45\n  NewTransaction  15\n');
    expect(stdout).toContain('torn tail: none\ncorrupt records: none\n');
    expect(stdout).toContain('saved state: last seq 60, 1 module\n  indexer: position 55, 1 restarts, health healthy\n');
  });

  it('prints the summary as JSON', async () => {
    const { code, stdout } = await run(dir, '--json');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ records: 60, firstSeq: 1, lastSeq: 60, eventsPerType: { NewBlock: 45, NewTransaction: 15 }, torn: [], corrupt: [] });
    expect((summary['segments'] as { firstSeq: number }[])[0]?.firstSeq).toBe(1);
  });

  it('prints the last events of a type, as text and as JSON lines', async () => {
    const text = await run(dir, '--tail', '2', '--type', 'NewTransaction');
    expect(text.stdout).toBe(
      [
        `56  ${new Date(1_718_000_000_056).toISOString()}  mempool  NewTransaction  {"txHash":"${'ab'.repeat(32)}"}`,
        `60  ${new Date(1_718_000_000_060).toISOString()}  mempool  NewTransaction  {"txHash":"${'ab'.repeat(32)}"}`,
        '',
      ].join('\n'),
    );
    const json = await run(dir, '--tail', '--json');
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { meta: { seq: number } });
    expect(events.map((e) => e.meta.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(events[19]).toEqual(tx(60));
    const from = await run(dir, '--from', '58', '--json');
    expect(from.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('lists a torn tail and corrupt records, and exits 1 when it found corruption', async () => {
    const damaged = await makeStore();
    const first = join(damaged, segmentName(1));
    const bytes = readFileSync(first);
    const second = bytes.indexOf(0x0a, bytes.indexOf(0x0a) + 1) + 1; // the second record's line
    bytes[second + 2] = bytes[second + 2] === 0x30 ? 0x31 : 0x30;
    writeFileSync(first, bytes);
    const summary = JSON.parse((await run(damaged, '--json')).stdout) as { lastSeq: number; segments: { name: string }[] };
    appendFileSync(join(damaged, summary.segments.at(-1)?.name ?? ''), '0123abcd {"seq":61,"ti');
    const { code, stdout } = await run(damaged);
    expect(code).toBe(1);
    expect(stdout).toMatch(/torn tail: 22 bytes \(1 cut record\) at offset \d+ of segment-\d{16}\.log: dropped when a node opens the store/);
    expect(stdout).toContain(`corrupt records: 1\n  ${segmentName(1)} offset ${second}: `);
    expect(stdout).toContain('seq range: 1-60 (59 records)');
  });

  it('refuses bad arguments and a directory without a store with exit 2', async () => {
    expect((await run()).code).toBe(2);
    const from = await run(dir, '--from', 'x');
    expect(from.code).toBe(2);
    expect(from.stderr).toMatch(/^modactor log: --from: expected a non-negative safe integer, got string "x"\n/);
    expect((await run(dir, '--bogus')).code).toBe(2);
    const missing = await run(join(dir, 'missing'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Expected to open the event log');
  });

  it('is reached from the modactor command', async () => {
    const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
      execFile(process.execPath, [bin, 'log', dir, '--tail', '1', '--json'], (error, out) => resolve({ stdout: out, code: error === null ? 0 : Number(error.code) }));
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(tx(60));
  });
});
