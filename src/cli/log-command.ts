/**
 * `modactor log DIR`: what a store holds, for people who debug a node. Opens the event log
 * read-only (nothing is repaired or written, so it is safe on the store of a running node).
 */
import { parseArgs } from 'node:util';
import { isModactorError } from '../kernel/errors.js';
import { openEventLog, type EventLog } from '../store/event-log.js';
import type { LoggedEvent } from '../store/record.js';
import { FORMAT_VERSION } from '../store/record.js';
import { loadState, type SavedState } from '../store/state-file.js';
import { nodeFs } from '../store/fs.js';
import { errorMessage } from '../sim/error-message.js';
import { nonNegativeInteger } from '../kernel/checks.js';
import { OptionValues, argumentProblems, integerText } from './option-values.js';

export const LOG_USAGE = `Usage: modactor log DIR [options]

Prints what the store in DIR holds: its segments, the seq range, the events per type, the torn
tail and the corrupt records found, and the saved state. Read-only: safe on a running node's store.

Options:
  --tail [N]        print the last N events instead (default 20)
  --from SEQ        print the events from SEQ on instead (with --tail: the last N of them)
  --type TYPE       only events of this type (repeat for several)
  --json            JSON: the summary as one object, events as one object per line
  -h, --help        show this help

Exit codes: 0 read, 1 corrupt records found (they are listed), 2 bad arguments or no store
could be read in DIR, 3 an internal error.`;

const EXIT = { ok: 0, corrupt: 1, usage: 2, internal: 3 } as const;

