import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModactorError, TYPESCRIPT_LOADER_HINT, type ValidationIssue } from '../kernel/errors.js';
import { describeReceived, issue, runCheck, type Check, type ObjectCheck } from '../kernel/checks.js';
import { defineModule, type ModuleDefinition } from '../node/module.js';
import type { LoadableModule as AnyLoadable } from '../node/module-supervisor.js';
import type { NodeEventMap } from '../events/node-catalogue.js';
import { errorMessage } from './error-message.js';

/** What a scenario's actor resolves to: an in-process module definition or a process module. */
export type LoadableModule = AnyLoadable<NodeEventMap>;

/** True for an in-process module definition (the simulator wraps those with faults). */
export function isInProcess(definition: LoadableModule): definition is ModuleDefinition {
  return (definition as { kind?: unknown }).kind === 'in-process';
}

/**
 * Where the cast lives: `actors/` next to `src/` (from the sources) or next to `dist/src/` (from a
 * build, where the actors are compiled too).
 */
export function castDirectory(): string {
  return fileURLToPath(new URL('../../actors/', import.meta.url));
}

/** The file of an actor named in a scenario (`file` or `file#export`), or null when there is none. */
export function resolveActorFile(actor: string, baseDir: string): string | null {
  actor = splitActor(actor).file;
  const local = actor.startsWith('.') || isAbsolute(actor);
  const base = local ? resolve(baseDir, actor) : resolve(castDirectory(), actor.replace(/^actors[\\/]/, ''));
  const candidates = /\.(m?[jt]s)$/.test(base) ? [base, base.replace(/\.ts$/, '.js')] : [`${base}.ts`, `${base}.js`, `${base}.mts`, `${base}.mjs`];
  return candidates.find((file) => existsSync(file)) ?? null;
}

/** `process-modules#blockIndexerModule` → its file and the export to use (default `default`). */
export function splitActor(actor: string): { file: string; exportName: string } {
  const hash = actor.lastIndexOf('#');
  return hash < 0 ? { file: actor, exportName: 'default' } : { file: actor.slice(0, hash), exportName: actor.slice(hash + 1) };
}

/** The same in-process definition under another name (a scenario may load one actor twice). */
export function renamed(definition: ModuleDefinition, name: string): ModuleDefinition {
  if (definition.name === name) return definition;
  const { kind: _kind, ...spec } = definition;
  return defineModule({ ...spec, name });
}

/** True when `value` looks like something `node.load` takes. */
function isLoadable(value: unknown): value is LoadableModule {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<LoadableModule>;
  return typeof m.name === 'string' && typeof m.version === 'string' && Array.isArray(m.subscribe);
}

/**
 * What to say of a `.ts` file Node could not import (Node 20, and 22 before type stripping, do not
 * run TypeScript without a loader): what to install. Null for any other import error.
 */
export function typescriptHint(file: string, error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (!/\.[mc]?ts$/.test(file) || code !== 'ERR_UNKNOWN_FILE_EXTENSION') return null;
  return `a TypeScript file: ${TYPESCRIPT_LOADER_HINT}`;
}

/**
 * The name of the export that holds the options schema of the factory exported as `exportName`:
 * `optionsSchema` for the default export, `<exportName>OptionsSchema` for a named one.
 */
export function schemaExportOf(exportName: string): string {
  return exportName === 'default' ? 'optionsSchema' : `${exportName}OptionsSchema`;
}

/**
 * Checks what an actor file exports as its options schema (foreign data too): an issue at `path`
 * unless it is an `object({ ... })` check of the validation vocabulary, else null.
 *
 * @example
 * ```ts
 * import { object, optional, positiveInteger, nonNegativeNumber } from 'modactor';
 * export const optionsSchema = object({ mailboxCapacity: optional(positiveInteger), workMs: optional(nonNegativeNumber) });
 * export default function myModule(options: { name?: string; mailboxCapacity?: number; workMs?: number } = {}) { ... }
 * ```
 */
export function schemaProblem(schema: unknown, path: string): ValidationIssue | null {
  const isObjectCheck = typeof schema === 'function' && typeof (schema as Partial<ObjectCheck<unknown>>).shape === 'object';
  return isObjectCheck ? null : issue(path, 'an options schema: an object({ ... }) check of the validation vocabulary (from modactor)', describeReceived(schema));
}

/**
 * Loads the module definition a scenario names: imports the actor's file and takes its default
 * export (or the one named after `#`), a definition or a factory `(options) => definition`, called
 * with the scenario's options and the module's `name`. A factory's options are first parsed by
 * the schema the file exports next to it ({@link schemaExportOf}, an `object({ ... })` check), and
 * the factory gets what it returned; options of an actor that declares none are refused. Problems are reported as issues at `path`
 * (the scenario field that named the actor).
 */
export async function loadActor(
  actor: string,
  options: Readonly<Record<string, unknown>> | undefined,
  path: string,
  baseDir: string,
  name?: string,
): Promise<LoadableModule | ValidationIssue[]> {
  const file = resolveActorFile(actor, baseDir);
  if (file === null) {
    const where = actor.startsWith('.') || isAbsolute(actor) ? `relative to ${baseDir}` : `in ${castDirectory()}`;
    return [issue(`${path}.actor`, `an actor file ${where}`, `"${actor}" (no such file)`)];
  }
  const { exportName } = splitActor(actor);
  let exported: unknown;
  let schema: unknown;
  try {
    const namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (!(exportName in namespace)) {
      return [issue(`${path}.actor`, `${file} to export "${exportName}"`, `exports ${Object.keys(namespace).join(', ') || 'none'}`)];
    }
    exported = namespace[exportName];
    schema = namespace[schemaExportOf(exportName)];
  } catch (error) {
    const hint = typescriptHint(file, error);
    return [issue(`${path}.actor`, `an importable ${file}${hint === null ? '' : ` (${hint})`}`, `an import error: ${errorMessage(error)}`)];
  }
  let definition: unknown = exported;
  let parsed = options;
  if (typeof exported === 'function' && options !== undefined) {
    if (schema === undefined) {
      return [issue(`${path}.options`, `no options, or a schema of them: "${actor}" declares none (export ${schemaExportOf(exportName)})`, describeReceived(options))];
    }
    const problem = schemaProblem(schema, `${path}.actor`);
    if (problem !== null) return [problem];
    // Parse, don't validate: the factory gets the schema's frozen copy of the options.
    const issues: ValidationIssue[] = [];
    parsed = runCheck(schema as Check<Readonly<Record<string, unknown>>>, options, `${path}.options`, issues);
    if (issues.length > 0) return issues;
  }
  if (typeof exported === 'function') {
    try {
      definition = (exported as (options: unknown) => unknown)({ ...parsed, ...(name === undefined ? {} : { name }) });
    } catch (error) {
      const issues = error instanceof ModactorError ? error.issues : [];
      const detail = issues.length > 0 ? issues.map((i) => `${i.path}: ${i.message}`).join('; ') : errorMessage(error);
      return [issue(`${path}.options`, `options the factory of "${actor}" accepts`, `a refusal: ${detail}`)];
    }
  } else if (options !== undefined) {
    return [issue(`${path}.options`, `no options ("${actor}" exports a definition, not a factory)`, describeReceived(options))];
  }
  if (!isLoadable(definition)) {
    return [issue(`${path}.actor`, `"${actor}" to export (by default) a module definition or a factory of one`, describeReceived(definition))];
  }
  return definition;
}
