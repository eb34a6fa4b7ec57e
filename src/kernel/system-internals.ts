import type { Logger } from 'pino';
import type { DeadLetterReason, Inspector } from './inspection.js';
import type { Scheduler } from './scheduler.js';
import type { Failure, SupervisorOptions } from './supervision.js';
import type { ActorRef } from './behavior.js';

/**
 * What an actor cell needs from its system. `Cell` is the cell type (kernel/actor.ts's
 * `ActorCell`): a parameter, so that this file needs nothing of actor.ts, which needs it.
 * @internal
 */
export interface SystemInternals<Cell extends { readonly path: string }> {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly inspector: Inspector;
  readonly defaultMailboxCapacity: number;
  readonly defaultShutdownTimeoutMs: number;
  readonly defaultSupervision: SupervisorOptions;
  anonymousName(): string;
  cellOf(ref: ActorRef<unknown>): Cell;
  deadLetter(sender: string | null, recipient: Cell, message: unknown, reason: DeadLetterReason): void;
  /** Dead letters so far, by reason (the drop path counts here directly). */
  readonly deadLetterCounts: Record<DeadLetterReason, number>;
  /** How many dead-letter observers there are. */
  deadLetterObservers: number;
  rootFailed(failure: Failure): void;
}
