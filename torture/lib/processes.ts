/**
 * Process checks shared by the torture campaigns and the tests that look for orphans.
 */
import { readFileSync } from 'node:fs';

/** True once `pid` has exited: no such process, or a zombie nobody reaped yet. */
export function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') === true;
  } catch {
    return true;
  }
}
