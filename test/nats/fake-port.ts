/**
 * A node as the bus sees it, for tests (and for the bus-node fixture process): no vitest here.
 */
import { isModactorError, type ModactorError, type PublishReceipt } from '../../src/index.js';
import { nodeCatalogue } from '../../src/events/node-catalogue.js';
import type { BusPort, MembershipChange, RemoteOrigin, StampedEvent } from '../../src/nats/port.js';

/** Resolves when `condition()` holds, re-checked each time `subscribe`'s callback fires. */
export class Conditions {
  private waiters: { condition: () => boolean; resolve: () => void }[] = [];

  /** Re-checks the pending conditions (call after every state change). */
  changed(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.condition()) return true;
      w.resolve();
      return false;
    });
  }

  /**
   * Resolves when `condition()` holds; rejects after `timeoutMs` naming the condition (its source),
   * so a test that cannot get there says where it stopped instead of hitting the test timeout.
   */
  until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.condition !== condition);
        reject(new Error(`still waiting after ${timeoutMs} ms for: ${condition.toString()}`));
      }, timeoutMs);
      this.waiters.push({
        condition,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** One event the fake node received from the bus. */
export interface Injected {
  readonly event: { readonly type: string; readonly payload: unknown };
  readonly origin: RemoteOrigin;
}

const RECEIPT: PublishReceipt = { enqueued: 1, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 };

/**
 * A node as the bus sees it, for tests: local events and module loads are driven by the test;
 * what the bus injects, announces and retires is recorded; `until` waits for a state.
 */
export class FakePort implements BusPort {
  readonly injected: Injected[] = [];
  /** Events injected, counted even when not recorded. */
  count = 0;
  /** The last event injected. */
  last: Injected | undefined;
  /** When false, injected events are counted but not kept (floods). */
  record = true;
  /** `+node/module@version` and `-node/module`, in call order. */
  readonly membershipLog: string[] = [];
  /** Remote modules announced now: `node/module` to version. */
  readonly present = new Map<string, string>();
  /** When set, injectRemote refuses the events for which it returns an error. */
  refuse: ((event: Injected['event']) => ModactorError | null) | null = null;
  private readonly localListeners = new Set<(event: StampedEvent) => void>();
  private readonly membershipListeners = new Set<(change: MembershipChange) => void>();
  private readonly loaded = new Map<string, string>();
  private seq = 0;
  private readonly conditions = new Conditions();
  readonly problems: string[] = [];

  constructor(readonly nodeId: string) {}

  onLocalEvent(listener: (event: StampedEvent) => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  injectRemote(raw: unknown, origin: RemoteOrigin): PublishReceipt | ModactorError {
    // Validated here, as a node validates what the bus hands it (the bus does not check it first).
    const checked = nodeCatalogue.check(raw);
    if (isModactorError(checked)) return checked;
    const refusal = this.refuse?.(checked) ?? null;
    if (refusal !== null) return refusal;
    this.count++;
    this.last = { event: checked, origin };
    if (this.record) this.injected.push(this.last);
    this.conditions.changed();
    return RECEIPT;
  }

  onMembership(listener: (change: MembershipChange) => void): { loaded: { module: string; version: string }[]; stop(): void } {
    this.membershipListeners.add(listener);
    return {
      loaded: [...this.loaded].map(([module, version]) => ({ module, version })),
      stop: () => this.membershipListeners.delete(listener),
    };
  }

  announceRemote(nodeId: string, module: string, version: string): void {
    const name = `${nodeId}/${module}`;
    if (this.present.has(name)) this.problems.push(`announced ${name} twice`);
    this.present.set(name, version);
    this.membershipLog.push(`+${name}@${version}`);
    this.conditions.changed();
  }

  retireRemote(nodeId: string, module: string): void {
    const name = `${nodeId}/${module}`;
    if (!this.present.delete(name)) this.problems.push(`retired ${name}, which was not announced`);
    this.membershipLog.push(`-${name}`);
    this.conditions.changed();
  }

  // ---- Driven by the test ------------------------------------------------------------------------

  /** Publishes a local event (stamped as the node would) to the bus's listener. */
  publish(type: string, payload: unknown, source = 'publisher'): StampedEvent {
    const event: StampedEvent = { type, payload, meta: { source, seq: ++this.seq, time: this.seq } };
    for (const listener of this.localListeners) listener(event);
    return event;
  }

  load(module: string, version = '1.0.0'): void {
    this.loaded.set(module, version);
    for (const listener of this.membershipListeners) listener({ kind: 'loaded', module, version });
  }

  unload(module: string): void {
    const version = this.loaded.get(module);
    if (version === undefined) return;
    this.loaded.delete(module);
    for (const listener of this.membershipListeners) listener({ kind: 'unloaded', module, version });
  }

  /** Resolves when `condition()` holds, checked after each call of the bus into this port. */
  until(condition: () => boolean): Promise<void> {
    return this.conditions.until(condition);
  }

  /** Events injected from `nodeId`. */
  from(nodeId: string): Injected[] {
    return this.injected.filter((i) => i.origin.nodeId === nodeId);
  }
}

/** A valid NewBlock payload of height `n`. */
export const block = (n: number): { blockHash: string; height: number } => ({ blockHash: n.toString(16).padStart(64, '0'), height: n });
