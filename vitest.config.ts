import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `modactor`, `modactor/sdk`, ... resolve to this checkout's sources (package.json's
  // "modactor-source" export condition), so actors/ and tests run without a build. Vite's default
  // server conditions are listed too: setting the option replaces them.
  ssr: { resolve: { conditions: ['modactor-source', 'module', 'node', 'development|production'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'property',
          include: ['property-tests/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
