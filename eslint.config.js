// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, each with the layers it may import. Layers depend only downward:
 * kernel ← events ← store ← node ← (ipc | sim | metrics | nats) ← cli. The four siblings above
 * node import none of each other (none needs to today); a layer that does not exist yet gets its
 * rule the day its folder appears.
 * @type {Readonly<Record<string, readonly string[]>>}
 */
export const LAYERS = {
  kernel: [],
  events: ['kernel'],
  store: ['kernel', 'events'],
  node: ['kernel', 'events', 'store'],
  ipc: ['kernel', 'events', 'store', 'node'],
  sim: ['kernel', 'events', 'store', 'node'],
  metrics: ['kernel', 'events', 'store', 'node'],
  nats: ['kernel', 'events', 'store', 'node'],
  cli: ['kernel', 'events', 'store', 'node', 'ipc', 'sim', 'metrics', 'nats'],
};

/** The package's entry points: what actors/ may import of modactor. */
export const ENTRY_POINTS = ['modactor', 'modactor/sdk', 'modactor/sim', 'modactor/metrics', 'modactor/nats'];

/** A relative import that climbs out of its folder into `names` (`../node/x.js`, `../../ipc`). */
const into = (/** @type {readonly string[]} */ names) => `^(?:\\.\\./)+(?:${names.join('|')})(?:/|$)`;

/** One config block per layer: imports of the layers above it, of actors/ and of src/'s entry files fail. */
const layerBlocks = Object.entries(LAYERS).map(([layer, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter((other) => other !== layer && !allowed.includes(other));
  const may = allowed.length === 0 ? 'nothing outside it' : allowed.join(', ');
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length === 0
              ? []
              : [
                  {
                    regex: into(forbidden),
                    message: `layers depend only downward (kernel ← events ← store ← node ← ipc | sim | metrics | nats ← cli): src/${layer} may import ${may}.`,
                  },
                ]),
            { regex: into(['actors']), message: 'src/ never imports actors/: the cast imports the runtime, not the other way round.' },
            { regex: '^(?:\\.\\./)+[^./][^/]*$', message: `src/${layer} imports the layers it needs, not src/'s entry files (they import every layer).` },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.scratch/**', '.stryker-tmp/**', 'reports/**', 'bin/**', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  ...layerBlocks,
  {
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: into(['actors']), message: 'src/ never imports actors/.' }] }],
    },
  },
  {
    // The cast imports only the package's entry points, like a user's module.
    files: ['actors/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: `actors/ import only the package entry points (${ENTRY_POINTS.join(', ')}), never src/.` },
            {
              regex: `^modactor/(?!(?:${ENTRY_POINTS.filter((e) => e !== 'modactor').map((e) => e.slice('modactor/'.length)).join('|')})$)`,
              message: `actors/ import only the package entry points (${ENTRY_POINTS.join(', ')}).`,
            },
          ],
        },
      ],
    },
  },
);
