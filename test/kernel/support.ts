/**
 * Shared helpers of the kernel tests: a system on a hand-driven simulated scheduler, gates that
 * hold a handler until the test opens them, and a trace of simplified inspection events.
 */
import { pino, type Logger } from 'pino';
import {
  isModactorError,
  createActorSystem,
  createSimulatedScheduler,
  type ActorSystem,
  type ActorSystemOptions,
  type InspectionEvent,
  type ModactorError,
  type OfferResult,
  type SimulatedScheduler,
} from '../../src/index.js';

export interface Simulated {
  readonly scheduler: SimulatedScheduler;
  readonly system: ActorSystem;
}

/** A system whose scheduler only runs when the test drives it. */
export function simulated(options: Omit<ActorSystemOptions, 'scheduler'> & { seed?: number } = {}): Simulated {
  const { seed = 1, ...systemOptions } = options;
  const scheduler = createSimulatedScheduler({ seed, autoRun: false });
  const system = createActorSystem({ ...systemOptions, scheduler });
  return { scheduler, system };
}

/** Shuts the system down, driving virtual time until every actor is gone. */
export async function shutdown({ scheduler, system }: Simulated): Promise<void> {
  const done = system.shutdown();
  await scheduler.runAll();
  await done;
}

export interface Gate {
  readonly promise: Promise<void>;
  readonly open: () => void;
}

/** A promise the test resolves by hand: a handler awaiting it is "stuck" until then. */
export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** How many offers ended in each outcome. */
export function tally(results: readonly OfferResult[]): Partial<Record<OfferResult, number>> {
  const out: Partial<Record<OfferResult, number>> = {};
  for (const r of results) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** One inspection event as a short line: what happened, where, and the gist of it. */
export function simplify(event: InspectionEvent): string {
  switch (event.type) {
    case 'spawned':
      return `spawned ${event.actor}`;
    case 'offered':
      return `offered ${event.actor} ${event.lane} ${String(event.message)}`;
    case 'dropped':
      return `dropped ${event.actor} ${event.reason} ${String(event.message)}`;
    case 'delivered':
      return `delivered ${event.actor} ${String(event.message)}`;
    case 'handled':
      return `handled ${event.actor} ${String(event.message)}`;
    case 'failed':
      return `failed ${event.actor} ${event.failure.kind}: ${event.failure.message}`;
    case 'directive':
      return `directive ${event.actor} -> ${event.child}: ${event.directive}`;
    case 'restarted':
      return `restarted ${event.actor} after ${event.delayMs} ms`;
    case 'terminated':
      return `terminated ${event.actor} ${event.reason.kind}`;
    case 'dead-letter':
      return `dead-letter ${event.actor} ${event.reason} ${String(event.message)}`;
  }
}

/** Records simplified inspection events, with their (virtual) time. */
export function traceOf(system: ActorSystem, withTime = false): string[] {
  const lines: string[] = [];
  system.inspect((event, time) => lines.push(withTime ? `${time} ${simplify(event)}` : simplify(event)));
  return lines;
}

/** A pino logger writing JSON lines into an array, for asserting what is (not) logged. */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = {
    write(line: string): void {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return { logger: pino({ level }, stream), lines };
}

/** Resolves with the settled outcome of a promise, so a rejection can be awaited after driving. */
export function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The ModactorError `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): ModactorError {
  try {
    fn();
  } catch (error) {
    if (isModactorError(error)) return error;
    throw error;
  }
  throw new Error('expected a ModactorError, nothing was thrown');
}
