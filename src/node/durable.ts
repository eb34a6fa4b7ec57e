/**
 * A node's store (`createNode({ store })`): the durable event log and the saved state, wired to
 * the router.
 *
 * - Opening is asynchronous. Until the store is open, untrusted events are refused
 *   (`node-not-ready`): their seqs must continue above the store's last. `node.load`,
 *   `node.start` and `node.events.flush` wait for it.
 * - Every accepted durable event, local or from another node, is appended with the metadata the
 *   router stamped, from a tap (after it was offered: `publish` stays synchronous and never waits
 *   on the disk). Durable: every type except the reserved ones, or the `durableTypes` given.
 * - Modules with `replay` keep a position ({@link ReplayPosition}); what they missed is read back
 *   through a {@link LogFeed}.
 * - The saved state (positions, delivery statistics, restart counts, health history) is saved,
 *   coalesced, whenever something in it changes, at every `flush()` and at shutdown; it is
 *   restored when the store opens.
 *
 * @internal
 */
import type { Logger } from '../kernel/logger.js';
import { ModactorError, describeValue } from '../kernel/errors.js';
import { issue } from '../kernel/checks.js';
import type { Scheduler } from '../kernel/scheduler.js';
import type { Catalogue, EventMap, EventOf } from '../events/catalogue.js';
import { isReservedEventType } from '../events/reserved-event-types.js';
import { openStore, type EventStore, type StoreOptions } from '../store/store.js';
import type { HealthRecord, SavedModuleState, SavedState } from '../store/state-file.js';
import { emptyStats, pendingCount } from './delivery-stats.js';
import type { Durability, DurableCursor, EventRouter, ModuleIncarnation, ReplayFeed } from './event-router.js';
import { LogFeed } from './log-feed.js';
import { acceptedPayloadJson } from './payload-json.js';
import { ReplayPosition } from './replay-position.js';

/**
 * The `store` option of `createNode`: where the node keeps its durable events, and how (the
 * event log's and the saved state's options: batching, rotation, retention; `fs` is the
 * file-system seam, `createMemoryDisk().mount()` in simulations and tests).
 */
export interface NodeStoreOptions extends Omit<StoreOptions, 'scheduler' | 'logger'> {
  /**
   * The event types that are durable. Default: every type of the catalogue except the reserved
   * ones (module lifecycle and node events, rebuilt live and never replayed), which cannot be listed.
   */
  readonly durableTypes?: readonly string[];
}

/** A node's store at a glance (`node.status().store`). */
export interface NodeStoreStatus {
  /**
   * `opening` until it is open; `ok`; `degraded` while writes fail (events are counted not durable
   * and `flush()` rejects); `failed` when it could not be opened (the node failed); `closed` after shutdown.
   */
  readonly state: 'opening' | 'ok' | 'degraded' | 'failed' | 'closed';
  /** The seq of the last durable event appended. */
  readonly lastSeq: number;
  /** The seq of the last event on disk. */
  readonly durableSeq: number;
  /** Durable events that could not be made durable since the node started. */
  readonly notDurable: number;
  /** The last failure of the disk, when there was one. */
  readonly lastError?: { readonly code: string; readonly message: string };
}

/** Health changes kept per module in the saved state. */
const HEALTH_HISTORY = 32;

const STORE_OPTION_KEYS = new Set([
  'dir',
  'durableTypes',
  'fs',
  'batchMaxEvents',
  'batchMaxDelayMs',
  'segmentMaxBytes',
  'retainMaxBytes',
  'retainMaxAgeMs',
  'maxPendingEvents',
  'saveDelayMs',
]);

/** What the node's store needs of the node. @internal */
export interface NodeStoreDeps<E extends EventMap> {
  readonly router: EventRouter<E>;
  readonly catalogue: Catalogue<E>;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The store could not be opened: the node fails. */
  readonly onFailed: (error: ModactorError) => void;
}

/**
 * Checks the `store` option at once (the store itself opens later): a typed `invalid-argument`
 * naming the field, `unknown-event-type` for a durable type the catalogue does not have.
 */
function checkOptions<E extends EventMap>(options: NodeStoreOptions, catalogue: Catalogue<E>): ReadonlySet<string> | null {
  const bad = (path: string, expected: string, got: unknown): never => {
    throw new ModactorError('invalid-argument', `Invalid node options: ${path}: expected ${expected}, got ${describeValue(got)}`, {
      issues: [issue(path, expected, describeValue(got))],
    });
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) bad('store', 'an object { dir, ... }', options);
  for (const key of Object.keys(options)) if (!STORE_OPTION_KEYS.has(key)) bad(`store.${key}`, `one of ${[...STORE_OPTION_KEYS].join(', ')}`, key);
  if (typeof options.dir !== 'string' || options.dir.length === 0) bad('store.dir', 'a non-empty path', options.dir);
  if (options.durableTypes === undefined) return null;
  if (!Array.isArray(options.durableTypes)) bad('store.durableTypes', 'an array of event types', options.durableTypes);
  const types = new Set<string>();
  options.durableTypes.forEach((type: unknown, i) => {
    if (typeof type !== 'string' || isReservedEventType(type)) {
      bad(`store.durableTypes[${i}]`, 'an event type that is not reserved (module lifecycle and node events are never durable)', type);
    }
    if (!catalogue.has(type as string)) {
      throw new ModactorError('unknown-event-type', `Invalid node options: store.durableTypes[${i}]: expected a known event type, got ${describeValue(type)}`);
    }
    types.add(type as string);
  });
  return types;
}

