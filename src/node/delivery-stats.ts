/**
 * Delivery statistics of one module, kept under its name so they continue across restarts.
 *
 * The accounting law: every event offered to a module ends in exactly one counted outcome, so at
 * any moment `offered === channelFull + failed + filtered + serializationFailed + handled +
 * handlerFailed + lostOnCrash + pending`, where `pending` is what sits in the module's mailbox or
 * in its hands right now.
 */
export interface DeliveryStats {
  /** Events enqueued into the module's mailbox (the guide's "successful deliveries"). */
  successful: number;
  /** Offers that found the mailbox closed: the module was dead (it is then unsubscribed). */
  failed: number;
  /** Offers dropped because the mailbox was full: the module is slow, not dead. */
  channelFull: number;
  /** Events the module's handler finished. */
  handled: number;
  /** Events whose handler threw or rejected (the module crashed on it). */
  handlerFailed: number;
  /** Events still queued when an incarnation terminated, lost with its mailbox. */
  lostOnCrash: number;
  /** Events that could not be serialized for a process module: dropped, subscription kept. */
  serializationFailed: number;
  /** Events the module's filter declined (or that its filter threw on: the module then crashed). */
  filtered: number;
  /**
   * Membership events (ModuleLoaded/Crashed/Unloaded) that could not be admitted even past the
   * routine bound (the module's reserve was full): also counted in `channelFull`.
   */
  membershipDropped: number;
  /** Incarnations started (1 + restarts). */
  incarnations: number;
  /**
   * A module with `replay` on a node with a store: seq numbers its replay could not give (removed
   * by retention, or records today's catalogue refuses). Never offered, so outside the accounting law.
   */
  replayGap: number;
}

/** A fresh, zeroed stats record. */
export function emptyStats(): DeliveryStats {
  return {
    successful: 0,
    failed: 0,
    channelFull: 0,
    handled: 0,
    handlerFailed: 0,
    lostOnCrash: 0,
    serializationFailed: 0,
    filtered: 0,
    membershipDropped: 0,
    incarnations: 0,
    replayGap: 0,
  };
}

/** Every offer counted: enqueued ones plus those that never got in. */
export function offeredCount(stats: DeliveryStats): number {
  return stats.successful + stats.failed + stats.channelFull + stats.filtered + stats.serializationFailed;
}

/** Enqueued events not yet settled (in a mailbox or in hand). */
export function pendingCount(stats: DeliveryStats): number {
  return stats.successful - stats.handled - stats.handlerFailed - stats.lostOnCrash;
}

/** The receipt of one publish: what happened across all subscribers. */
export interface PublishReceipt {
  readonly enqueued: number;
  readonly dropped: number;
  readonly failed: number;
  readonly filtered: number;
  readonly serializationFailed: number;
}
