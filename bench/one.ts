/**
 * Runs one case by hand the way the driver does (transpiled once with esbuild, then plain `node`,
 * so the numbers match the driver's rather than tsx's), printing what the case prints:
 *
 *   npx tsx bench/one.ts <case> [case options...]     e.g. npx tsx bench/one.ts paired --impl node
 *
 * `<case>` names a file of bench/cases/ without its extension.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuild, removeBuild } from './lib/prebuild.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);
if (name === undefined || !existsSync(join(root, 'bench/cases', `${name}.ts`))) {
  console.error('usage: npx tsx bench/one.ts <case> [options...]   (a file of bench/cases/, without .ts)');
  process.exit(2);
}
const dir = await prebuild(root);
const file = dir === null ? join(root, 'bench/cases', `${name}.ts`) : join(root, dir, 'bench/cases', `${name}.js`);
const flags = dir === null ? ['--import', 'tsx'] : [];
const child = spawnSync(process.execPath, [...flags, file, ...rest], { cwd: root, stdio: 'inherit' });
if (dir !== null) removeBuild(root, dir);
process.exit(child.status ?? 1);
