/**
 * How a module child loads its entry: the Node flags a child process (or worker) is started with.
 * A `.ts` entry needs a TypeScript loader: tsx where it is installed, else Node's own type
 * stripping (Node ≥ 22.18 and 23.6 strip types by default; 22.6 to 22.17 behind
 * `--experimental-strip-types`). When this runtime itself runs from its TypeScript sources (a
 * checkout of modactor), the child resolves `modactor/...` to the sources too (the
 * "modactor-source" export condition), which takes tsx whatever the entry's extension. @internal
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issue, summarizeIssues } from '../kernel/checks.js';
import { ModactorError, TYPESCRIPT_LOADER_HINT } from '../kernel/errors.js';

/** The export condition under which `modactor/...` resolves to `src/*.ts` in a checkout. */
export const SOURCE_CONDITION = 'modactor-source';

/** What a child's flags depend on: this process and the entry. */
export interface LoaderEnvironment {
  /** The entry is TypeScript (`.ts`, `.mts`, `.cts`). */
  readonly typescript: boolean;
  /** This runtime runs from its `.ts` sources. */
  readonly fromSources: boolean;
  /** tsx's loader (for `--import`) and ESM API (`tsImport`, for workers) as file URLs, when installed. */
  readonly tsx: { readonly loader: string; readonly api: string } | null;
  /** `process.features.typescript` (Node ≥ 22.10): `'strip'`, `'transform'` or false; undefined before. */
  readonly nodeStripsTypes: string | boolean | undefined;
  /** Node accepts `--experimental-strip-types`. */
  readonly stripTypesFlag: boolean;
  readonly nodeVersion: string;
}

/** How the child loads its entry. */
export type ChildLoader =
  /** Plain Node (a `.js` entry; or a `.ts` one Node strips itself, `flags` saying how). */
  | { readonly kind: 'node'; readonly flags: readonly string[] }
  /** Through tsx: `--import <loader>` for a process, `tsImport` from `api` in a worker. */
  | { readonly kind: 'tsx'; readonly flags: readonly string[]; readonly loader: string; readonly api: string };

/**
 * Chooses how a child loads its entry. Throws a ModactorError (`invalid-manifest`) naming what to
 * install when a TypeScript entry has no way to run here.
 */
export function childLoader(env: LoaderEnvironment, entryPath: string): ChildLoader {
  const conditions = env.fromSources ? [`--conditions=${SOURCE_CONDITION}`] : [];
  if ((env.typescript || env.fromSources) && env.tsx !== null) return { kind: 'tsx', flags: conditions, ...env.tsx };
  if (!env.typescript) return { kind: 'node', flags: conditions };
  if (!env.fromSources && env.nodeStripsTypes !== undefined && env.nodeStripsTypes !== false) return { kind: 'node', flags: [] };
  if (!env.fromSources && env.stripTypesFlag) return { kind: 'node', flags: ['--experimental-strip-types'] };
  const refused = issue(
    'entry',
    `a TypeScript loader to run ${entryPath} (${TYPESCRIPT_LOADER_HINT})`,
    `Node ${env.nodeVersion} without tsx`,
  );
  throw new ModactorError('invalid-manifest', `Invalid manifest: ${summarizeIssues([refused])}`, { issues: [refused] });
}

const require = createRequire(import.meta.url);
let tsx: LoaderEnvironment['tsx'] | undefined;

/** tsx as this package finds it (not as the child's cwd would), or null when it is not installed. */
function findTsx(): LoaderEnvironment['tsx'] {
  try {
    return {
      loader: pathToFileURL(require.resolve('tsx')).href,
      api: pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href,
    };
  } catch {
    return null;
  }
}

/** This process's environment. */
export function currentLoaderEnvironment(typescript: boolean): LoaderEnvironment {
  tsx ??= findTsx();
  const features = process.features as { readonly typescript?: string | boolean };
  return {
    typescript,
    fromSources: import.meta.url.endsWith('.ts'),
    tsx,
    nodeStripsTypes: features.typescript,
    stripTypesFlag: process.allowedNodeEnvironmentFlags.has('--experimental-strip-types'),
    nodeVersion: process.versions.node,
  };
}
