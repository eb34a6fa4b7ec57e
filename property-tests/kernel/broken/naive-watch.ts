/**
 * A deliberately broken death watch, as one might write it in user land on top of
 * `whenTerminated`: every watch call adds a listener (two watches, two Terminated) and unwatch
 * cancels nothing. The death-watch property must catch it.
 */
import type { ActorContext, ActorRef, ActorSystem } from '../../../src/index.js';

/** How a watcher watches: the kernel's ctx.watch, or a stand-in under test. */
export interface WatchImpl<M> {
  watch(system: ActorSystem, ctx: ActorContext<M>, target: ActorRef<unknown>): void;
  unwatch(system: ActorSystem, ctx: ActorContext<M>, target: ActorRef<unknown>): void;
}

export const kernelWatch = <M>(): WatchImpl<M> => ({
  watch: (_system, ctx, target) => ctx.watch(target),
  unwatch: (_system, ctx, target) => ctx.unwatch(target),
});

/** Delivers Terminated through `deliver` (a priority message to the watcher). */
export const naiveWatch = <M>(deliver: (ctx: ActorContext<M>, target: ActorRef<unknown>) => void): WatchImpl<M> => ({
  watch: (system, ctx, target) => {
    void system.whenTerminated(target).then(() => deliver(ctx, target));
  },
  unwatch: () => undefined,
});
