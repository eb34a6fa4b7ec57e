import { EventType, defineProcessModule, type ProcessModule, type ProcessModuleManifest } from '../../src/index.js';

type Overrides = Partial<Omit<ProcessModuleManifest, 'entry' | 'name'>>;

/** A module from sdk-child.ts in the given mode. */
export function sdkFixture(name: string, mode: string, overrides: Overrides = {}, extraArgs: string[] = []): ProcessModule {
  return defineProcessModule({
    name,
    version: '1.0.0',
    entry: new URL('./fixtures/sdk-child.ts', import.meta.url),
    subscribe: [EventType.NewBlock, EventType.ModuleLoaded],
    publishes: [EventType.HealthCheck],
    publishRateLimit: { perSecond: 10_000, burst: 10_000 },
    ...overrides,
    args: ['--mode', mode, '--name', name, ...extraArgs],
  });
}

/** A module from raw-child.ts (hand-written protocol) in the given mode. */
export function rawFixture(name: string, mode: string, overrides: Overrides = {}, extraArgs: string[] = []): ProcessModule {
  return defineProcessModule({
    name,
    version: '1.0.0',
    entry: new URL('./fixtures/raw-child.ts', import.meta.url),
    subscribe: [EventType.NewBlock],
    maxMessageBytes: 64 * 1024,
    restart: { type: 'temporary' },
    ...overrides,
    args: ['--mode', mode, '--name', name, ...extraArgs],
  });
}
