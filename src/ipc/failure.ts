/**
 * Why a process or worker module's connection ended: data, carried by the failure of its host
 * actor, so the supervisor publishes it in ModuleCrashed and restarts by policy.
 */
export type ChannelCloseReason =
  /** The child exited (or the worker stopped) without being asked to. */
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: string | null }
  /** The child could not be started. */
  | { readonly kind: 'spawn-failed'; readonly message: string }
  /** No `ready` within the startup timeout. */
  | { readonly kind: 'startup-timeout'; readonly timeoutMs: number }
  /** The child speaks another protocol version. */
  | { readonly kind: 'protocol-mismatch'; readonly expected: number; readonly got: number }
  /** The child's name or version is not the manifest's. */
  | { readonly kind: 'identity-mismatch'; readonly expected: string; readonly got: string }
  /** A malformed, oversized or out-of-protocol message: the module was disconnected. */
  | { readonly kind: 'protocol-violation'; readonly detail: string }
  /** No heartbeat for `missed` intervals: the module was marked unhealthy and killed. */
  | { readonly kind: 'heartbeat-timeout'; readonly missed: number; readonly intervalMs: number }
  /** The child did not read what the node sent: output pending, unchanged, past the deadline. */
  | { readonly kind: 'not-reading'; readonly pendingBytes: number; readonly stalledMs: number }
  /** The module's handler failed on an event. */
  | ({ readonly kind: 'handler-failed'; readonly message: string } & ChildErrorDetails)
  /** The module reported an error it cannot recover from (setup failure, uncaught exception). */
  | ({ readonly kind: 'fatal'; readonly message: string } & ChildErrorDetails);

/** What the child said about its error besides the message: the error's class name and stack. */
export interface ChildErrorDetails {
  readonly name?: string;
  readonly stack?: string;
}

/** A one-line description of a close reason, as it appears in ModuleCrashed. */
export function describeCloseReason(reason: ChannelCloseReason): string {
  switch (reason.kind) {
    case 'exited':
      return reason.signal !== null
        ? `process exited unexpectedly (signal ${reason.signal})`
        : `process exited unexpectedly (code ${String(reason.code)})`;
    case 'spawn-failed':
      return `could not start: ${reason.message}`;
    case 'startup-timeout':
      return `no handshake within ${reason.timeoutMs} ms: killed`;
    case 'protocol-mismatch':
      return `protocol mismatch: the host speaks version ${reason.expected}, the module ${reason.got}`;
    case 'identity-mismatch':
      return `identity mismatch: the manifest says ${reason.expected}, the module says ${reason.got}`;
    case 'protocol-violation':
      return `protocol violation: ${reason.detail}: disconnected`;
    case 'heartbeat-timeout':
      return `no heartbeat for ${reason.missed} intervals of ${reason.intervalMs} ms: unhealthy, killed`;
    case 'not-reading':
      return `not reading: ${reason.pendingBytes} bytes of output pending for ${reason.stalledMs} ms: disconnected`;
    case 'handler-failed':
      return reason.message;
    case 'fatal':
      return `module error: ${reason.message}`;
  }
}

/**
 * The error a process module's host actor fails with when the connection to its child ends
 * unexpectedly. `reason` is the typed cause; `message` its description.
 */
export class ProcessModuleFailure extends Error {
  override readonly name = 'ProcessModuleFailure';

  constructor(
    readonly module: string,
    readonly reason: ChannelCloseReason,
  ) {
    super(describeCloseReason(reason));
  }
}

/** Guard for {@link ProcessModuleFailure}. */
export function isProcessModuleFailure(value: unknown): value is ProcessModuleFailure {
  return value instanceof ProcessModuleFailure;
}
