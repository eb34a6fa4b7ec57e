/**
 * Process checks shared by the torture campaigns and the tests that look for orphans.
 */
import { readFileSync, readdirSync } from 'node:fs';

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

/**
 * Live processes (not zombies) whose command line contains `marker`: a campaign passes a marker
 * of its own to every child it spawns, so this finds its children and anything they spawned,
 * whoever their parent is now.
 */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.split('\0').includes(marker) && !exited(pid)) found.push(pid);
  }
  return found;
}
