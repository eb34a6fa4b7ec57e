import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { parseScenario, renderHtml, renderText, simulate } from '../../src/sim.js';
import { serveMetrics, type MetricsServer } from '../../src/metrics/metrics-server.js';
import { defaultRun, defaultScenario, smallScenario } from './support.js';

describe('simulate: determinism', () => {
  it('gives a byte-identical JSON report for the same seed, and another one for another seed', async () => {
    const { report: first } = await defaultRun();
    const second = await simulate(defaultScenario(), { seed: 7 });
    const other = await simulate(defaultScenario(), { seed: 8 });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
    expect(other.scenario.seed).toBe(8);
  });

  it('renders the same text for the same seed, with no wall-clock time in it', async () => {
    const { report } = await defaultRun();
    const again = await simulate(smallScenario());
    const twice = await simulate(smallScenario());
    expect(renderText(twice)).toBe(renderText(again));
    expect(renderText(report)).not.toMatch(/\d{4}-\d{2}-\d{2}|took \d+ ?ms/);
  });
});

describe('simulate: the default scenario', () => {
  it('passes every invariant and expectation', async () => {
    const { report } = await defaultRun();
    const failed = report.invariants.filter((i) => i.status !== 'pass');
    expect(failed).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.invariants.map((i) => i.id).slice(0, 8)).toEqual([
      'fifo',
      'module-loaded-once',
      'unloaded-after-loaded',
      'accounting',
      'mailbox-bound',
      'nothing-after-termination',
      'restart-policy',
      'graceful-shutdown',
    ]);
  });

  it('has one row per module of the cast with what happened to it', async () => {
    const { report } = await defaultRun();
    const row = (name: string) => report.modules.find((m) => m.name === name);
    expect(report.modules.map((m) => m.name)).toEqual([
      'indexer',
      'mempool-watcher',
      'governance-webhook',
      'slow-consumer',
      'crashy',
      'maintenance-coordinator',
      'peer-monitor',
      'block-indexer',
    ]);
    expect(row('slow-consumer')?.dropped).toBeGreaterThan(0);
    expect(row('slow-consumer')?.end).toBe('stopped at shutdown');
    expect(row('crashy')).toMatchObject({ restarts: 2, failed: 3, health: 'unhealthy', gaveUp: true, end: 'gave up at 14.000s' });
    expect(row('indexer')).toMatchObject({ restarts: 1, dropped: 0, health: 'healthy' });
    expect(row('maintenance-coordinator')?.handled).toBeGreaterThan(0);
    for (const r of report.modules) {
      expect(r.delivered).toBe(r.handled + r.lost + (r.name === 'crashy' || r.name === 'indexer' ? r.failed : 0));
      if (r.name !== 'block-indexer') expect(r).toMatchObject({ kind: 'in-process', deterministic: true });
    }
    // The process module ran as a real child process beside the simulation, fed the chain events.
    expect(row('block-indexer')).toMatchObject({ kind: 'process', deterministic: false, dropped: 0, end: 'stopped at shutdown' });
    expect(row('block-indexer')?.handled).toBe(
      (report.traffic.NewBlock ?? 0) + (report.traffic.BlockDisconnected ?? 0) + (report.traffic.DataMaintenance ?? 0),
    );
  });

  it('tells the story on the timeline: crashes until given up, the hotload, the reload, the shutdown', async () => {
    const { report } = await defaultRun();
    const lines = report.timeline.map((e) => `${e.t} ${e.text}`);
    expect(lines).toContain('4000 crashed crashy: cannot index block 5');
    expect(lines).toContain('4000 restarted crashy 0.9.0 after its crash (restart 1)');
    expect(lines).toContain('9000 restarted crashy 0.9.0 after its crash (restart 2)');
    expect(lines).toContain('36000 restarted indexer 1.0.0 after its crash (restart 1)');
    // A restart is told as one, never as a plain load.
    expect(lines.filter((l) => /^\d+ loaded (crashy|indexer) /.test(l))).toEqual(['0 loaded indexer 1.0.0', '0 loaded crashy 0.9.0']);
    // The node is started once the modules loaded at 0 have loaded, before anything else happens.
    const started = lines.indexOf('0 NodeStartupCompleted (6 modules loaded)');
    expect(started).toBe(lines.filter((l) => /^0 loaded /.test(l)).length);
    expect(lines).toContain('14000 gave up crashy: more than 2 restarts within 20000 ms (last crash: cannot index block 15)');
    expect(lines).toContain('20000 hotload peer-monitor 1.2.0');
    expect(lines).toContain('20000 loaded peer-monitor 1.2.0');
    expect(lines).toContain('50000 reloaded governance-webhook 1.0.0 -> 1.1.0');
    expect(lines).toContain('58000 NodeShutdown (end of the default scenario, 2 s to stop)');
    expect(lines.at(-1)).toMatch(/^\d+ shutdown completed/);
    const times = report.timeline.map((e) => e.t);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('has a JSON shape for machines', async () => {
    const { report } = await defaultRun();
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['version', 'scenario', 'traffic', 'timeline', 'modules', 'invariants', 'series', 'notes', 'passed']);
    expect(json.scenario).toEqual({ name: 'default', seed: 7, mode: 'deterministic', endMs: 58_100, shutdownAtMs: 58_000 });
    expect(report.series.modules['slow-consumer']?.dropped.reduce((a, b) => a + b, 0)).toBe(report.modules.find((m) => m.name === 'slow-consumer')?.dropped);
    expect(Object.keys(report.modules[0] ?? {})).toEqual([
      'name', 'actor', 'kind', 'deterministic', 'delivered', 'handled', 'dropped', 'failed', 'lost', 'filtered', 'restarts', 'health', 'assessed', 'end', 'gaveUp',
    ]);
  });

  it('renders a self-contained HTML page with an inline SVG chart', async () => {
    const { report } = await defaultRun();
    const html = renderHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('</svg>');
    expect(html).toContain('slow-consumer at');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('renders the text report: timeline, table, invariants, verdict', async () => {
    const { report } = await defaultRun();
    const text = renderText(report);
    expect(text).toContain('modactor simulate: scenario "default", seed 7, deterministic (virtual time)');
    expect(text).toMatch(/\n {2}module +kind +delivered +handled +dropped +failed +lost +restarts +health +assessed +end\n/);
    expect(text).toMatch(/\n {2}crashy +in-process +15 +12 +0 +3 +0 +2 +unhealthy +unhealthy +gave up at 14\.000s\n/);
    expect(text).toMatch(/\n {2}slow-consumer +in-process +1180 +1162 +1220 +0 +18 +0 +healthy +degraded +stopped at shutdown\n/);
    expect(text).toContain('  PASS  fifo');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Result: PASS, 8 invariants and 4 expectations hold');
  });
});

describe('simulate: what the report counts', () => {
  it('assesses a module that dropped more than it handled as degraded, though its health stayed healthy', async () => {
    const { report } = await defaultRun();
    const assessed = Object.fromEntries(report.modules.map((m) => [m.name, [m.health, m.assessed]]));
    expect(assessed).toEqual({
      indexer: ['healthy', 'healthy'],
      'mempool-watcher': ['healthy', 'healthy'],
      'governance-webhook': ['healthy', 'healthy'],
      'slow-consumer': ['healthy', 'degraded'],
      crashy: ['unhealthy', 'unhealthy'],
      'maintenance-coordinator': ['healthy', 'healthy'],
      'peer-monitor': ['healthy', 'healthy'],
      'block-indexer': ['healthy', 'healthy'],
    });
    // Computed by the report: no ModuleHealthChanged ever said slow-consumer was degraded.
    expect(report.timeline.filter((e) => e.kind === 'health' && e.module === 'slow-consumer')).toEqual([]);
    expect(report.notes).toContain('assessed degraded: dropped more events than it handled (slow-consumer: 1220 dropped, 1162 handled)');
  });

  it("counts the scenario's modules only, never the simulator's recorder and bridge", async () => {
    const { report, trace } = await defaultRun();
    expect([...trace.modules.values()].filter((m) => m.internal).map((m) => m.name)).toEqual(['sim.recorder', 'sim.bridge']);
    const inProcessRows = report.modules.filter((m) => m.kind === 'in-process').length;
    const checked = Object.fromEntries(report.invariants.map((i) => [i.id, i.checked]));
    expect(checked.fifo).toMatch(new RegExp(`^\\d+ events taken at ${inProcessRows} in-process modules$`));
    // Two checkpoints; the process module's statistics come with the final one only.
    expect(checked.accounting).toBe(`${2 * inProcessRows + 1} module statistics at 2 checkpoints`);
    expect(checked['graceful-shutdown']).toBe('1 NodeShutdown subscribers');
  });

  it('tells a module whose startup fails once, as "did not start", not as crashes and a give-up, and does not retry it', async () => {
    const report = await simulate(
      parseScenario({
        name: 'bad setup',
        duration: 2000,
        modules: [{ actor: 'indexer' }, { actor: './fixtures/failing-setup.ts', name: 'db' }],
        traffic: [{ kind: 'blocks', every: 500 }],
      }),
      { baseDir: fileURLToPath(new URL('.', import.meta.url)) },
    );
    const db = report.timeline.filter((e) => e.module === 'db' && e.kind !== 'health').map((e) => e.text);
    expect(db).toEqual(['did not start db: its startup failed: cannot open the database']);
    expect(report.modules.find((m) => m.name === 'db')).toMatchObject({ end: 'did not start', gaveUp: false, assessed: 'unhealthy', handled: 0 });
    expect(report.passed).toBe(true);
  });

  it('tells a module whose one startup attempt was refused (not retried) once too', async () => {
    const report = await simulate(
      parseScenario({ name: 'refused', duration: 1000, modules: [{ actor: './fixtures/failing-setup-once.ts', name: 'db' }] }),
      { baseDir: fileURLToPath(new URL('.', import.meta.url)) },
    );
    const db = report.timeline.filter((e) => e.module === 'db' && e.kind !== 'health').map((e) => e.text);
    expect(db).toEqual(['did not start db: its startup failed: cannot open the database']);
    expect(report.modules.find((m) => m.name === 'db')).toMatchObject({ end: 'did not start', restarts: 0, assessed: 'unhealthy' });
  });
});

describe('simulate: interrupted', () => {
  it('shuts down gracefully when its signal aborts, and reports what ran', async () => {
    const interruption = new AbortController();
    const report = await simulate(smallScenario({ timeScale: 0.02 }), {
      real: true,
      signal: interruption.signal,
      onProgress: (t) => {
        if (t >= 1000) interruption.abort('SIGINT');
      },
    });
    expect(report.scenario.interrupted).toBe('SIGINT');
    expect(report.scenario.endMs).toBeLessThan(report.scenario.shutdownAtMs);
    expect(report.timeline.map((e) => e.text)).toContain('shutdown requested: interrupted: SIGINT');
    expect(report.notes[0]).toMatch(/^interrupted \(SIGINT\) at \d+\.\d{3}s: shut down gracefully before the scenario's end at 5\.000s$/);
    expect(report.invariants.filter((i) => i.status !== 'pass')).toEqual([]);
  });
});

describe('simulate: a failing expectation', () => {
  it('fails the report, naming the module and the value', async () => {
    const report = await simulate(smallScenario({ expect: [{ module: 'slow', dropped: 0 }] }));
    const expectation = report.invariants.find((i) => i.id === 'expect slow');
    expect(expectation?.status).toBe('fail');
    expect(expectation?.violations[0]).toMatch(/^slow: dropped is \d+, expected dropped = 0$/);
    expect(report.passed).toBe(false);
    expect(report.invariants.filter((i) => !i.id.startsWith('expect')).every((i) => i.status === 'pass')).toBe(true);
  });
});

describe('simulate --real', () => {
  it('starts scenario time once every initial module has loaded, however long their start-up took', async () => {
    const report = await simulate(
      parseScenario({
        name: 'slow start',
        duration: 3000,
        timeScale: 0.1,
        modules: [{ actor: './fixtures/slow-start.ts' }, { actor: 'indexer' }, { actor: 'probe', name: 'late', at: 1000 }],
        traffic: [{ kind: 'blocks', every: 100 }],
      }),
      { real: true, baseDir: fileURLToPath(new URL('.', import.meta.url)) },
    );
    // Its 2000 ms start-up was not scenario time: it got every block, from the first one at 0.
    const blocks = report.traffic.NewBlock ?? 0;
    expect(blocks).toBeGreaterThan(20);
    expect(report.modules.find((m) => m.name === 'slow-start')).toMatchObject({ delivered: blocks, handled: blocks });
    const loadedAt = (name: string): number | undefined => report.timeline.find((e) => e.kind === 'loaded' && e.module === name)?.t;
    expect(loadedAt('slow-start')).toBe(0);
    expect(loadedAt('indexer')).toBe(0);
    // Hotloaded at 1000 ms of scenario time (a real timer may fire a little early or late).
    expect(loadedAt('late')).toBeGreaterThan(500);
  });

  it('starts the node once the initial modules have loaded: /readyz is ready while the run goes on', async () => {
    const probes: { before?: { status: number; body: string }; during?: Promise<{ status: number; body: string }> } = {};
    let server: MetricsServer | undefined;
    const readyz = async (): Promise<{ status: number; body: string }> => {
      const res = await fetch(`${server?.url ?? ''}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    // The run goes on until the probe answered, then is interrupted (it would last 20 s).
    const probed = new AbortController();
    const report = await simulate(
      parseScenario({ name: 'ready', duration: 20_000, modules: [{ actor: 'indexer' }, { actor: 'probe', name: 'late', at: 10_000 }] }),
      {
        real: true,
        signal: probed.signal,
        onNode: async (node) => {
          server = await serveMetrics(node, { port: 0 });
          // Asked before anything loads (simulate waits for onNode).
          probes.before = await readyz();
          // The event that proves the node started: NodeStartupCompleted offered to the recorder.
          node.system.inspect((event) => {
            const message = event.type === 'offered' ? (event.message as { type?: unknown }) : null;
            if (message?.type === 'NodeStartupCompleted') probes.during ??= readyz().finally(() => probed.abort('probed'));
          });
        },
      },
    );
    await server?.close();
    expect(probes.before).toEqual({ status: 503, body: expect.stringMatching(/^not ready: /) as string });
    expect(await probes.during).toEqual({ status: 200, body: 'ready\n' });
    const lines = report.timeline.map((e) => `${e.module ?? '-'} ${e.kind} ${e.text}`);
    expect(lines.slice(0, 2)).toEqual(['indexer loaded loaded indexer 1.0.0', '- started NodeStartupCompleted (1 module loaded)']);
    expect(report.scenario.interrupted).toBe('probed');
  });

  it('runs a scenario on the real scheduler, time scaled, with the same invariants', async () => {
    const report = await simulate(smallScenario({ timeScale: 0.02 }), { real: true });
    expect(report.scenario).toMatchObject({ mode: 'real', timeScale: 0.02 });
    expect(report.invariants.filter((i) => i.status !== 'pass')).toEqual([]);
    expect(report.modules.map((m) => m.name)).toEqual(['watcher', 'slow', 'crashy', 'late']);
    expect(report.modules.every((m) => !m.deterministic)).toBe(true);
    expect(report.notes[0]).toMatch(/^real time: 1 virtual ms = 0\.02 real ms/);
  });
});
