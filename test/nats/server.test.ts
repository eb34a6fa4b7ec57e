/**
 * Getting and running a nats-server: where the binary comes from, how failures read, and a server
 * that restarts on its port with its store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  MIN_NATS_SERVER_VERSION,
  NatsServerUnavailable,
  findDebianMirror,
  natsServerCacheDir,
  obtainNatsServer,
  startNatsServer,
  versionAtLeast,
} from '../../src/nats/server.js';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'modactor-nats-test-'));
  scratch.push(dir);
  return dir;
};

describe('finding the Debian mirror', () => {
  it('reads deb822 .sources and one-line .list files, skipping other suites, other repositories and disabled entries', () => {
    const sources = [
      'Types: deb',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://mirror.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    expect(findDebianMirror([{ name: '/etc/apt/sources.list.d/debian.sources', text: sources }], 'bookworm')).toEqual({
      uri: 'http://mirror.example/debian',
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
    const list = [
      '# deb http://commented.example/debian bookworm main',
      'deb https://deb.nodesource.com/node_20.x nodistro main',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/k.gpg] http://list.example/debian bookworm main contrib',
    ].join('\n');
    expect(findDebianMirror([{ name: '/etc/apt/sources.list', text: list }], 'bookworm')).toEqual({ uri: 'http://list.example/debian', signedBy: '/k.gpg' });
    const disabled = 'Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n';
    expect(findDebianMirror([{ name: 'x.sources', text: disabled }], 'bookworm')).toBeNull();
    expect(findDebianMirror([{ name: 'x.list', text: list }], 'trixie')).toBeNull();
  });

  it('compares versions numerically', () => {
    expect(versionAtLeast('2.10.27', MIN_NATS_SERVER_VERSION)).toBe(true);
    expect(versionAtLeast('v2.9.10', MIN_NATS_SERVER_VERSION)).toBe(false);
    expect(versionAtLeast('10.0.0', '9.99.99')).toBe(true);
    expect(versionAtLeast('nonsense', '1.0.0')).toBe(false);
  });
});

describe('obtaining the binary', () => {
  it('uses NATS_SERVER_BIN when it is set, and says how to fix it when it is not usable', async () => {
    const real = await obtainNatsServer();
    expect(versionAtLeast(real.version, MIN_NATS_SERVER_VERSION)).toBe(true);
    const home = await tempDir();
    await expect(obtainNatsServer({ env: { NATS_SERVER_BIN: real.path, HOME: home } })).resolves.toEqual({ path: real.path, version: real.version, source: 'env' });
    const bad = obtainNatsServer({ env: { NATS_SERVER_BIN: '/bin/true', HOME: home } });
    await expect(bad).rejects.toBeInstanceOf(NatsServerUnavailable);
    await expect(bad).rejects.toThrow(/NATS_SERVER_BIN is not usable: .*Provide a nats-server 2\.10 or newer .*NATS_SERVER_BIN=/);
  });

  it('fails loudly, saying how to provide one, when nothing is cached and the download cannot run', async () => {
    const home = await tempDir();
    const attempt = obtainNatsServer({ env: { HOME: home, PATH: home } });
    await expect(attempt).rejects.toBeInstanceOf(NatsServerUnavailable);
    await expect(attempt).rejects.toThrow(new RegExp(`nothing cached in ${natsServerCacheDir({ HOME: home }).replace(/[.]/g, '\\.')}.*set NATS_SERVER_BIN=`));
  });

  it('finds a cached binary under MODACTOR_TOOLS_DIR without downloading', async () => {
    const real = await obtainNatsServer();
    if (real.source === 'env') {
      // The machine provides its own binary: the cache is not in play.
      expect(real.path).toBe(process.env['NATS_SERVER_BIN']);
      return;
    }
    const tools = join(real.path, '..', '..', '..');
    await expect(obtainNatsServer({ env: { MODACTOR_TOOLS_DIR: tools, PATH: '' } })).resolves.toMatchObject({ path: real.path, source: 'cache' });
  });
});

describe('running a server', () => {
  it('starts on a random loopback port with JetStream, restarts on the same port with its store, and cleans up', async () => {
    const server = await startNatsServer();
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const port = server.port;
    let nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'kept', subjects: ['kept.>'] });
    await nc.close();
    await server.restart();
    expect(server.port).toBe(port);
    nc = await connect({ servers: server.url });
    expect((await (await jetstreamManager(nc)).streams.info('kept')).config.name).toBe('kept');
    await nc.close();
    await server.kill();
    expect(server.running).toBe(false);
    await server.dispose();
    await expect(connect({ servers: server.url, reconnect: false, timeout: 1000 })).rejects.toThrow();
  });

  it('reports why a server did not start', async () => {
    await expect(startNatsServer({ config: 'this is { not a config' })).rejects.toThrow(/exited during start-up/);
  });
});
