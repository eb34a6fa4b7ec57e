/**
 * Deliberately broken restart windows. The intensity properties must fail on each.
 */
import { RestartWindow } from '../../../src/kernel/supervision.js';

/** Prunes against the window taken in seconds instead of ms: forgets restarts far too early. */
export class SecondsForMillisWindow extends RestartWindow {
  private readonly accepted: number[] = [];
  override tryRecord(now: number): boolean {
    const withinMs = this.withinMs / 1000; // the bug
    while (this.accepted.length > 0 && (this.accepted[0] as number) <= now - withinMs) this.accepted.shift();
    if (this.accepted.length >= this.maxRestarts) return false;
    this.accepted.push(now);
    return true;
  }
}

/** Never prunes: once maxRestarts restarts happened, it refuses forever. */
export class NeverPruningWindow extends RestartWindow {
  private readonly accepted: number[] = [];
  override tryRecord(now: number): boolean {
    if (this.accepted.length >= this.maxRestarts) return false;
    this.accepted.push(now);
    return true;
  }
}

/**
 * Runs `body` with every kernel supervisor using `Broken`'s tryRecord: the way to put a broken
 * window inside the running system, where supervisors build their own windows.
 */
export async function withWindow<T>(Broken: typeof SecondsForMillisWindow | typeof NeverPruningWindow, body: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(RestartWindow.prototype, 'tryRecord') as PropertyDescriptor;
  const broken = new WeakMap<RestartWindow, RestartWindow>();
  Object.defineProperty(RestartWindow.prototype, 'tryRecord', {
    ...original,
    value(this: RestartWindow, now: number): boolean {
      let shadow = broken.get(this);
      if (shadow === undefined) {
        shadow = new Broken(this.maxRestarts, this.withinMs);
        broken.set(this, shadow);
      }
      return Broken.prototype.tryRecord.call(shadow, now);
    },
  });
  try {
    return await body();
  } finally {
    Object.defineProperty(RestartWindow.prototype, 'tryRecord', original);
  }
}
