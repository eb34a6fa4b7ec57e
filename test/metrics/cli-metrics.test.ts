import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../../src/cli/main.js';
import { parseExposition, series } from './exposition.js';

const dir = mkdtempSync(join(tmpdir(), 'modactor-cli-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two seconds of real time: long enough to be scraped while it runs. */
const scenario = join(dir, 'metrics.json');
writeFileSync(
  scenario,
  JSON.stringify({
    name: 'metrics',
    seed: 5,
    duration: 2000,
    timeScale: 1,
    modules: [{ actor: 'slow-consumer', options: { mailboxCapacity: 5 } }, { actor: 'indexer' }],
    traffic: [{ kind: 'blocks', every: 100 }],
  }),
);

function io(onStderr: (text: string) => void = () => undefined): { out: string[]; err: string[]; io: Parameters<typeof main>[1] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (text) => void out.push(text),
      stderr: (text) => {
        err.push(text);
        onStderr(text);
      },
      progress: false,
      env: {},
      onSignal: () => () => undefined,
    },
  };
}

describe('modactor simulate --real --metrics-port', () => {
  it('serves the running node\'s metrics and probes, and stops serving when the run ends', async () => {
    // Scraped as soon as the CLI says where, while the scenario runs.
    const seen: { url?: string; scraped?: Promise<{ metrics: string; health: number }> } = {};
    const run = io((text) => {
      const url = /metrics on (http:\/\/\S+)\/metrics/.exec(text)?.[1];
      if (url === undefined) return;
      seen.url = url;
      seen.scraped = (async () => {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const health = (await fetch(`${url}/healthz`)).status;
        return { metrics, health };
      })();
    });
    const code = await main(['simulate', scenario, '--real', '--metrics-port', '0'], run.io);
    // Where the metrics are, first; the rest of stderr is the node's logs (pino lines at warn or above).
    const [first, ...logs] = run.err.join('').split('\n').filter((line) => line !== '');
    expect(first).toMatch(/^modactor simulate: metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    for (const line of logs) expect((JSON.parse(line) as { level: number }).level).toBeGreaterThanOrEqual(40);
    expect(code).toBe(EXIT.ok);
    if (seen.scraped === undefined) expect.unreachable('no metrics URL printed');
    const { metrics, health } = await seen.scraped;
    expect(health).toBe(200);
    const exposition = parseExposition(metrics);
    expect(exposition.types.get('modactor_events_delivered_total')).toBe('counter');
    expect(Object.keys(series(exposition, 'modactor_module_health'))).toEqual(expect.arrayContaining(['module=indexer', 'module=slow-consumer']));
    await expect(fetch(`${seen.url}/healthz`)).rejects.toThrow();
  });

  it('refuses a port out of range, and a port without --real, with exit 2 before running', async () => {
    for (const args of [
      ['--real', '--metrics-port', '65536'],
      ['--real', '--metrics-port', 'x'],
      ['--metrics-port', '9464'],
    ]) {
      const run = io();
      expect(await main(['simulate', scenario, ...args], run.io)).toBe(EXIT.usage);
      expect(run.err.join('').split('\n')[0]).toMatch(/^modactor simulate: --metrics-port: expected /);
      expect(run.out).toEqual([]);
    }
  });
});
