/**
 * `npm run nats-server -- <command>`: the project's own way to get and run a nats-server.
 *
 *   fetch     obtain a nats-server >= 2.10 (NATS_SERVER_BIN, the cache, or a download of Debian
 *             trixie's package without root) and print its path and version
 *   start     start one on a random loopback port with JetStream (and --user/--pass if given),
 *             print its URL, and stop it on Ctrl-C
 *
 * Options of start: --port N, --store DIR, --user U --pass P.
 */
import { parseArgs } from 'node:util';
import { obtainNatsServer, startNatsServer } from '../src/nats/server.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string' },
    store: { type: 'string' },
    user: { type: 'string' },
    pass: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const command = positionals[0] ?? 'fetch';
  const binary = await obtainNatsServer({ onProgress: (line) => console.error(line) });
  if (command === 'fetch') {
    console.log(`${binary.path}\t${binary.version}\t(${binary.source})`);
    return;
  }
  if (command !== 'start') throw new Error(`Expected a command fetch or start, got "${command}"`);
  if ((values.user === undefined) !== (values.pass === undefined)) throw new Error('Expected --user and --pass together, got only one');
  const server = await startNatsServer({
    binary: binary.path,
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
    ...(values.store === undefined ? {} : { storeDir: values.store }),
    ...(values.user === undefined || values.pass === undefined ? {} : { auth: { user: values.user, pass: values.pass } }),
  });
  console.log(`nats-server ${binary.version} on ${server.url} (store ${server.storeDir}); Ctrl-C stops it`);
  const stop = (): void => {
    void server.dispose().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
