import type { Logger } from 'pino';
import type { OfferResult } from './mailbox.js';
import type { TimerHandle } from './scheduler.js';
import type { BackoffOptions, ExitReason, RestartType, SupervisorOptions } from './supervision.js';

/** A child's own restart intensity: at most `maxRestarts` within `withinMs` (default 3 in 5000 ms), with optional backoff. */
export interface RestartLimit {
  readonly maxRestarts?: number;
  readonly withinMs?: number;
  readonly backoff?: BackoffOptions;
}

/** A handle to send messages to an actor. Cheap to copy, safe to keep after the actor died. */
export interface ActorRef<M> {
  /** Its id: a nanoid, unique per incarnation (the same as {@link ActorRef.incarnation}). */
  readonly id: string;
  readonly name: string;
  /** Path in the tree, e.g. `/node/modules/indexer`. */
  readonly path: string;
  /** A nanoid, unique per incarnation. */
  readonly incarnation: string;
  /** False once the actor terminated. */
  readonly isAlive: boolean;
  /** Messages queued in the user lane right now, routine and reserved. */
  readonly queued: number;
  /** Routine messages queued in the user lane right now (never more than the mailbox capacity). */
  readonly queuedRoutine: number;
  /**
   * Non-blocking send to the user lane: `enqueued`, `full` (dropped) or `closed`. Never throws.
   * `sender` (e.g. `ctx.self`) is named in the dead letter if the message cannot be delivered.
   */
  tell(message: M, sender?: ActorRef<unknown>): OfferResult;
  /** Non-blocking send to the priority lane, handled before the user lane. */
  tellPriority(message: M, sender?: ActorRef<unknown>): OfferResult;
  /**
   * Non-blocking send to the user lane, in FIFO order with routine messages, admitted past the
   * routine bound up to the mailbox's reserve (for messages that must not be lost to a flood).
   */
  tellReserved(message: M, sender?: ActorRef<unknown>): OfferResult;
}

/** What a behaviour sees of its actor and the system while handling a message. */
export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly name: string;
  readonly path: string;
  readonly incarnation: string;
  /** The capacity of this actor's user lane. */
  readonly mailboxCapacity: number;
  /** A pino child logger bound to this actor's path. */
  readonly log: Logger;
  /** Spawns a child supervised by this actor. */
  spawn<C>(behavior: Behavior<C>, options?: SpawnOptions): ActorRef<C>;
  /** This actor's live children, in start order. */
  children(): ActorRef<unknown>[];
  /**
   * Stops one of this actor's children (reverse-order stop of its subtree), killing it after its
   * shutdown timeout, or after `timeoutMs` when given.
   */
  stop(child: ActorRef<unknown>, timeoutMs?: number): Promise<void>;
  /**
   * Stops the child named `name`, whichever incarnation of it is current — or cancels its pending
   * restart — as {@link ActorContext.stop} does. Resolves with the exit reason of the incarnation
   * it stopped (`killed` past the timeout), or null when none was running.
   */
  stopChild(name: string, timeoutMs?: number): Promise<ExitReason | null>;
  /** Ends this actor normally once the current message is handled. */
  stopSelf(): void;
  /**
   * Fails this actor as if its handler had thrown `error`, before its next user message: for a
   * check run on its behalf outside its turn (a filter called by a publisher) that threw.
   */
  crash(error: unknown): void;
  /** Asks for exactly one `onTerminated(target)` call, also if `target` is already dead. */
  watch(target: ActorRef<unknown>): void;
  /** Cancels a watch; a `Terminated` not yet handled is suppressed. */
  unwatch(target: ActorRef<unknown>): void;
  /** The scheduler's clock, in ms. */
  now(): number;
  /** A promise resolving after `ms` on the scheduler's clock (virtual time in simulation). */
  delay(ms: number): Promise<void>;
  /** Sends `message` to this actor after `delayMs`; cancelled when the actor terminates. */
  scheduleOnce(delayMs: number, message: M): TimerHandle;
}

/** The simplest behaviour: a function called once per message, one at a time. */
export type Handler<M> = (message: M, ctx: ActorContext<M>) => void | Promise<void>;

/** A behaviour with lifecycle hooks. Every hook may be async. */
export interface BehaviorObject<M> {
  receive(message: M, ctx: ActorContext<M>): void | Promise<void>;
  /** Runs before the first message. A throw here is a failure like any other. */
  onStart?: (ctx: ActorContext<M>) => void | Promise<void>;
  /** Runs once when the actor stops (after its children stopped), within its shutdown timeout. */
  onStop?: (ctx: ActorContext<M>, reason: ExitReason) => void | Promise<void>;
  /** Exactly once per `watch` of a target that terminated. */
  onTerminated?: (target: ActorRef<unknown>, reason: ExitReason, ctx: ActorContext<M>) => void | Promise<void>;
}

/** A behaviour with fresh state per incarnation: `create` runs at every (re)start. */
export interface BehaviorFactory<M> {
  create(ctx: ActorContext<M>): BehaviorObject<M>;
}

/** Anything an actor can be spawned from. */
export type Behavior<M> = Handler<M> | BehaviorObject<M> | BehaviorFactory<M>;

/** Options of spawn. */
export interface SpawnOptions {
  /** Unique among siblings; default `$<id>`. */
  readonly name?: string;
  /** User-lane capacity; default the system's (100). */
  readonly mailboxCapacity?: number;
  /** Priority-lane capacity; default the user-lane capacity. */
  readonly priorityCapacity?: number;
  /** Room past the user lane's bound for reserved messages (`tellReserved`); default 1000. */
  readonly reserveCapacity?: number;
  /** Bindings of this actor's logger; default `{ actor: path }`. */
  readonly logBindings?: Readonly<Record<string, string>>;
  /** Default `permanent`. */
  readonly restart?: RestartType;
  /**
   * This child's own restart intensity (and backoff), instead of its parent's: it is restarted
   * alone whatever the parent's strategy, and past its own intensity the parent stops it for good
   * (its exit reason an `intensity-exceeded` failure) and carries on with its other children.
   */
  readonly restartLimit?: RestartLimit;
  /** How long a stop may take before the actor is killed. Default the system's (5000 ms). */
  readonly shutdownTimeoutMs?: number;
  /** How this actor supervises its own children. */
  readonly supervision?: SupervisorOptions;
}

export function isBehaviorFactory<M>(behavior: Behavior<M>): behavior is BehaviorFactory<M> {
  return typeof behavior === 'object' && typeof (behavior as Partial<BehaviorFactory<M>>).create === 'function';
}

/** Normalizes a behaviour for one incarnation. */
export function instantiate<M>(behavior: Behavior<M>, ctx: ActorContext<M>): BehaviorObject<M> {
  if (typeof behavior === 'function') return { receive: behavior };
  if (isBehaviorFactory(behavior)) return behavior.create(ctx);
  return behavior;
}
