import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The repository's own ESLint config (the one `npm test` runs), with one change: the type-aware
 * parser may take the fixture files below, which exist only as the text handed to it.
 */
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['src/*/layering-fixture.ts', 'actors/layering-fixture.ts'] } } },
  },
});

/** Lints `code` as the file at `path` (from the repository root); returns the layering complaints. */
async function layerProblems(path: string, code: string): Promise<{ severity: number; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  expect(result?.messages.filter((m) => m.fatal === true)).toEqual([]);
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map(({ severity, message }) => ({ severity, message }));
}

const ERROR = 2;

describe('the layering lint', () => {
  it('fails a kernel file that imports from node, naming what the kernel may import', async () => {
    const problems = await layerProblems('src/kernel/layering-fixture.ts', "import type { ModactorNode } from '../node/node.js';\nexport type N = ModactorNode;\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]?.severity).toBe(ERROR);
    expect(problems[0]?.message).toContain('src/kernel may import nothing outside it');
  });

  it('lets the same import through one layer up, where it runs downward', async () => {
    expect(await layerProblems('src/sim/layering-fixture.ts', "import type { ModactorNode } from '../node/node.js';\nexport type N = ModactorNode;\n")).toEqual([]);
    expect(await layerProblems('src/cli/layering-fixture.ts', "import type { SimulateOptions } from '../sim/simulator.js';\nexport type O = SimulateOptions;\n")).toEqual([]);
  });

  it('fails an import between the siblings above node, one from a layer not written yet, and one of an entry file', async () => {
    const sibling = await layerProblems('src/ipc/layering-fixture.ts', "import type { Scenario } from '../sim/scenario.js';\nexport type S = Scenario;\n");
    expect(sibling.map((p) => p.severity)).toEqual([ERROR]);
    const future = await layerProblems('src/store/layering-fixture.ts', "import type { ModactorNode } from '../node/node.js';\nexport type N = ModactorNode;\n");
    expect(future.map((p) => p.severity)).toEqual([ERROR]);
    const entry = await layerProblems('src/node/layering-fixture.ts', "import type { Scenario } from '../index.js';\nexport type S = Scenario;\n");
    expect(entry.map((p) => p.severity)).toEqual([ERROR]);
  });

  it('fails an actor that reaches into src/ instead of a package entry point', async () => {
    const problems = await layerProblems('actors/layering-fixture.ts', "import { defineModule } from '../src/index.js';\nexport const d = defineModule;\n");
    expect(problems.map((p) => p.severity)).toEqual([ERROR]);
    expect(problems[0]?.message).toContain('package entry points');
  });
});
