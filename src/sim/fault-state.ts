import type { EventOf } from '../events/catalogue.js';
import type { NodeEventMap } from '../events/node-catalogue.js';
import type { Fault } from './faults.js';

/** The faults armed for one module. */
interface ModuleFaults {
  /** Pending crashes, each on the next event (of type `on`, if given). */
  readonly crashes: { readonly message: string; readonly on?: string }[];
  /** While held, every event taken waits for the release. */
  held: { readonly released: Promise<void>; readonly release: () => void } | null;
  /** A pending hang: ms, or null for "until stopped"; undefined when none. */
  hang: number | null | undefined;
  slow: { readonly delayMs: number; readonly until: number } | null;
}

/**
 * The faults the simulator arms per module at virtual times (from the scenario's `faults` and from
 * commands), and the decision, per event a module takes, of which one strikes.
 */
export class FaultState {
  private readonly modules = new Map<string, ModuleFaults>();

  /** The fault for the event `module` takes at `now`, consuming a pending crash or hang. */
  decide(module: string, event: EventOf<NodeEventMap>, now: number): Fault | undefined {
    const state = this.modules.get(module);
    if (state === undefined) return undefined;
    const index = state.crashes.findIndex((c) => c.on === undefined || c.on === event.type);
    const crash = index < 0 ? undefined : state.crashes.splice(index, 1)[0];
    if (crash !== undefined) return { kind: 'crash', message: crash.message };
    if (state.held !== null) return { kind: 'hold', until: state.held.released };
    if (state.hang !== undefined) {
      const forMs = state.hang;
      state.hang = undefined;
      return { kind: 'hang', forMs };
    }
    if (state.slow !== null) {
      if (now < state.slow.until) return { kind: 'slow', delayMs: state.slow.delayMs };
      state.slow = null;
    }
    return undefined;
  }

  /** The module throws on the next event it takes (of type `on`, if given). */
  crash(module: string, message: string, on?: string): void {
    this.of(module).crashes.push({ message, ...(on === undefined ? {} : { on }) });
  }

  /** The next event the module takes hangs it for `forMs` (null: until it is stopped). */
  hang(module: string, forMs: number | null): void {
    this.of(module).hang = forMs;
  }

  /** Every event the module takes until `until` costs `delayMs` more. */
  slow(module: string, delayMs: number, until: number): void {
    this.of(module).slow = { delayMs, until };
  }

  /** Every event the module takes waits for a {@link release}. */
  hold(module: string): void {
    const state = this.of(module);
    if (state.held !== null) return;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    state.held = { released, release };
  }

  /** Lets a held module go on and ends any slow down of it. */
  release(module: string): void {
    const state = this.of(module);
    state.held?.release();
    state.held = null;
    state.slow = null;
  }

  private of(module: string): ModuleFaults {
    let state = this.modules.get(module);
    if (state === undefined) {
      state = { crashes: [], held: null, hang: undefined, slow: null };
      this.modules.set(module, state);
    }
    return state;
  }
}
