import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

/** Short words for the errors a file may not be written with. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the name is too long',
};

/** The one-line reason an I/O error gives, without a stack: `permission denied`. */
export function ioReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in REASONS) return REASONS[code] as string;
  return error instanceof Error ? error.message.split('\n')[0] ?? 'unknown error' : String(error);
}

/**
 * Why `file` cannot be written, or null when it can: checked by opening it for appending (which
 * leaves an existing file as it is), and a file that did not exist is removed again. Run before
 * a simulation, so that a bad output path fails at once instead of after the run. An open is the
 * test because permission bits do not tell (root may write almost anywhere, never to a
 * read-only file system).
 */
export function unwritable(file: string): string | null {
  try {
    if (existsSync(file) && statSync(file).isDirectory()) return 'it is a directory';
    if (!existsSync(dirname(file))) return `no such directory ${dirname(file)}`;
    const existed = existsSync(file);
    closeSync(openSync(file, 'a'));
    if (!existed) unlinkSync(file);
    return null;
  } catch (error) {
    return ioReason(error);
  }
}
