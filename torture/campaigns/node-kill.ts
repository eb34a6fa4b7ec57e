/**
 * Torture campaign: SIGKILL a node process with a store, again and again.
 *
 * Each cycle starts a node process (node-kill-child.ts) on the same store directory: a node on
 * real files with one module that asked for replay, publishing NewBlock events in batches and
 * flushing each, and kills it with SIGKILL after a few flushes (how many, from a seeded sequence),
 * mid-stream. A last process drains: it lets the module catch up and shuts down gracefully.
 *
 * The oracle, from docs/durability.md:
 * - acknowledged = durable: after every kill, the log holds every height a flush acknowledged, in
 *   order, with no gap (heights 1..N with N at least the last acknowledged one); numbering goes on
 *   above what was there;
 * - the module's replay: every height in the log is handled at least once by the end; a height is
 *   handled twice only when a kill fell between the two and its seq was above the position the
 *   kill left saved (and not among the seqs saved as handled ahead of it): the at-least-once window
 *   a crash opens, never more.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { createRandom } from '../../src/kernel/random.js';
import { openEventLog } from '../../src/store/event-log.js';
import { loadState } from '../../src/store/state-file.js';
import { nodeFs } from '../../src/store/fs.js';
import { exited } from '../lib/processes.js';

/** What the campaign driver gets back. */
export interface CampaignResult {
  readonly name: string;
  readonly figures: Record<string, number | string>;
  readonly failures: string[];
}

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const child = new URL('./node-kill-child.ts', import.meta.url).pathname;
const MODULE = 'replayer';

/** One handling the module printed: in which process (cycle), the event's seq, and the event (its publishing cycle and height). */
export interface Handling {
  readonly cycle: number;
  readonly seq: number;
  /** `<publishing cycle>:<height>`: an event's identity (a crash may lose an event, its height is then published again). */
  readonly event: string;
}

/** The position a kill left saved: below it and in `ahead`, handled for good. */
export interface SavedAtKill {
  readonly cycle: number;
  readonly position: number;
  readonly ahead: readonly number[];
}

/**
 * The replay oracle over a whole campaign: every height of the log handled at least once; a
 * second handling only in a later cycle, after a kill that left the seq above its saved position
 * (and not in its `ahead`). Returns what is wrong, one line each, and how many handlings were the
 * allowed redeliveries.
 */
export function checkReplay(handlings: readonly Handling[], kills: readonly SavedAtKill[], logged: readonly string[]): { failures: string[]; redelivered: number } {
  const failures: string[] = [];
  const byEvent = new Map<string, Handling[]>();
  for (const h of handlings) {
    const list = byEvent.get(h.event) ?? [];
    list.push(h);
    byEvent.set(h.event, list);
  }
  const missing = logged.filter((event) => !byEvent.has(event));
  if (missing.length > 0) failures.push(`${missing.length} logged events never handled (first: ${missing.slice(0, 5).join(', ')})`);
  let redelivered = 0;
  for (const [event, list] of byEvent) {
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1] as Handling;
      const again = list[i] as Handling;
      // The kills between the two handlings; one of them must have left this seq unsaved.
      const between = kills.filter((k) => k.cycle >= before.cycle && k.cycle < again.cycle);
      const allowed = between.some((k) => again.seq > k.position && !k.ahead.includes(again.seq));
      if (allowed) redelivered++;
      else failures.push(`event ${event} (seq ${again.seq}) handled again in cycle ${again.cycle} after cycle ${before.cycle}, though saved as handled`);
    }
  }
  return { failures, redelivered };
}

/** Checks the log after a kill: heights 1..N in order, N at least the last acknowledged. */
export function checkLog(heights: readonly number[], acknowledged: number): string[] {
  const failures: string[] = [];
  const gap = heights.findIndex((h, i) => h !== i + 1);
  if (gap >= 0) failures.push(`the log's heights break at index ${gap}: ${heights[gap]} where ${gap + 1} was due`);
  if (heights.length < acknowledged) failures.push(`the log ends at height ${heights.length}, below the acknowledged ${acknowledged}`);
  return failures;
}

