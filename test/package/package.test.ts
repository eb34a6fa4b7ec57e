/**
 * The package as a user gets it: `npm run build`, `npm pack`, the tarball installed into an empty
 * folder (its dependencies from the registry), then the bin, a plain-JS consumer and a TypeScript
 * consumer (`moduleResolution: nodenext`) against what was installed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPoints, readList, root } from './public-api.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without the outer npm's (`npm test`) settings, so nested npm runs are plain. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** Runs and insists on exit 0, showing the output otherwise. */
async function ok(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * The lines of a `modactor simulate` run's stderr: each one of the node's log lines (pino JSON, at
 * the CLI's log level), nothing else (no warning of Node's, no stray output).
 */
function logLinesOnly(stderr: string): { level: number; msg: string }[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
      expect(parsed, line).toMatchObject({ level: expect.any(Number) as number, msg: expect.any(String) as string });
      return parsed as { level: number; msg: string };
    });
}

const work = mkdtempSync(join(tmpdir(), 'modactor-package-'));
const consumer = join(work, 'consumer');
const installed = join(consumer, 'node_modules/modactor');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
let packedFiles: string[];
let checkoutReport: Promise<Run>;

beforeAll(async () => {
  // The checkout's own report, from its sources, while the package is built.
  checkoutReport = run(process.execPath, [join(root, 'bin/modactor.js'), 'simulate'], root);
  await ok('npm', ['run', 'build'], root);
  const packed = JSON.parse((await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root)).stdout) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = packed[0] ?? expect.unreachable('npm pack made no tarball');
  packedFiles = tarball.files.map((f) => f.path);
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await ok('npm', ['install', join(work, tarball.filename), '--no-audit', '--no-fund', '--prefer-offline'], consumer);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  it('ships the build, the bin, the default scenario, LICENSE, README and CHANGELOG, and no sources', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'bin/modactor.js',
        'scenarios/default.json',
        'dist/src/cli/main.js',
        'dist/actors/indexer.js',
        'dist/actors/process-block-indexer.js',
        ...['index', 'sdk', 'sim', 'metrics', 'nats'].flatMap((e) => [`dist/src/${e}.js`, `dist/src/${e}.d.ts`]),
      ]),
    );
    const strays = packedFiles.filter((f) => !/^(dist\/(src|actors)\/.*\.(js|d\.ts)|bin\/modactor\.js|scenarios\/[^/]+\.json|package\.json|LICENSE|README\.md|CHANGELOG\.md)$/.test(f));
    expect(strays, 'no sources, tests, maps or build info').toEqual([]);
  });

  it('has no source maps pointing at sources it does not ship', () => {
    const js = packedFiles.filter((f) => f.endsWith('.js'));
    const mapped = js.filter((f) => readFileSync(join(installed, f), 'utf8').includes('sourceMappingURL'));
    expect(mapped).toEqual([]);
  });
});

