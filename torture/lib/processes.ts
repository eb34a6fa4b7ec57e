/**
 * Process checks shared by the torture campaigns and the tests that look for orphans.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** The kernel's flag of a task that has begun to exit (`PF_EXITING`, include/linux/sched.h). */
const PF_EXITING = 0x4;

/**
 * True once `pid` has exited: no such process, a zombie nobody reaped yet, or a process already
 * exiting. The last matters to whoever waits for a process's pipes to close: the kernel closes an
 * exiting process's files before it makes it a zombie, so end-of-file can come a moment earlier.
 */
export function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // After the command's closing parenthesis: state, ppid, pgrp, session, tty, tpgid, flags.
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' || (Number(fields[6]) & PF_EXITING) !== 0;
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
