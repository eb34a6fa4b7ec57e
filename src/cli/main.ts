import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { isModactorError } from '../kernel/errors.js';
import { parseScenarioText } from '../sim/scenario.js';
import { simulate } from '../sim/simulator.js';
import { renderText } from '../sim/render-text.js';
import type { SimulationReport } from '../sim/report.js';
import { ioReason, unwritable } from './output-path.js';
import { renderHtml } from '../sim/render-html.js';
import { errorMessage } from '../sim/error-message.js';
import { serveMetrics, type MetricsServer } from '../metrics/metrics-server.js';
import { runLogCommand } from './log-command.js';
import { OptionValues, argumentProblems, integerText, numberText } from './option-values.js';
import { nonEmptyString, nonNegativeInteger, oneOf, positiveNumber, predicate } from '../kernel/checks.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, invariantFailed: 1, usage: 2, internal: 3 } as const;

/** pino's levels, for `--log-level` and `MODACTOR_LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

const USAGE = `Usage: modactor simulate [scenario.json] [options]
       modactor log DIR [options]     inspect a node's store (modactor log --help)
       modactor --version

Runs a scenario (by default scenarios/default.json: the whole cast of actors/) on a node and
reports its timeline, a per-module table and the invariants checked.

Options:
  --seed N          seed of the simulated scheduler and the traffic (default: the scenario's)
  --real            run in real time on the real scheduler (not deterministic); SIGINT or
                    SIGTERM shuts the node down gracefully and prints the report of what ran
  --time-scale X    with --real: real ms per virtual ms (default: the scenario's timeScale)
  --json            print the report as JSON instead of text
  --html FILE       also write a self-contained HTML page with a timeline chart
  --log-level L     the node's logs (pino, JSON lines) on stderr at this level: fatal, error,
                    warn, info, debug, trace or silent (default: $MODACTOR_LOG_LEVEL, else warn)
  --metrics-port N  with --real: serve /metrics, /healthz and /readyz on 127.0.0.1:N while it runs
  --nats URL        a cluster scenario (one with "nodes", e.g. scenarios/cluster.json): its nodes
                    join the NATS server at URL (default: a nats-server started for the run);
                    a cluster always runs in real time
  -h, --help        show this help

The report goes to stdout, logs and messages to stderr. Output files are checked before the run.
Exit codes: 0 every invariant holds, 1 an invariant or expectation failed,
2 bad arguments, an invalid scenario or an unwritable output file (one line on stderr, naming it),
3 an internal error, or a node of a cluster scenario that could not join the bus.`;

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

/** What the CLI talks to: its output streams, its environment and the process's signals. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: only then is a progress line drawn. */
  readonly progress: boolean;
  /** The environment (`MODACTOR_LOG_LEVEL`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Calls `handler` with the signal's name on SIGINT or SIGTERM until the returned function is
   * called (a `--real` run listens while it runs).
   */
  readonly onSignal: (handler: (signal: string) => void) => () => void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The process's own streams and signals. A second signal while a run shuts down exits at once. */
