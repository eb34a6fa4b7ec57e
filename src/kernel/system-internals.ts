import type { Logger } from 'pino';
import type { AnyCell } from './actor.js';
import type { DeadLetterReason, Inspector } from './inspection.js';
import type { Scheduler } from './scheduler.js';
import type { Failure, SupervisorOptions } from './supervision.js';
import type { ActorRef } from './behavior.js';

/** What an actor cell needs from its system. @internal */
export interface SystemInternals {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly inspector: Inspector;
  readonly defaultMailboxCapacity: number;
  readonly defaultShutdownTimeoutMs: number;
  readonly defaultSupervision: SupervisorOptions;
  nextId(): number;
  anonymousName(): string;
  register(cell: AnyCell): void;
  unregister(cell: AnyCell): void;
  cellOf(ref: ActorRef<unknown>): AnyCell;
  deadLetter(sender: string | null, recipient: AnyCell, message: unknown, reason: DeadLetterReason): void;
  /** Dead letters so far, by reason (the drop path counts here directly). */
  readonly deadLetterCounts: Record<DeadLetterReason, number>;
  /** How many dead-letter observers there are. */
  deadLetterObservers: number;
  rootFailed(failure: Failure): void;
}
