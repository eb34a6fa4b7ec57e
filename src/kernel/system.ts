import type { Logger } from 'pino';
import { ActorCell, type AnyCell } from './actor.js';
import type { ActorRef, Behavior, SpawnOptions } from './behavior.js';
import { ModactorError } from './errors.js';
import { Inspector, type DeadLetter, type DeadLetterReason, type InspectionObserver, reportObserverError } from './inspection.js';
import { LogThrottle } from './log-throttle.js';
import { silentLogger } from './logger.js';
import { DEFAULT_MAILBOX_CAPACITY } from './mailbox.js';
import { createRealScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
import { validateSupervisorOptions, type ExitReason, type Failure, type SupervisorOptions } from './supervision.js';
import type { SystemInternals } from './system-internals.js';

/** Default time an actor gets to stop before it is killed (ActorSystemOptions.shutdownTimeoutMs). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/** Default time an ask waits for its reply. */
const DEFAULT_ASK_TIMEOUT_MS = 5000;

/** Default minimum ms between two dead-letter log lines. */
const DEFAULT_DEAD_LETTER_LOG_INTERVAL_MS = 1000;

/** Options of {@link createActorSystem}. */
export interface ActorSystemOptions {
  /** Real (default) or simulated. */
  readonly scheduler?: Scheduler;
  /** A pino logger; default silent. */
  readonly logger?: Logger;
  /** Default user-lane capacity of every mailbox. Default 100. */
  readonly defaultMailboxCapacity?: number;
  /** Default time an actor gets to stop before it is killed. Default 5000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** How the root supervises top-level actors, and the default for every supervisor. */
  readonly supervision?: SupervisorOptions;
  /** Minimum ms between two dead-letter log lines. Default 1000. */
  readonly deadLetterLogIntervalMs?: number;
}

/** Counts of dead letters by reason. */
export type DeadLetterCounts = Record<DeadLetterReason, number>;

/**
 * An actor system: the root of a supervision tree, with its scheduler, logger, dead
 * letters and inspection stream.
 *
 * @example
 * ```ts
 * const system = createActorSystem();
 * const counter = system.spawn({ create: () => { let n = 0; return { receive: (m: 'inc') => { n++; } }; } }, { name: 'counter' });
 * counter.tell('inc');
 * await system.shutdown();
 * ```
 */
export interface ActorSystem {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Spawns a top-level actor (a child of the root `/`). */
  spawn<M>(behavior: Behavior<M>, options?: SpawnOptions): ActorRef<M>;
  /** Stops an actor and its subtree; resolves once it terminated. Not restarted. */
  stop(ref: ActorRef<unknown>): Promise<void>;
  /** The live actor at `path`, if any. */
  lookup<M = unknown>(path: string): ActorRef<M> | undefined;
  /** Resolves with the exit reason once `ref`'s incarnation terminated. */
  whenTerminated(ref: ActorRef<unknown>): Promise<ExitReason>;
  /**
   * Request-response: sends the message built around a `reply` callback and resolves with the
   * reply. Rejects with a typed error when the message cannot be enqueued (`mailbox-full`,
   * `actor-terminated`), when the actor terminates first, or after `timeoutMs` (`ask-timeout`).
   */
  ask<R, M>(ref: ActorRef<M>, build: (reply: (value: R) => void) => M, options?: { timeoutMs?: number }): Promise<R>;
  /** Observes typed inspection events; returns the unsubscribe function. */
  inspect(observer: InspectionObserver): () => void;
  /** Observes dead letters; returns the unsubscribe function. */
  onDeadLetter(observer: (letter: DeadLetter) => void): () => void;
  /** Dead letters so far, by reason. */
  deadLetterCounts(): DeadLetterCounts;
  /** Failures that reached the root (escalated past every supervisor). */
  rootFailures(): readonly Failure[];
  /** Stops every actor (reverse start order, each with its timeout). */
  shutdown(): Promise<void>;
  readonly isRunning: boolean;
}

/** Creates an actor system. */
export function createActorSystem(options: ActorSystemOptions = {}): ActorSystem {
  const scheduler = options.scheduler ?? createRealScheduler();
  const logger = options.logger ?? silentLogger();
  const defaultMailboxCapacity = options.defaultMailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
  if (!Number.isSafeInteger(defaultMailboxCapacity) || defaultMailboxCapacity < 1) {
    throw new ModactorError('invalid-capacity', `Expected defaultMailboxCapacity to be a positive safe integer, got ${String(defaultMailboxCapacity)}`);
  }
  if (options.supervision !== undefined) validateSupervisorOptions(options.supervision);
  const logInterval = options.deadLetterLogIntervalMs ?? DEFAULT_DEAD_LETTER_LOG_INTERVAL_MS;
  const inspector = new Inspector(() => scheduler.now());
  const deadCounts: DeadLetterCounts = { 'mailbox-full': 0, closed: 0, 'lost-on-termination': 0 };
  let deadObservers: ((letter: DeadLetter) => void)[] = [];
  const deadLetterLog = new LogThrottle(logInterval);
  const rootFailures: Failure[] = [];
  let anonymous = 0;
  let running = true;
  let shutdownPromise: Promise<void> | null = null;

  const internals: SystemInternals<AnyCell> = {
    scheduler,
    logger,
    inspector,
    defaultMailboxCapacity,
    defaultShutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    defaultSupervision: options.supervision ?? {},
    anonymousName: () => `$${++anonymous}`,
    cellOf(ref) {
      if (ref instanceof ActorCell && ref.belongsTo(internals)) return ref as AnyCell;
      throw new ModactorError('unknown-actor', `Expected an actor of this system, got ${describeRef(ref)}`);
    },
    deadLetterCounts: deadCounts,
    deadLetterObservers: 0,
    deadLetter(sender, recipient, message, reason) {
      deadCounts[reason]++;
      if (inspector.active) inspector.emit({ type: 'dead-letter', actor: recipient.path, reason, message });
      if (deadObservers.length > 0) {
        const letter: DeadLetter = { sender, recipient: recipient.path, message, reason };
        for (const observer of deadObservers) {
          try {
            observer(letter);
          } catch (error) {
            reportObserverError(error);
          }
        }
      }
      if (reason === 'mailbox-full') return; // the mailbox logs its own full/drained transitions
      const count = deadLetterLog.hit(scheduler.now());
      if (count > 0) logger.warn({ deadLetters: count, lastRecipient: recipient.path, lastReason: reason }, 'dead letters');
    },
    rootFailed(failure) {
      rootFailures.push(failure);
      logger.error({ failure: failure.message, kind: failure.kind }, 'failure escalated to the root; stopping the system');
      void shutdown();
    },
  };

  const root = new ActorCell<unknown>(internals, null, { receive: () => undefined }, { supervision: options.supervision ?? {} }, '');

  const shutdown = (): Promise<void> => {
    if (shutdownPromise === null) {
      running = false;
      shutdownPromise = root.requestStop({ kind: 'stopped' }).then(() => undefined);
    }
    return shutdownPromise;
  };

  return {
    scheduler,
    logger,
    get isRunning() {
      return running;
    },
    spawn(behavior, spawnOptions) {
      if (!running) throw new ModactorError('system-stopped', 'Cannot spawn: the actor system is shut down');
      return root.spawn(behavior, spawnOptions);
    },
    async stop(ref) {
      const cell = internals.cellOf(ref);
      if (!cell.isAlive) return;
      if (cell.parent === null) return shutdown();
      await cell.parent.stopChildFromOutside(cell);
    },
    lookup(path: string) {
      // Walk the tree: no registry entry per actor to keep.
      if (!path.startsWith('/') || path === '/') return undefined;
      let cell: AnyCell | null = root;
      for (const name of path.slice(1).split('/')) {
        cell = cell.childNamed(name);
        if (cell === null) return undefined;
      }
      return cell.isAlive ? cell : undefined;
    },
    whenTerminated(ref) {
      // A foreign ref rejects (unknown-actor), like stop and ask.
      return new Promise((resolve) => internals.cellOf(ref).onTermination(resolve));
    },
    ask<R, M>(ref: ActorRef<M>, build: (reply: (value: R) => void) => M, askOptions: { timeoutMs?: number } = {}) {
      // Everything runs inside the executor: a foreign ref or a throwing `build` rejects.
      return new Promise<R>((resolve, reject) => {
        const cell = internals.cellOf(ref) as unknown as ActorCell<M>;
        let settled = false;
        let timer: TimerHandle | null = null;
        let unlisten: (() => void) | null = null;
        const settle = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          timer?.cancel();
          // A long-lived actor answers many asks: drop this one's listener, or they pile up.
          unlisten?.();
          fn();
        };
        const result = cell.tell(build((value) => settle(() => resolve(value))));
        if (result !== 'enqueued') {
          settle(() =>
            reject(
              result === 'full'
                ? new ModactorError('mailbox-full', `Mailbox of ${cell.path} is full`)
                : new ModactorError('actor-terminated', `${cell.path} is terminated`),
            ),
          );
          return;
        }
        const timeoutMs = askOptions.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
        timer = scheduler.setTimer(timeoutMs, () =>
          settle(() => reject(new ModactorError('ask-timeout', `No reply from ${cell.path} within ${timeoutMs} ms`))),
        );
        unlisten = cell.onTermination((reason) =>
          settle(() => reject(new ModactorError('actor-terminated', `${cell.path} terminated before replying (${reason.kind})`))),
        );
        if (settled) unlisten();
      });
    },
    inspect: (observer) => inspector.subscribe(observer),
    onDeadLetter(observer) {
      deadObservers = [...deadObservers, observer];
      internals.deadLetterObservers = deadObservers.length;
      return () => {
        deadObservers = deadObservers.filter((o) => o !== observer);
        internals.deadLetterObservers = deadObservers.length;
      };
    },
    deadLetterCounts: () => ({ ...deadCounts }),
    rootFailures: () => rootFailures,
    shutdown,
  };
}

function describeRef(ref: unknown): string {
  if (ref !== null && typeof ref === 'object' && 'path' in ref) return `a ref to ${String((ref).path)}`;
  return 'something that is not an actor ref';
}