interface Output {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

interface LogArgs {
  readonly dir: string;
  readonly tail: number | undefined;
  readonly from: number | undefined;
  readonly types: readonly string[] | undefined;
  readonly json: boolean;
  readonly help: boolean;
}

/** Runs `modactor log` with its arguments (after `log`); resolves with the exit code. */
export async function runLogCommand(args: readonly string[], io: Output): Promise<number> {
  let parsed: LogArgs;
  try {
    parsed = parseLogArgs(args);
  } catch (error) {
    io.stderr(`${argumentProblems(error, errorMessage).map((line) => `modactor log: ${line}\n`).join('')}\n${LOG_USAGE}\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.stdout(`${LOG_USAGE}\n`);
    return EXIT.ok;
  }
  let log: EventLog;
  try {
    log = await openEventLog({ dir: parsed.dir, readOnly: true });
  } catch (error) {
    if (!isModactorError(error)) throw error;
    io.stderr(`modactor log: ${error.message}\n`);
    return EXIT.usage;
  }
  try {
    if (parsed.tail !== undefined || parsed.from !== undefined) await printEvents(log, parsed, io);
    else await printSummary(log, parsed, io);
    return log.recovery.corrupt.length > 0 ? EXIT.corrupt : EXIT.ok;
  } catch (error) {
    io.stderr(`modactor log: internal error: ${error instanceof Error ? (error.stack ?? error.message) : errorMessage(error)}\n`);
    return EXIT.internal;
  } finally {
    await log.close();
  }
}

function parseLogArgs(args: readonly string[]): LogArgs {
  // `--tail` takes an optional count: a number right after it is its value.
  const argv = [...args];
  let tail: number | undefined;
  const at = argv.indexOf('--tail');
  if (at >= 0) {
    const next = argv[at + 1];
    const count = next !== undefined && /^\d+$/.test(next) ? Number(next) : undefined;
    tail = count ?? 20;
    argv.splice(at, count === undefined ? 1 : 2);
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: 'string' },
      type: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { dir: '', tail, from: undefined, types: undefined, json: false, help: true };
  const options = new OptionValues(values);
  if (positionals.length !== 1) options.refuse('', 'one store directory', `${positionals.length}${positionals.length > 0 ? `: ${positionals.join(' ')}` : ''}`);
  const from = options.read('from', integerText(nonNegativeInteger));
  options.done();
  return { dir: positionals[0] as string, tail, from, types: values.type, json: values.json, help: false };
}

async function printEvents(log: EventLog, args: LogArgs, io: Output): Promise<void> {
  const reader = log.read({ ...(args.from === undefined ? {} : { fromSeq: args.from }), ...(args.types === undefined ? {} : { types: args.types }) });
  const print = (event: LoggedEvent): void => io.stdout(args.json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`);
  if (args.tail === undefined) {
    for await (const event of reader) print(event);
  } else {
    // The last N, kept in a ring while reading the rest.
    const ring: LoggedEvent[] = [];
    let next = 0;
    for await (const event of reader) {
      if (args.tail === 0) continue;
      ring[next] = event;
      next = (next + 1) % args.tail;
    }
    for (const event of [...ring.slice(next), ...ring.slice(0, next)]) print(event);
  }
  if (reader.gap > 0) io.stderr(`modactor log: ${reader.gap} seqs from ${String(args.from)} on are no longer retained\n`);
  if (reader.stats.corrupt > 0) io.stderr(`modactor log: ${reader.stats.corrupt} corrupt records skipped\n`);
}

function describeEvent(event: LoggedEvent): string {
  return `${event.meta.seq}  ${showTime(event.meta.time)}  ${event.meta.source}  ${event.type}  ${JSON.stringify(event.payload)}`;
}

/** Times of a real node are epoch ms (shown as ISO); a simulated node's are small (shown in ms). */
function showTime(time: number): string {
  return time >= 946_684_800_000 ? new Date(time).toISOString() : `${time}ms`;
}

interface Summary {
  readonly dir: string;
  readonly formatVersion: number;
  readonly segments: readonly { name: string; firstSeq: number; lastSeq: number; records: number; bytes: number }[];
  readonly records: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number;
  readonly bytes: number;
  readonly eventsPerType: Record<string, number>;
  readonly torn: EventLog['recovery']['torn'];
  readonly corrupt: EventLog['recovery']['corrupt'];
  readonly state: SavedState | 'none' | 'unreadable';
}

async function printSummary(log: EventLog, args: LogArgs, io: Output): Promise<void> {
  const perType = new Map<string, number>();
  const reader = log.read(args.types === undefined ? {} : { types: args.types });
  for await (const event of reader) perType.set(event.type, (perType.get(event.type) ?? 0) + 1);
  const saved = await loadState(nodeFs(), log.dir).catch(() => undefined);
  const segments = log.segments().map((s) => ({ name: s.name, firstSeq: s.firstSeq, lastSeq: s.lastSeq, records: s.records, bytes: s.bytes }));
  const summary: Summary = {
    dir: log.dir,
    formatVersion: FORMAT_VERSION,
    segments,
    records: log.recovery.records,
    firstSeq: log.recovery.firstSeq ?? null,
    lastSeq: log.recovery.lastSeq,
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    eventsPerType: Object.fromEntries([...perType].sort(([a], [b]) => (a < b ? -1 : 1))),
    torn: log.recovery.torn,
    corrupt: log.recovery.corrupt,
    state: saved === undefined || saved.recovery.corrupt ? 'unreadable' : saved.recovery.found ? saved.loaded : 'none',
  };
  io.stdout(args.json ? `${JSON.stringify(summary, null, 2)}\n` : renderSummary(summary, args.types));
}

function renderSummary(s: Summary, types: readonly string[] | undefined): string {
  const lines: string[] = [];
  lines.push(`store ${s.dir} (event log format ${s.formatVersion})`);
  lines.push(`segments: ${s.segments.length}, ${bytes(s.bytes)}`);
  for (const seg of s.segments) {
    const seqs = seg.records === 0 ? 'no records' : `seqs ${seg.firstSeq}-${seg.lastSeq}`;
    lines.push(`  ${seg.name}  ${seqs}  ${seg.records} records  ${bytes(seg.bytes)}`);
  }
  lines.push(s.firstSeq === null ? 'seq range: empty' : `seq range: ${s.firstSeq}-${s.lastSeq} (${s.records} records)`);
  lines.push(types === undefined ? 'events per type:' : `events per type (only ${types.join(', ')}):`);
  const entries = Object.entries(s.eventsPerType);
  const width = Math.max(0, ...entries.map(([t]) => t.length));
  for (const [type, count] of entries) lines.push(`  ${type.padEnd(width)}  ${count}`);
  if (entries.length === 0) lines.push('  (none)');
  if (s.torn.length === 0) lines.push('torn tail: none');
  for (const t of s.torn) {
    lines.push(`torn tail: ${t.bytes} bytes (${t.records} cut record${t.records === 1 ? '' : 's'}) at offset ${t.offset} of ${t.segment}: dropped when a node opens the store`);
  }
  lines.push(`corrupt records: ${s.corrupt.length === 0 ? 'none' : String(s.corrupt.length)}`);
  for (const c of s.corrupt) lines.push(`  ${c.segment} offset ${c.offset}: ${c.length} bytes, ${c.reason}`);
  if (typeof s.state === 'string') lines.push(`saved state: ${s.state}`);
  else {
    const modules = Object.entries(s.state.modules);
    lines.push(`saved state: last seq ${s.state.lastSeq}, ${modules.length} module${modules.length === 1 ? '' : 's'}`);
    for (const [name, m] of modules) {
      const parts = [
        m.position === undefined ? undefined : `position ${m.position}`,
        m.restarts === undefined ? undefined : `${m.restarts} restarts`,
        m.health === undefined || m.health.length === 0 ? undefined : `health ${m.health.at(-1)?.health ?? ''}`,
      ].filter((p) => p !== undefined);
      lines.push(`  ${name}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
