/**
 * What the bus needs from a node: the port `src/node/bus-port.ts` defines and implements. @internal
 */
export type { BusPort, MembershipChange, RemoteOrigin, StampedEvent } from '../node/bus-port.js';

/**
 * A log gate for something that may happen on every message: true on the 1st, 2nd, 4th, 8th, ...
 * occurrence, so a flood costs a handful of lines. @internal
 */
export function doublingLog(): () => boolean {
  let count = 0;
  let next = 1;
  return () => {
    if (++count < next) return false;
    next *= 2;
    return true;
  };
}
