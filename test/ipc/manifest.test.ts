import { describe, expect, it } from 'vitest';
import { EventType, defineProcessModule, isModactorError, nodeCatalogue, type ProcessModuleManifest } from '../../src/index.js';
import { validateManifest } from '../../src/ipc/manifest.js';

const entry = new URL('./fixtures/sdk-child.ts', import.meta.url);
const base: ProcessModuleManifest = { name: 'm', version: '1.0.0', entry, subscribe: [EventType.NewBlock] };

/** The issues of an invalid manifest, as `path: message`. */
function issuesOf(manifest: unknown): string[] {
  try {
    validateManifest(manifest as ProcessModuleManifest, nodeCatalogue);
  } catch (error) {
    if (!isModactorError(error, 'invalid-manifest')) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the manifest to be refused');
}

describe('process module manifests', () => {
  it('fills in the defaults of a minimal manifest', () => {
    expect(validateManifest(base, nodeCatalogue)).toMatchObject({
      name: 'm',
      entryPath: entry.pathname,
      typescript: true,
      isolation: 'process',
      subscribe: ['NewBlock'],
      publishes: [],
      mailboxCapacity: 100,
      credits: 100,
      maxInFlightBytes: 8 * 1024 * 1024,
      filter: undefined,
      restart: {},
      heartbeatMs: 1000,
      heartbeatMissed: 3,
      ratePerSecond: 100,
      rateBurst: 100,
      maxMessageBytes: 1024 * 1024,
      shutdownTimeoutMs: 5000,
    });
  });

  it('names the bad field of a restart policy', () => {
    expect(issuesOf({ ...base, restart: { maxRestarts: -1 } })).toEqual(['restart.maxRestarts: expected an integer >= 0, got number -1']);
    expect(issuesOf({ ...base, restart: { type: 'sometimes', withinMs: 0 } })).toEqual([
      'restart.type: expected permanent, transient or temporary, got "sometimes"',
      'restart.withinMs: expected a number of ms > 0, got number 0',
    ]);
    expect(issuesOf({ ...base, restart: { backoff: { minMs: 10, maxMs: 5 } } })).toEqual(['restart.backoff.maxMs: expected a number of ms >= minMs, got number 5']);
  });

  it('names every bad field at once, with a message naming the first', () => {
    try {
      defineProcessModule({
        ...base,
        subscribe: [EventType.NewBlock, 'NoSuchEvent' as never],
        publishes: 'HealthCheck' as never,
        mailboxCapacity: 0,
        heartbeat: { intervalMs: 5, missed: 0 },
        publishRateLimit: { perSecond: -1 },
        entry: '/no/such/file.ts',
        nonsense: true,
      } as never);
      throw new Error('expected a throw');
    } catch (error) {
      expect(isModactorError(error, 'invalid-manifest')).toBe(true);
      expect((error as Error).message).toBe('Invalid manifest of module "m": nonsense: expected one of name, version, entry, isolation, subscribe, publishes, filter, mailboxCapacity, credits, maxInFlightBytes, restart, heartbeat, publishRateLimit, maxMessageBytes, startupTimeoutMs, shutdownTimeoutMs, args, env, execArgv, replay, got an unknown field (and 7 more)');
      expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
        'nonsense',
        'entry',
        'subscribe[1]',
        'publishes',
        'mailboxCapacity',
        'heartbeat.intervalMs',
        'heartbeat.missed',
        'publishRateLimit.perSecond',
      ]);
    }
  });

  it('refuses a bad name, version, isolation and process-only options for a worker', () => {
    expect(issuesOf({ ...base, name: 'no spaces', version: '' })).toEqual([
      'name: expected a name of letters, digits, ".", "_" or "-" (max 64), got "no spaces"',
      'version: expected a non-empty string (max 64), got ""',
    ]);
    expect(issuesOf({ ...base, isolation: 'thread' })).toEqual(['isolation: expected "process" or "worker", got "thread"']);
    expect(issuesOf({ ...base, isolation: 'worker', env: { A: '1' } })).toEqual([
      'env: expected no env with isolation "worker" (a worker shares the process environment), got an object',
    ]);
    expect(issuesOf({ ...base, entry: new URL('https://example.com/x.ts') })).toEqual(['entry: expected a file: URL, got https: URL']);
  });

  it('accepts the types only the node publishes in publishes: listing them grants nothing (refused at run time)', () => {
    const manifest = { ...base, publishes: [EventType.HealthCheck, EventType.ModuleCrashed, EventType.NodeShutdown] };
    expect(() => defineProcessModule(manifest)).not.toThrow();
    expect(validateManifest(manifest, nodeCatalogue).publishes).toEqual(['HealthCheck', 'ModuleCrashed', 'NodeShutdown']);
  });


  it('defaults credits to the mailbox capacity and refuses a window larger than the bound', () => {
    expect(validateManifest({ ...base, mailboxCapacity: 7 }, nodeCatalogue)).toMatchObject({ mailboxCapacity: 7, credits: 7 });
    expect(validateManifest({ ...base, credits: 1 }, nodeCatalogue)).toMatchObject({ mailboxCapacity: 100, credits: 1 });
    expect(issuesOf({ ...base, credits: 1000 })).toEqual(['credits: expected an integer from 1 to 100, got number 1000']);
    expect(issuesOf({ ...base, maxInFlightBytes: 1000 })).toEqual(['maxInFlightBytes: expected at least 65536, got number 1000']);
  });

  it('gives the supervisor the module as a LoadableModule with the host-side bound and its policy', () => {
    const module = defineProcessModule({ ...base, mailboxCapacity: 7, restart: { maxRestarts: 1 }, shutdownTimeoutMs: 300 });
    expect(module).toMatchObject({ kind: 'process', name: 'm', version: '1.0.0', subscribe: ['NewBlock'], mailboxCapacity: 7, restart: { maxRestarts: 1 } });
    expect(module.shutdownTimeoutMs).toBeGreaterThan(300);
    expect(module.status()).toMatchObject({ state: 'down', spawned: 0, pid: undefined });
  });
});