const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  progress: process.stderr.isTTY,
  env: process.env,
  onSignal: (handler) => {
    let seen = 0;
    const listener = (signal: NodeJS.Signals): void => {
      seen++;
      if (seen > 1) {
        process.stderr.write(`modactor simulate: ${signal} again: exiting without waiting for the shutdown\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      handler(signal);
    };
    for (const signal of SIGNALS) process.on(signal, listener);
    return () => {
      for (const signal of SIGNALS) process.off(signal, listener);
    };
  },
};

/** The CLI's logger: pino's JSON lines on stderr (so stdout holds the report alone). */
function cliLogger(level: LogLevel, io: Io): Logger {
  return pino({ level, base: { pid: process.pid } }, { write: (line: string) => io.stderr(line) });
}

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
    parsed = parseSimulateArgs(rest, io.env);
  } catch (error) {
    io.stderr(`${argumentProblems(error, errorMessage).map((line) => `modactor simulate: ${line}\n`).join('')}\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  // Output files are checked before anything runs: a bad one fails in a moment, not after the run.
  if (parsed.html !== undefined) {
    const problem = unwritable(parsed.html);
    if (problem !== null) {
      io.stderr(`modactor simulate: --html ${parsed.html}: cannot write it: ${problem}\n`);
      return EXIT.usage;
    }
  }
  const file = parsed.scenario === undefined ? defaultScenarioPath() : resolve(parsed.scenario);
  const shown = parsed.scenario ?? 'scenarios/default.json';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.stderr(`modactor simulate: cannot read scenario ${shown}: ${ioReason(error)}\n`);
    return EXIT.usage;
  }

  if (clusterOf(text)) return runClusterCommand(text, shown, dirname(file), parsed, io);

  const started = Date.now(); // only to decide when a run is long enough for a progress line
  let drawn = false;
  const onProgress = (t: number, end: number): void => {
    if (!io.progress || Date.now() - started < 400) return;
    drawn = true;
    const percent = end > 0 ? Math.min(100, Math.floor((t / end) * 100)) : 100;
    io.stderr(`\r  simulating ${shown}: ${(t / 1000).toFixed(1)} s of ${(end / 1000).toFixed(1)} s (${percent}%)  `);
  };
  const clearProgress = (): void => {
    if (drawn) io.stderr('\r\u001b[2K');
    drawn = false;
  };
  // A real run stops gracefully on SIGINT or SIGTERM and reports what ran.
  const interruption = new AbortController();
  const stopListening = parsed.real
    ? io.onSignal((signal) => {
        clearProgress();
        io.stderr(`modactor simulate: ${signal}: shutting the node down gracefully (again to exit at once)\n`);
        interruption.abort(signal);
      })
    : () => undefined;
  let report: SimulationReport;
  const served: { metrics?: MetricsServer } = {};
  try {
    const scenario = parseScenarioText(text, shown);
    report = await simulate(scenario, {
      baseDir: dirname(file),
      onProgress,
      real: parsed.real,
      logger: cliLogger(parsed.logLevel, io),
      signal: interruption.signal,
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
  } catch (error) {
    clearProgress();
    return runFailed(error, io);
  } finally {
    stopListening();
    await served.metrics?.close();
  }
  clearProgress();
  io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
  if (parsed.html !== undefined) {
    try {
      writeFileSync(parsed.html, renderHtml(report));
    } catch (error) {
      io.stderr(`modactor simulate: --html ${parsed.html}: cannot write it: ${ioReason(error)}\n`);
      return EXIT.usage;
    }
    io.stderr(`modactor simulate: wrote ${parsed.html}\n`);
  }
  return report.passed ? EXIT.ok : EXIT.invariantFailed;
}

/** A TCP port, 0 for any free one. */
const port = predicate<number>('a port from 0 to 65535', (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 65_535);

const logLevelCheck = oneOf(...LOG_LEVELS);

function parseSimulateArgs(
  args: readonly string[],
  env: Io['env'],
): {
  scenario: string | undefined;
  seed: number | undefined;
  real: boolean;
  timeScale: number | undefined;
  json: boolean;
  html: string | undefined;
  logLevel: LogLevel;
  metricsPort: number | undefined;
  nats: string | undefined;
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
      'log-level': { type: 'string' },
      'metrics-port': { type: 'string' },
      nats: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const options = new OptionValues(values);
  if (positionals.length > 1) options.refuse('', 'at most one scenario file', `${positionals.length}: ${positionals.join(' ')}`);
  const seed = options.read('seed', integerText(nonNegativeInteger));
  const timeScale = options.read('time-scale', numberText(positiveNumber));
  const html = options.read('html', nonEmptyString);
  // The log level: --log-level, else MODACTOR_LOG_LEVEL, else warn.
  const logLevel = values['log-level'] !== undefined ? options.read('log-level', logLevelCheck) : options.fromEnv(env, 'MODACTOR_LOG_LEVEL', logLevelCheck);
  const metricsPort = options.read('metrics-port', integerText(port));
  const nats = options.read('nats', nonEmptyString);
  if (values['metrics-port'] !== undefined && !values.real) {
    options.refuse('--metrics-port', '--real as well (a simulated run takes no real time to scrape)', 'no --real');
  }
  options.done();
  return {
    scenario: positionals[0],
    seed,
    real: values.real,
    timeScale,
    json: values.json,
    html,
    logLevel: logLevel ?? DEFAULT_LOG_LEVEL,
    metricsPort,
    nats,
    help: values.help,
  };
}

/** Whether the scenario text is a cluster scenario (JSON with `nodes`); false when it is not JSON (the single-node parser says why). */
function clusterOf(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && 'nodes' in value;
  } catch {
    return false;
  }
}

/** `modactor simulate` on a cluster scenario (src/cli/cluster-run.ts, loaded only then: it brings the NATS client). */
async function runClusterCommand(text: string, shown: string, baseDir: string, parsed: ReturnType<typeof parseSimulateArgs>, io: Io): Promise<number> {
  const refused = (['seed', 'html', 'metricsPort'] as const).filter((option) => parsed[option] !== undefined);
  if (refused.length > 0) {
    const flags = refused.map((option) => ({ seed: '--seed', html: '--html', metricsPort: '--metrics-port' })[option]);
    io.stderr(`modactor simulate: ${flags.join(', ')}: expected a single-node scenario, got the cluster scenario ${shown} (each node's scenario has its own seed)\n`);
    return EXIT.usage;
  }
  const { ClusterJoinError, parseClusterScenario, renderClusterText, runCluster } = await import('./cluster-run.js');
  const interruption = new AbortController();
  const stopListening = io.onSignal((signal) => {
    io.stderr(`modactor simulate: ${signal}: shutting the nodes down gracefully\n`);
    interruption.abort(signal);
  });
  try {
    const cluster = parseClusterScenario(JSON.parse(text), shown);
    const report = await runCluster(cluster, {
      baseDir,
      logger: cliLogger(parsed.logLevel, io),
      signal: interruption.signal,
      ...(parsed.nats === undefined ? {} : { nats: parsed.nats }),
      ...(parsed.timeScale === undefined ? {} : { timeScale: parsed.timeScale }),
    });
    io.stdout(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderClusterText(report));
    return report.passed ? EXIT.ok : EXIT.invariantFailed;
  } catch (error) {
    return runFailed(error, io, error instanceof ClusterJoinError);
  } finally {
    stopListening();
  }
}

/**
 * Says why a run failed and gives its exit code: an invalid scenario (2) or an error told as it is
 * (`told`: its message is the whole story) on one line, anything else as an internal error (3)
 * with its stack.
 */
function runFailed(error: unknown, io: Io, told = false): number {
  if (isModactorError(error, 'invalid-scenario')) {
    io.stderr(`modactor simulate: ${error.message}\n`);
    return EXIT.usage;
  }
  if (told && error instanceof Error) {
    io.stderr(`modactor simulate: ${error.message}\n`);
    return EXIT.internal;
  }
  io.stderr(`modactor simulate: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.internal;
}
