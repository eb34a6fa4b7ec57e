#!/usr/bin/env node
// The modactor command. Runs the build (dist/) when there is one; otherwise the TypeScript
// sources through tsx, so `npm ci && npm start` works without a build step.
// MODACTOR_FROM_SOURCE=1 forces the sources even when dist/ exists.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const built = new URL('dist/src/cli/main.js', root);

let entry;
if (process.env.MODACTOR_FROM_SOURCE !== '1' && existsSync(fileURLToPath(built))) {
  entry = built;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('src/cli/main.ts', root);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
