import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isModactorError } from '../kernel/errors.js';
import { parseScenarioText } from '../sim/scenario.js';
import { simulate } from '../sim/simulator.js';
import { renderText } from '../sim/render-text.js';
import { renderHtml } from '../sim/render-html.js';
import { errorMessage } from '../sim/error-message.js';
import { serveMetrics, type MetricsServer } from '../metrics/metrics-server.js';
import { runLogCommand } from './log-command.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, invariantFailed: 1, usage: 2, internal: 3 } as const;

const USAGE = `Usage: modactor simulate [scenario.json] [options]
       modactor log DIR [options]     inspect a node's store (modactor log --help)
       modactor --version

Runs a scenario (by default scenarios/default.json: the whole cast of actors/) on a node and
reports its timeline, a per-module table and the invariants checked.

Options:
  --seed N          seed of the simulated scheduler and the traffic (default: the scenario's)
  --real            run in real time on the real scheduler (not deterministic)
  --time-scale X    with --real: real ms per virtual ms (default: the scenario's timeScale)
  --json            print the report as JSON instead of text
  --html FILE       also write a self-contained HTML page with a timeline chart
  --metrics-port N  with --real: serve /metrics, /healthz and /readyz on 127.0.0.1:N while it runs
  -h, --help        show this help

Exit codes: 0 every invariant holds, 1 an invariant or expectation failed,
2 bad arguments or an invalid scenario (the bad field is named), 3 an internal error.`;

/** The package root: the nearest folder up from here with modactor's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'modactor') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** The path of the default scenario. */
export function defaultScenarioPath(): string {
  return join(packageRoot(), 'scenarios', 'default.json');
}

interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: only then is a progress line drawn. */
  readonly progress: boolean;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  progress: process.stderr.isTTY,
};

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(`${USAGE}\n`);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === 'log') return runLogCommand(rest, io);
  if (command !== 'simulate') {
    io.stderr(`modactor: unknown command "${command}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  let parsed: ReturnType<typeof parseSimulateArgs>;
  try {
    parsed = parseSimulateArgs(rest);
  } catch (error) {
    io.stderr(`modactor simulate: ${errorMessage(error)}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  const file = parsed.scenario === undefined ? defaultScenarioPath() : resolve(parsed.scenario);
  const shown = parsed.scenario ?? 'scenarios/default.json';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.stderr(`modactor simulate: cannot read scenario ${shown}: ${errorMessage(error)}\n`);
    return EXIT.usage;
  }

  const started = Date.now(); // only to decide when a run is long enough for a progress line
  let drawn = false;
  const onProgress = (t: number, end: number): void => {
    if (!io.progress || Date.now() - started < 400) return;
    drawn = true;
    const percent = end > 0 ? Math.min(100, Math.floor((t / end) * 100)) : 100;
    io.stderr(`\r  simulating ${shown}: ${(t / 1000).toFixed(1)} s of ${(end / 1000).toFixed(1)} s (${percent}%)  `);
  };
  const served: { metrics?: MetricsServer } = {};
  try {
    const scenario = parseScenarioText(text, shown);
    const report = await simulate(scenario, {
      baseDir: dirname(file),
      onProgress,
      real: parsed.real,
      ...(parsed.metricsPort === undefined
        ? {}
        : {
            onNode: async (node) => {
              served.metrics = await serveMetrics(node, { port: parsed.metricsPort ?? 0 });
              io.stderr(`modactor simulate: metrics on ${served.metrics.url}/metrics\n`);
            },
          }),
      ...(parsed.seed === undefined ? {} : { seed: parsed.seed }),
      ...(parsed.timeScale === undefined ? {} : { timeScale: parsed.timeScale }),
    });
    if (drawn) io.stderr('\r\u001b[2K');
    io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    if (parsed.html !== undefined) {
      writeFileSync(parsed.html, renderHtml(report));
      io.stderr(`modactor simulate: wrote ${parsed.html}\n`);
    }
    return report.passed ? EXIT.ok : EXIT.invariantFailed;
  } catch (error) {
    if (drawn) io.stderr('\r\u001b[2K');
    if (isModactorError(error, 'invalid-scenario')) {
      io.stderr(`modactor simulate: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`modactor simulate: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.internal;
  } finally {
    await served.metrics?.close();
  }
}

function parseSimulateArgs(args: readonly string[]): {
  scenario: string | undefined;
  seed: number | undefined;
  real: boolean;
  timeScale: number | undefined;
  json: boolean;
  html: string | undefined;
  metricsPort: number | undefined;
  help: boolean;
} {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      seed: { type: 'string' },
      real: { type: 'boolean', default: false },
      'time-scale': { type: 'string' },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
      'metrics-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`expected at most one scenario file, got ${positionals.length}: ${positionals.join(' ')}`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(seed)) throw new Error(`--seed: expected a non-negative integer, got "${values.seed}"`);
  }
  let timeScale: number | undefined;
  if (values['time-scale'] !== undefined) {
    timeScale = Number(values['time-scale']);
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`--time-scale: expected a positive number, got "${values['time-scale']}"`);
  }
  let metricsPort: number | undefined;
  if (values['metrics-port'] !== undefined) {
    metricsPort = Number(values['metrics-port']);
    if (!/^\d+$/.test(values['metrics-port']) || metricsPort > 65_535) {
      throw new Error(`--metrics-port: expected a port from 0 to 65535, got "${values['metrics-port']}"`);
    }
    if (!values.real) throw new Error('--metrics-port: expected --real as well (a simulated run takes no real time to scrape)');
  }
  return {
    scenario: positionals[0],
    seed,
    real: values.real,
    timeScale,
    json: values.json,
    html: values.html,
    metricsPort,
    help: values.help,
  };
}