/** The store of one node. @internal */
export class NodeStore<E extends EventMap> implements Durability<E> {
  private store: EventStore | null = null;
  private failure: ModactorError | null = null;
  private closed = false;
  /** Appends that threw (a payload JSON cannot hold): counted not durable. */
  private notAppended = 0;
  /** {@link notAppended} at the last flush call: each failure is reported to one flush. */
  private notAppendedAtFlush = 0;
  private readonly durableTypes: ReadonlySet<string> | null;
  private readonly positions = new Map<string, ReplayPosition<E>>();
  private readonly restarts = new Map<string, number>();
  private readonly health = new Map<string, HealthRecord[]>();
  /** What was saved for modules not seen since (kept in the next saves). */
  private saved: SavedState['modules'] = {};
  private readonly log: Logger;
  /** Resolves once the store is open; rejects with `store-failed` when it cannot be. */
  readonly opened: Promise<void>;

  constructor(
    private readonly options: NodeStoreOptions,
    private readonly deps: NodeStoreDeps<E>,
  ) {
    this.durableTypes = checkOptions(options, deps.catalogue);
    this.log = deps.logger.child({ module: 'store' });
    deps.router.hold(() =>
      this.failure ?? new ModactorError('node-not-ready', `Expected the node's store (${options.dir}) to be open, got it still opening: await node.load(...) or node.start() first`),
    );
    this.opened = this.open();
    // Observed here so that a failure nobody awaits is not an unhandled rejection; the node fails.
    this.opened.catch(() => undefined);
  }

  private async open(): Promise<void> {
    const storeOptions: StoreOptions = {
      ...Object.fromEntries(Object.entries(this.options).filter(([key]) => key !== 'durableTypes')),
      dir: this.options.dir,
      scheduler: this.deps.scheduler,
      logger: this.deps.logger,
      payloadJson: acceptedPayloadJson(this.deps.catalogue),
    };
    try {
      this.useStore(await openStore(storeOptions));
    } catch (error) {
      const failure =
        error instanceof ModactorError && error.code === 'store-failed'
          ? error
          : new ModactorError('store-failed', `Expected to open the node's store in ${this.options.dir}, got ${error instanceof Error ? error.message : describeValue(error)}`, { cause: error });
      this.failure = failure;
      this.deps.onFailed(failure);
      this.log.error({ err: error, dir: this.options.dir }, 'the node store could not be opened: the node failed');
      throw failure;
    }
  }

  /** Takes the opened store into service; a throw here (a log stream that fails) fails the opening. */
  private useStore(store: EventStore): void {
    const { router } = this.deps;
    this.store = store;
    router.continueAfter(store.lastSeq);
    this.restore(store.state.loaded);
    router.attachDurability(this);
    router.tap((event) => this.onEvent(event));
    router.hold(null);
    this.log.info({ dir: this.options.dir, lastSeq: store.lastSeq, modules: Object.keys(store.state.loaded.modules).length }, 'node store open');
  }

  /** Statistics, positions, restarts and health of the last run, as the state file kept them. */
  private restore(state: SavedState): void {
    this.saved = state.modules;
    for (const [name, saved] of Object.entries(state.modules)) {
      if (saved.stats !== undefined) {
        const stats = this.deps.router.statsFor(name);
        const fields = stats as unknown as Record<string, number>;
        for (const key of Object.keys(emptyStats())) {
          const value = saved.stats[key];
          if (typeof value === 'number') fields[key] = value;
        }
        // What it held when the last run ended without settling it (a crash) went with that run.
        const pending = pendingCount(stats);
        if (pending > 0) stats.lostOnCrash += pending;
      }
      if (saved.restarts !== undefined) this.restarts.set(name, saved.restarts);
      if (saved.health !== undefined) this.health.set(name, [...saved.health]);
    }
  }

  // ---- Durability (what the router asks) ---------------------------------------------------------

  isDurable(type: string): boolean {
    return this.durableTypes === null ? !isReservedEventType(type) : this.durableTypes.has(type);
  }

  attach(incarnation: ModuleIncarnation<E>, lastSeq: number): { readonly cursor: DurableCursor<E>; readonly feed: ReplayFeed<E> | null } {
    let position = this.positions.get(incarnation.name);
    if (position === undefined) {
      // Where its last run left it; else its first load: from `fromSeq`, or the end of the log.
      const saved = this.saved[incarnation.name];
      const fromSeq = incarnation.replay?.fromSeq;
      const start =
        saved?.position !== undefined
          ? { position: saved.position, ahead: saved.ahead ?? [] }
          : { position: fromSeq === undefined ? lastSeq : fromSeq - 1, ahead: [] };
      position = new ReplayPosition<E>(incarnation.name, start, {
        lastSeq: () => this.deps.router.lastSeq,
        openFeed: (inc, from, to, skip) => this.openFeed(inc, from, to, skip),
        changed: () => this.changed(),
      });
      this.positions.set(incarnation.name, position);
      this.changed();
    }
    return position.attach(incarnation, lastSeq);
  }

