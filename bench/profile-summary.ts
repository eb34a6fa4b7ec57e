/**
 * Summarizes a CPU profile written by `npm run bench -- --cpu-prof` (or `node --cpu-prof`).
 *
 *   node --import tsx bench/profile-summary.ts bench/profiles/<file>.cpuprofile [--top 20] [--filter src/kernel]
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/args.js';
import { summarizeProfile } from './lib/profile.js';

const args = parseArgs();
const files = process.argv.slice(2).filter((a) => a.endsWith('.cpuprofile'));
if (files.length === 0) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile>... [--top N] [--filter TEXT]');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = args.string('filter', '');
for (const file of files) {
  console.log(file);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const lines = summarizeProfile(profile, { top: args.number('top', 20), root, ...(filter === '' ? {} : { filter }) });
  for (const line of lines) console.log(`  ${line}`);
}
