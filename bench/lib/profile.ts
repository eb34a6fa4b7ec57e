import { BUILD_ROOT } from './prebuild.js';

/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists the functions with the most self
 * time, and self time per area (src/kernel, src/node, bench, node_modules, V8/Node internals).
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function isProfile(value: unknown): value is CpuProfile {
  const p = value as Partial<CpuProfile> | null;
  return p !== null && typeof p === 'object' && Array.isArray(p.nodes) && Array.isArray(p.samples) && Array.isArray(p.timeDeltas);
}

export interface SummaryOptions {
  /** How many functions to list. */
  readonly top: number;
  /** The repository root, to shorten file URLs. */
  readonly root: string;
  /** Only list functions whose file path contains this (e.g. "src/kernel"). */
  readonly filter?: string;
}

function where(frame: CallFrame, root: string): string {
  let url = frame.url;
  if (url.startsWith('file://')) url = decodeURIComponent(url.slice('file://'.length));
  if (url.startsWith(root)) url = url.slice(root.length + 1);
  if (url.startsWith(`${BUILD_ROOT}/`)) url = url.slice(BUILD_ROOT.length + 1).replace(/^[^/]+\//, '').replace(/\.js$/, '.ts');
  return url === '' ? '' : `${url}:${frame.lineNumber + 1}`;
}

function area(file: string): string {
  if (file === '') return '(V8/Node internals, GC, idle)';
  if (file.startsWith('node:')) return 'node: built-ins';
  if (file.includes('node_modules/')) return `node_modules/${file.split('node_modules/')[1]?.split('/')[0] ?? ''}`;
  const parts = file.split('/');
  return parts[0] === 'src' ? `src/${parts[1] ?? ''}` : (parts[0] ?? file);
}

interface Tally {
  /** Non-idle sampled time, µs. */
  readonly busy: number;
  readonly idle: number;
  readonly byFunction: Map<string, number>;
  readonly byArea: Map<string, number>;
}

function tally(profile: CpuProfile, root: string): Tally {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const file = where(node.callFrame, root);
    const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
    const key = `${name}  ${file}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    const a = area(file.replace(/:\d+$/, ''));
    byArea.set(a, (byArea.get(a) ?? 0) + dt);
  }
  return { busy, idle, byFunction, byArea };
}

/**
 * Lines of text: busy and idle time, self time per area, then the top functions by self time
 * (only those whose file contains `filter`, when given). Shares are of the busy (non-idle) time.
 */
export function summarizeProfile(profile: unknown, options: SummaryOptions): string[] {
  if (!isProfile(profile)) return ['(not a .cpuprofile)'];
  const t = tally(profile, options.root);
  const share = (us: number): string => `${((us / t.busy) * 100).toFixed(1).padStart(5)}%`;
  const lines: string[] = [];
  if (options.filter === undefined) {
    lines.push(`${(t.busy / 1000).toFixed(0)} ms busy, ${(t.idle / 1000).toFixed(0)} ms idle; self time by area:`);
    for (const [a, us] of [...t.byArea].sort((x, y) => y[1] - x[1]).slice(0, 8)) lines.push(`  ${share(us)}  ${a}`);
  }
  lines.push(`top functions by self time${options.filter === undefined ? '' : ` in ${options.filter}`}:`);
  const functions = [...t.byFunction]
    .filter(([key]) => options.filter === undefined || key.includes(options.filter))
    .sort((x, y) => y[1] - x[1])
    .slice(0, options.top);
  for (const [key, us] of functions) lines.push(`  ${share(us)}  ${key}`);
  return lines;
}
