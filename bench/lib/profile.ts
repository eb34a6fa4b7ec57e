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
  return url === '' ? '' : `${url}:${frame.lineNumber + 1}`;
}

function area(file: string): string {
  if (file === '') return '(V8/Node internals, GC, idle)';
  if (file.startsWith('node:')) return 'node: built-ins';
  if (file.includes('node_modules/')) return `node_modules/${file.split('node_modules/')[1]?.split('/')[0] ?? ''}`;
  const parts = file.split('/');
  return parts[0] === 'src' ? `src/${parts[1] ?? ''}` : (parts[0] ?? file);
}

/** Lines of text: self time per area, then the top functions by self time. */
export function summarizeProfile(profile: unknown, options: SummaryOptions): string[] {
  if (!isProfile(profile)) return ['(not a .cpuprofile)'];
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    total += dt;
    const file = where(node.callFrame, options.root);
    const name = node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName;
    const key = `${name}  ${file}`;
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + dt);
    const a = area(file.replace(/:\d+$/, ''));
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + dt);
  }
  const share = (t: number): string => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`total ${(total / 1000).toFixed(0)} ms sampled; self time by area:`];
  for (const [a, t] of [...selfByArea].sort((x, y) => y[1] - x[1]).slice(0, 8)) lines.push(`  ${share(t)}  ${a}`);
  lines.push(`top functions by self time${options.filter === undefined ? '' : ` in ${options.filter}`}:`);
  const functions = [...selfByFunction]
    .filter(([key]) => options.filter === undefined || key.includes(options.filter))
    .sort((x, y) => y[1] - x[1])
    .slice(0, options.top);
  for (const [key, t] of functions) lines.push(`  ${share(t)}  ${key}`);
  return lines;
}
