import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { childLoader, currentLoaderEnvironment, type LoaderEnvironment } from '../../src/ipc/child-loader.js';

const tsx = { loader: 'file:///x/tsx/dist/loader.mjs', api: 'file:///x/tsx/dist/esm/api/index.mjs' };
const node20: LoaderEnvironment = {
  typescript: true,
  fromSources: false,
  tsx: null,
  nodeStripsTypes: undefined,
  stripTypesFlag: false,
  nodeVersion: '20.20.2',
};

describe('childLoader', () => {
  it('runs a .js entry with plain node, and a .ts entry through tsx when it is installed', () => {
    expect(childLoader({ ...node20, typescript: false }, 'm.js')).toEqual({ kind: 'node', flags: [] });
    expect(childLoader({ ...node20, tsx }, 'm.ts')).toEqual({ kind: 'tsx', flags: [], ...tsx });
  });

  it('lets Node strip the types itself where it does (22.18+, 23.6+), or behind its flag (22.6 to 22.17)', () => {
    expect(childLoader({ ...node20, nodeStripsTypes: 'strip', nodeVersion: '24.1.0' }, 'm.ts')).toEqual({ kind: 'node', flags: [] });
    expect(childLoader({ ...node20, nodeStripsTypes: false, stripTypesFlag: true, nodeVersion: '22.10.0' }, 'm.ts')).toEqual({
      kind: 'node',
      flags: ['--experimental-strip-types'],
    });
  });

  it('refuses a .ts entry nothing can run with a typed error that says what to install', () => {
    let error: unknown;
    try {
      childLoader(node20, '/app/m.ts');
    } catch (e) {
      error = e;
    }
    expect(isModactorError(error, 'invalid-manifest')).toBe(true);
    expect((error as Error).message).toBe(
      'Invalid manifest: entry: expected a TypeScript loader to run /app/m.ts (install tsx: npm install --save-dev tsx; ' +
        'or use Node >= 22.18, which strips types itself), got Node 20.20.2 without tsx',
    );
  });

  it('from the sources of a checkout, resolves modactor to the sources in the child too (through tsx, any entry)', () => {
    const checkout = { ...node20, fromSources: true, tsx };
    expect(childLoader(checkout, 'm.ts')).toEqual({ kind: 'tsx', flags: ['--conditions=modactor-source'], ...tsx });
    expect(childLoader({ ...checkout, typescript: false }, 'm.js')).toEqual({ kind: 'tsx', flags: ['--conditions=modactor-source'], ...tsx });
  });

  it('sees this test run as a checkout with tsx installed', () => {
    const env = currentLoaderEnvironment(true);
    expect(env.fromSources).toBe(true);
    expect(env.tsx?.loader).toMatch(/^file:.*tsx/);
  });
});