/** Starts a node process; resolves once it ended, with what it printed. */
async function runChild(
  dir: string,
  firstHeight: number,
  mode: 'run' | 'drain',
  cycle: number,
  killAfterFlushes: number,
  handlings: Handling[],
): Promise<{ acknowledged: number; signal: NodeJS.Signals | null; code: number | null; stderr: string; pid: number; drained: boolean }> {
  const proc = spawn(process.execPath, ['--import', tsx, child, dir, String(cycle), String(firstHeight), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  let acknowledged = 0;
  let flushes = 0;
  let drained = false;
  for await (const line of createInterface({ input: proc.stdout })) {
    const [word, a, b, c] = line.split(' ');
    if (word === 'handled') handlings.push({ cycle, seq: Number(a), event: `${c}:${b}` });
    else if (word === 'flushed') {
      acknowledged = Number(a);
      if (mode === 'run' && ++flushes === killAfterFlushes) proc.kill('SIGKILL');
    } else if (word === 'drained') drained = true;
  }
  const { code, signal } = await ended;
  return { acknowledged, signal, code, stderr: stderr.trim(), pid: proc.pid ?? -1, drained };
}

/** The NewBlock events in the store's log, in order (heights, identities), and its last seq. */
async function readLog(dir: string): Promise<{ heights: number[]; events: string[]; lastSeq: number }> {
  const log = await openEventLog({ dir, readOnly: true });
  const heights: number[] = [];
  const events: string[] = [];
  for await (const event of log.read()) {
    if (event.type !== 'NewBlock') continue;
    const { height, blockHash } = event.payload as { height: number; blockHash: string };
    heights.push(height);
    events.push(`${parseInt(blockHash.slice(0, 8), 16)}:${height}`);
  }
  await log.close();
  return { heights, events, lastSeq: log.lastSeq };
}

/** Runs the campaign: 100 SIGKILL cycles, or 5 with `quick`. */
export async function run(options: { quick: boolean; log: (line: string) => void }): Promise<CampaignResult> {
  const { quick, log } = options;
  const cycles = quick ? 5 : 100;
  const random = createRandom(0x5eed);
  const dir = join(mkdtempSync(join(tmpdir(), 'modactor-node-kill-')), 'store');
  const failures: string[] = [];
  const handlings: Handling[] = [];
  const kills: SavedAtKill[] = [];
  const pids: number[] = [];
  const started = performance.now();
  let heights: number[] = [];
  let logged: string[] = [];
  let lastSeq = 0;
  let acknowledgedTotal = 0;
  try {
    for (let cycle = 0; cycle < cycles; cycle++) {
      const flushes = 1 + random.int(6);
      const result = await runChild(dir, heights.length + 1, 'run', cycle, flushes, handlings);
      pids.push(result.pid);
      if (result.signal !== 'SIGKILL') {
        failures.push(`cycle ${cycle}: the node process ended with ${result.signal ?? `code ${result.code}`}, not SIGKILL (${result.stderr.slice(0, 300)})`);
        break;
      }
      const { loaded } = await loadState(nodeFs(), dir);
      const saved = loaded.modules[MODULE];
      kills.push({ cycle, position: saved?.position ?? 0, ahead: saved?.ahead ?? [] });
      const after = await readLog(dir);
      failures.push(...checkLog(after.heights, result.acknowledged).map((f) => `cycle ${cycle}: ${f}`));
      if (after.lastSeq < lastSeq) failures.push(`cycle ${cycle}: the log's last seq went back from ${lastSeq} to ${after.lastSeq}`);
      acknowledgedTotal = Math.max(acknowledgedTotal, result.acknowledged);
      heights = after.heights;
      lastSeq = after.lastSeq;
      if (cycle % 10 === 9 || quick) log(`node-kill: cycle ${cycle + 1}/${cycles}: ${heights.length} events in the log, ${handlings.length} handled`);
    }
    const drain = await runChild(dir, heights.length + 1, 'drain', cycles, 0, handlings);
    pids.push(drain.pid);
    if (!drain.drained || drain.code !== 0) failures.push(`the draining node did not finish (code ${drain.code}, ${drain.stderr.slice(0, 300)})`);
    const final = await readLog(dir);
    heights = final.heights;
    logged = final.events;
    failures.push(...checkLog(heights, drain.acknowledged).map((f) => `after draining: ${f}`));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
  const replay = checkReplay(handlings, kills, logged);
  failures.push(...replay.failures.slice(0, 20));
  const orphans = pids.filter((pid) => pid > 0 && !exited(pid));
  if (orphans.length > 0) failures.push(`${orphans.length} node processes still running`);
  const figures: Record<string, number | string> = {
    cycles,
    kills: kills.length,
    eventsLogged: heights.length,
    acknowledged: acknowledgedTotal,
    handled: handlings.length,
    redelivered: replay.redelivered,
    orphans: orphans.length,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  log(`node-kill: ${JSON.stringify(figures)}`);
  return { name: 'node-kill', figures, failures };
}
