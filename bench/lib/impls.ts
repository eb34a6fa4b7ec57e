import { emitterSubject } from '../baselines/emitter.js';
import { ringSubject } from '../baselines/ring-mailbox.js';
import { xstateSubject } from '../baselines/xstate.js';
import { kernelSubject } from '../subjects/kernel.js';
import type { Args } from './args.js';
import type { SubjectFactory } from './subject.js';
import type { PublishMode } from './workloads.js';

/** The implementations a kernel-level case can run, by `--impl` name. */
const IMPLS: Record<string, () => SubjectFactory> = {
  kernel: () => kernelSubject(),
  ring: () => ringSubject,
  emitter: () => emitterSubject,
  xstate: () => xstateSubject,
};

export function pickImpl(args: Args): SubjectFactory {
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