  private openFeed(incarnation: ModuleIncarnation<E>, fromSeq: number, toSeq: number, skip: (seq: number) => boolean): ReplayFeed<E> {
    return new LogFeed<E>({
      log: (this.store as EventStore).log,
      catalogue: this.deps.catalogue,
      incarnation,
      fromSeq,
      toSeq,
      skip,
      resume: () => this.deps.router.pull(incarnation),
      logger: this.log,
    });
  }

  // ---- Appending and saving ------------------------------------------------------------------------

  private onEvent(event: EventOf<E>): void {
    const store = this.store as EventStore;
    const type = event.type;
    if (this.isDurable(type) && !this.closed) {
      try {
        store.log.append(event as unknown as Parameters<EventStore['log']['append']>[0]);
      } catch (error) {
        if (this.notAppended++ === 0) this.log.error({ err: error, type }, 'an event could not be appended to the log: counted not durable');
      }
    } else if (type === 'ModuleStateChanged' || type === 'ModuleHealthChanged') {
      this.observeLifecycle(event);
    }
    this.changed();
  }

  /** Restart counts and health history, read from the lifecycle events the node publishes. */
  private observeLifecycle(event: EventOf<E>): void {
    const payload = event.payload as { moduleName: string; newState?: string; newHealth?: HealthRecord['health'] };
    const name = payload.moduleName;
    if (event.type === 'ModuleStateChanged') {
      if (payload.newState === 'restarting') this.restarts.set(name, (this.restarts.get(name) ?? 0) + 1);
      return;
    }
    const history = this.health.get(name) ?? [];
    history.push({ time: event.meta?.time ?? this.deps.scheduler.now(), health: payload.newHealth as HealthRecord['health'] });
    if (history.length > HEALTH_HISTORY) history.splice(0, history.length - HEALTH_HISTORY);
    this.health.set(name, history);
  }

  /** Restarts of a module so far, across node restarts. */
  restartsOf(name: string): number {
    return this.restarts.get(name) ?? 0;
  }

  /** The saved state is due (written at most `saveDelayMs` later, coalesced). */
  private changed(): void {
    if (this.store !== null && !this.closed) this.store.state.save(this.snapshot);
  }

  /** The state to save, built when it is written. */
  private readonly snapshot = (): SavedState => {
    const modules: Record<string, SavedModuleState> = { ...this.saved };
    const fresh = new Set<string>();
    const entry = (name: string): Record<string, unknown> => {
      if (!fresh.has(name)) {
        fresh.add(name);
        modules[name] = { ...modules[name] };
      }
      return modules[name] as Record<string, unknown>;
    };
    for (const [name, stats] of this.deps.router.allStats()) entry(name).stats = { ...stats };
    for (const [name, position] of this.positions) Object.assign(entry(name), position.saved());
    for (const [name, count] of this.restarts) entry(name).restarts = count;
    for (const [name, history] of this.health) entry(name).health = [...history];
    return { lastSeq: this.deps.router.lastSeq, modules };
  };

  /**
   * Resolves once every event accepted before it is durable, and the saved state as of now is
   * written; rejects `store-failed` when either could not be.
   */
  async flush(): Promise<void> {
    await this.opened;
    const store = this.store as EventStore;
    if (this.closed) throw new ModactorError('store-failed', "Expected an open node store, got one closed by the node's shutdown");
    const refused = this.notAppended - this.notAppendedAtFlush;
    this.notAppendedAtFlush = this.notAppended;
    store.state.save(this.snapshot);
    await store.flush();
    if (refused > 0) {
      throw new ModactorError('store-failed', `Expected every durable event published since the previous flush to be durable, got ${refused} the log refused`);
    }
  }

  /** At the end of the node's shutdown: the last state saved, the store closed. Never rejects (logs). */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.opened;
    } catch {
      return;
    }
    const store = this.store as EventStore;
    store.state.save(this.snapshot);
    this.closed = true;
    try {
      await store.close();
    } catch (error) {
      this.log.error({ err: error }, 'the node store could not be closed cleanly: the last events or the saved state may not be durable');
    }
  }

  status(): NodeStoreStatus {
    if (this.failure !== null) {
      return { state: 'failed', lastSeq: 0, durableSeq: 0, notDurable: 0, lastError: { code: this.failure.code, message: this.failure.message } };
    }
    const store = this.store;
    if (store === null) return { state: 'opening', lastSeq: 0, durableSeq: 0, notDurable: 0 };
    const status = store.status();
    const lastError = status.log.lastError ?? status.saved.lastError;
    return {
      state: status.state,
      lastSeq: status.log.lastSeq,
      durableSeq: status.log.durableSeq,
      notDurable: status.log.notDurable + this.notAppended,
      ...(lastError === undefined ? {} : { lastError }),
    };
  }
}
