import type { Args } from './args.js';
import type { SubjectFactory } from './subject.js';
import type { PublishMode } from './workloads.js';

/**
 * The implementations a kernel-level case can run, by `--impl` name. Imported on demand, so a
 * baseline's process never loads modactor (and starts faster).
 */
const IMPLS: Record<string, () => Promise<SubjectFactory>> = {
  kernel: async () => (await import('../subjects/kernel.js')).kernelSubject(),
  ring: async () => (await import('../baselines/ring-mailbox.js')).ringSubject,
  emitter: async () => (await import('../baselines/emitter.js')).emitterSubject,
  xstate: async () => (await import('../baselines/xstate.js')).xstateSubject,
};

export function pickImpl(args: Args): Promise<SubjectFactory> {
  const name = args.string('impl', 'kernel');
  const make = IMPLS[name];
  if (make === undefined) throw new Error(`Expected --impl to be one of ${Object.keys(IMPLS).join(', ')}, got "${name}"`);
  return make();
}

export function pickMode(args: Args): PublishMode {
  const mode = args.string('mode', 'burst');
  if (mode !== 'burst' && mode !== 'yield') throw new Error(`Expected --mode burst or yield, got "${mode}"`);
  return mode;
}

/** Timing knobs shared by the time-bounded cases; bench/run.ts passes shorter ones with --quick. */
export function timing(args: Args): { warmupMs: number; roundMs: number; rounds: number } {
  return { warmupMs: args.number('warmup-ms', 300), roundMs: args.number('round-ms', 300), rounds: args.number('rounds', 5) };
}

/**
 * `--impl node` (the default) or `--impl kernel`: modactor at either level, for the cases run by
 * hand (bench/one.ts). Null when the node layer is not built.
 */
export async function pickModactor(args: Args): Promise<{ readonly impl: string; readonly factory: SubjectFactory } | null> {
  const impl = args.string('impl', 'node');
  if (impl === 'kernel') return { impl, factory: (await import('../subjects/kernel.js')).kernelSubject() };
  if (impl !== 'node') throw new Error(`Expected --impl node or kernel, got "${impl}"`);
  const { loadNodeApi, nodeSubject } = await import('../subjects/node.js');
  const api = await loadNodeApi();
  return api === null ? null : { impl, factory: nodeSubject(api) };
}