describe('the installed package', () => {
  it('runs the default scenario with `npx modactor simulate`, with the checkout\'s report byte for byte', async () => {
    const [fromPackage, fromCheckout] = await Promise.all([run('npx', ['--no', '--', 'modactor', 'simulate'], consumer), checkoutReport]);
    expect(fromCheckout.code, fromCheckout.stderr).toBe(0);
    // The report on stdout; stderr has the node's logs only (the crashes, the full mailboxes).
    expect(logLinesOnly(fromPackage.stderr).map((l) => l.msg)).toContain('module crashed');
    expect(fromPackage.code).toBe(0);
    expect(fromPackage.stdout).toBe(fromCheckout.stdout);
    expect(fromPackage.stdout).toContain('block-indexer'); // its process module ran from dist/actors
  });

  it('tells its version with `modactor --version`', async () => {
    expect(await run('npx', ['--no', '--', 'modactor', '--version'], consumer)).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  it('serves a plain-JS consumer: each entry point exports the values of its list, and a node runs', async () => {
    writeFileSync(join(consumer, 'module.ts'), "import { runModule } from 'modactor/sdk';\nawait runModule({ name: 'm', version: '1.0.0', handle() {} });\n");
    writeFileSync(
      join(consumer, 'app.js'),
      [
        "import { createNode, defineModule, defineProcessModule, EventType } from 'modactor';",
        'const node = createNode();',
        'const heights = [];',
        "await node.load(defineModule({ name: 'indexer', version: '1.0.0', subscribe: [EventType.NewBlock], handle(e) { heights.push(e.payload.height); } }));",
        "node.publisher.newBlock('ab'.repeat(32), 1);",
        "node.events.publish({ type: EventType.NewBlock, payload: { blockHash: 'cd'.repeat(32), height: 2 } });",
        'await node.shutdown();',
        "const { handled } = await node.events.getDeliveryStats('indexer');",
        'let tsEntry = "accepted";',
        "try { defineProcessModule({ name: 'm', version: '1.0.0', entry: new URL('./module.ts', import.meta.url), subscribe: [] }); }",
        'catch (error) { tsEntry = `${error.code}: ${error.message}`; }',
        'const exports = {};',
        `for (const specifier of ${JSON.stringify(entryPoints().map((e) => e.specifier))}) exports[specifier] = Object.keys(await import(specifier)).sort();`,
        'console.log(JSON.stringify({ heights, handled, tsEntry, exports }));',
      ].join('\n'),
    );
    const result = await run(process.execPath, ['app.js'], consumer);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as { heights: number[]; handled: number; tsEntry: string; exports: Record<string, string[]> };
    expect(out.heights).toEqual([1, 2]);
    expect(out.handled).toBe(2);
    for (const entry of entryPoints()) {
      expect(out.exports[entry.specifier], entry.specifier).toEqual(readList(entry.list).filter((l) => !l.startsWith('type ')).sort());
    }
    // A TypeScript entry: Node strips the types itself where it can; elsewhere, without tsx, a clear refusal.
    const features = process.features as { typescript?: string | boolean };
    if (features.typescript !== undefined && features.typescript !== false) expect(out.tsEntry).toBe('accepted');
    else expect(out.tsEntry).toMatch(/^invalid-manifest: Invalid manifest: entry: expected a TypeScript loader to run .*module\.ts \(install tsx: npm install --save-dev tsx;/);
  });

  it('keeps modactor/sdk light: no actor system, node, simulator, xstate or prom-client in its imports', () => {
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const [, specifier = ''] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
        if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
        else if (!specifier.startsWith('node:')) packages.add(specifier);
      }
    };
    visit(join(installed, 'dist/src/sdk.js'));
    const files = [...reached].map((f) => relative(join(installed, 'dist/src'), f)).sort();
    expect(files).toContain('ipc/sdk.js');
    expect(files.filter((f) => /^(sim|node|metrics|cli)\/|^kernel\/(system|actor|supervision)\.js$/.test(f))).toEqual([]);
    expect([...packages].sort()).toEqual(['nanoid', 'pino']);
  });

  it('runs a scenario naming a .ts actor with the project\'s tsx, and says what to install without it', async () => {
    writeFileSync(
      join(consumer, 'my-actor.ts'),
      "import { defineModule, EventType, type ModuleDefinition } from 'modactor';\n" +
        "export default (): ModuleDefinition => defineModule({ name: 'mine', version: '1.0.0', subscribe: [EventType.NewBlock], handle() {} });\n",
    );
    const scenario = { name: 'mine', seed: 1, duration: 2000, modules: [{ actor: './my-actor.ts' }], traffic: [{ kind: 'blocks', every: 500 }] };
    writeFileSync(join(consumer, 'mine.json'), JSON.stringify(scenario));
    const features = process.features as { typescript?: string | boolean };
    const without = await run('npx', ['--no', '--', 'modactor', 'simulate', 'mine.json'], consumer);
    if (features.typescript !== undefined && features.typescript !== false) {
      expect(without.code, without.stderr).toBe(0);
    } else {
      expect(without.code).toBe(2);
      expect(without.stderr).toContain('expected an importable ' + join(consumer, 'my-actor.ts') + ' (a TypeScript file: install tsx: npm install --save-dev tsx; or use Node >= 22.18');
    }
    // The project gets tsx (this checkout's, linked as if installed).
    const link = join(consumer, 'node_modules/tsx');
    symlinkSync(join(root, 'node_modules/tsx'), link, 'dir');
    try {
      const withTsx = await run('npx', ['--no', '--', 'modactor', 'simulate', 'mine.json'], consumer);
      logLinesOnly(withTsx.stderr);
      expect(withTsx.code, withTsx.stderr).toBe(0);
      expect(withTsx.stdout).toMatch(/^ {2}my-actor +in-process +4 /m); // four blocks in two seconds, all delivered
    } finally {
      rmSync(link);
    }
  });

  it('type-checks a TypeScript consumer with moduleResolution nodenext against the shipped declarations', async () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: true, // as consumers do: xstate's own declarations do not pass every strict option
          typeRoots: [join(root, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    writeFileSync(
      join(consumer, 'check.ts'),
      [
        "import { createNode, defineModule, EventType, type DeliveryStats, type ModactorNode } from 'modactor';",
        "import { runModule, type ChildModuleContext } from 'modactor/sdk';",
        "import { parseScenario, type SimulationReport } from 'modactor/sim';",
        "import { createNodeMetrics, serveMetrics, type MetricsServer } from 'modactor/metrics';",
        "import { connectBus, createBusMetrics, type Bus } from 'modactor/nats';",
        '// @ts-expect-error runModule is not in modactor (it is in modactor/sdk)',
        "import { runModule as fromIndex } from 'modactor';",
        'const node: ModactorNode = createNode();',
        "const indexer = defineModule({ name: 'indexer', version: '1.0.0', subscribe: [EventType.NewBlock], handle(event) {",
        "  if (event.type === 'NewBlock') { const height: number = event.payload.height; void height; }",
        '} });',
        'void node.load(indexer);',
        '// @ts-expect-error a NewBlock height is a number',
        "node.events.publish({ type: 'NewBlock', payload: { blockHash: 'ab', height: 'x' } });",
        "const stats: Promise<DeliveryStats | undefined> = node.events.getDeliveryStats('indexer');",
        'const server: Promise<MetricsServer> = serveMetrics(node, { port: 0, registry: createNodeMetrics(node, { maxModules: 10 }) });',
        "const report: SimulationReport | undefined = undefined; const scenario = parseScenario({ name: 'x', duration: 1 });",
        "const child = (ctx: ChildModuleContext) => ctx.log.info('x');",
        "const bus: Promise<Bus> = connectBus(node, { servers: ['nats://127.0.0.1:4222'], nodeId: 'eu-1', durableTypes: ['NewBlock'] });",
        'void bus.then((joined) => createBusMetrics(joined, { registry: createNodeMetrics(node) }));',
        '// @ts-expect-error the node id is required',
        "void connectBus(node, { servers: 'nats://127.0.0.1:4222' });",
        'void runModule; void fromIndex; void stats; void server; void report; void scenario; void child;',
      ].join('\n'),
    );
    const result = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], consumer);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });
});
