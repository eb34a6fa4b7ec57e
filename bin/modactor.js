#!/usr/bin/env node
// The modactor command. In a checkout (the TypeScript sources are here) it runs them through tsx,
// so `npm ci && npm start` needs no build step and never runs a stale build; an installed package
// (dist/ only) runs its build. MODACTOR_FROM_DIST=1 runs dist/ in a checkout too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const source = new URL('src/cli/main.ts', root);
const built = new URL('dist/src/cli/main.js', root);

let entry = built;
if (process.env.MODACTOR_FROM_DIST !== '1' && existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
