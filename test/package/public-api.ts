/**
 * The public names of each entry point of the package, as the TypeScript compiler sees them
 * (values and types), next to the committed lists in `test/package/api/`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const listDirectory = join(root, 'test/package/api');

/** One entry point: its specifier (`modactor/sdk`), its source file and its list file. */
export interface EntryPoint {
  readonly specifier: string;
  readonly source: string;
  readonly list: string;
}

type Exports = Record<string, string | Record<string, string>>;

/** The entry points package.json's `exports` declares (`./package.json` aside). */
export function entryPoints(): EntryPoint[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Exports };
  const entries: EntryPoint[] = [];
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue;
    const source = target['modactor-source'];
    if (source === undefined) throw new Error(`expected exports["${subpath}"] to have a "modactor-source" condition, got none`);
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    entries.push({ specifier, source: join(root, source), list: join(listDirectory, `${specifier.replace('/', '-')}.txt`) });
  }
  return entries;
}

/** The list files present. */
export function listFiles(): string[] {
  return readdirSync(listDirectory)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => join(listDirectory, f));
}

/** A committed list: one name per line, `type Name` for a type-only export; `#` starts a comment. */
export function readList(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/** Sorted by name, values and types mixed, as the lists are kept. */
export function sortNames(lines: readonly string[]): string[] {
  const key = (line: string): string => line.replace(/^type /, '');
  return [...lines].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * What each source entry file exports, in the list format: a name is a value when it can be
 * imported as one (`export { x }`), else a type (`export type { X }`, interfaces, type aliases).
 */
export function exportedNames(sources: readonly string[]): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (config === undefined) throw new Error('expected tsconfig.json to parse, got nothing');
  const program = ts.createProgram(sources, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const result = new Map<string, string[]>();
  for (const source of sources) {
    const file = program.getSourceFile(source);
    const symbol = file === undefined ? undefined : checker.getSymbolAtLocation(file);
    if (symbol === undefined) throw new Error(`expected ${source} to be a module, got no symbol`);
    const lines = checker.getExportsOfModule(symbol).map((s) => (isValueExport(checker, s) ? s.name : `type ${s.name}`));
    result.set(source, sortNames(lines));
  }
  return result;
}

function isValueExport(checker: ts.TypeChecker, symbol: ts.Symbol): boolean {
  const declaration = symbol.declarations?.[0];
  if (declaration !== undefined && ts.isExportSpecifier(declaration)) {
    if (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly) return false;
  }
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return (target.flags & ts.SymbolFlags.Value) !== 0;
}
