#!/usr/bin/env node
// The modactor command. In a checkout (the TypeScript sources are here) it runs them through tsx,
// with `modactor/...` imports resolved to the sources (the "modactor-source" export condition), so
// `npm ci && npm start` needs no build step and never runs a stale build; an installed package
// (dist/ only) runs its build. MODACTOR_FROM_DIST=1 runs dist/ in a checkout too.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const args = process.argv.slice(2);

if (args[0] === '--version' || args[0] === '-v') {
  const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
  process.stdout.write(`${version}\n`);
} else {
  process.exitCode = await run(args);
}

async function run(argv) {
  const source = new URL('src/cli/main.ts', root);
  const built = new URL('dist/src/cli/main.js', root);
  const checkout = process.env.MODACTOR_FROM_DIST !== '1' && existsSync(fileURLToPath(source));
  // tsx: the checkout's (a dev dependency), or the project's when it has one (then scenarios may
  // name .ts actors); an installed package without it runs .js actors only.
  const tsx = await import('tsx/esm/api').catch((error) => {
    if (checkout || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return null;
  });
  tsx?.register();
  let entry = built;
  if (checkout) {
    // Registered after tsx, so it runs first: every resolution below sees the source condition.
    const { register: registerHooks } = await import('node:module');
    const hooks = "export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, 'modactor-source'] }); }";
    registerHooks(`data:text/javascript,${encodeURIComponent(hooks)}`);
    entry = source;
  }
  const { main } = await import(entry.href);
  return main(argv);
}
