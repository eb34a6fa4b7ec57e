import { createActor, type AnyStateMachine, type EventFromLogic, type InputFrom, type SnapshotFrom } from 'xstate';
import { ActorCell } from './actor.js';
import type { ActorContext, BehaviorFactory } from './behavior.js';
import { issue } from './checks.js';
import { describeValue, ModactorError } from './errors.js';
import type { TimerHandle } from './scheduler.js';

const TIMER_TICK = Symbol('modactor.timerTick');
interface TimerTick {
  readonly [TIMER_TICK]: () => void;
}
const isTick = (message: unknown): message is TimerTick =>
  typeof message === 'object' && message !== null && TIMER_TICK in message;

const EXPECTED_EVENT = 'an event object with a string type';

/** An xstate event, or a typed `invalid-argument` error: xstate itself would fail on it with a TypeError. */
function machineEvent(message: unknown): { readonly type: string } {
  if (typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string') {
    return message as { readonly type: string };
  }
  const got = typeof message === 'object' && message !== null ? `${describeValue(message)} without a string type` : describeValue(message);
  throw new ModactorError('invalid-argument', `a machine's message must be ${EXPECTED_EVENT}, got ${got}`, {
    issues: [issue('', EXPECTED_EVENT, got)],
  });
}

/**
 * Runs `fn` in the actor's turn after `ms`. For a kernel actor this goes through its system lane, so
 * a delayed transition is never dropped by a full mailbox; any other context gets a tick message.
 */
function afterInTurn(ctx: ActorContext<unknown>, ms: number, fn: () => void): TimerHandle {
  if (ctx instanceof ActorCell) return ctx.scheduleInTurn(ms, fn);
  const tick: TimerTick = { [TIMER_TICK]: fn };
  return ctx.scheduleOnce(ms, tick);
}

/** Options of {@link fromMachine}. */
export interface MachineBehaviorOptions<TMachine extends AnyStateMachine> {
  /** Input of the machine, at every (re)start. */
  readonly input?: InputFrom<TMachine>;
  /** Called with every snapshot the machine takes (for observation and tests). */
  readonly onSnapshot?: (snapshot: SnapshotFrom<TMachine>) => void;
}

/**
 * Adapts an xstate v5 machine into a behaviour: each message is sent to the machine as an event,
 * one at a time; a machine that ends in an error state is a failure of the actor (supervised like a
 * throw); delayed transitions run on the actor system's scheduler clock, so they are simulated
 * exactly. A restart starts a fresh machine. A message that is not an event (an object with a string
 * `type`) fails the actor with a `ModactorError` of code `invalid-argument`, before the machine sees
 * it; its supervisor decides (`resume` keeps the machine as it was).
 *
 * @example
 * ```ts
 * const toggle = createMachine({ initial: 'off', states: { off: { on: { flip: 'on' } }, on: { on: { flip: 'off' } } } });
 * const ref = system.spawn(fromMachine(toggle), { name: 'toggle' });
 * ref.tell({ type: 'flip' });
 * ```
 */
export function fromMachine<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: MachineBehaviorOptions<TMachine> = {},
): BehaviorFactory<EventFromLogic<TMachine>> {
  return {
    create(ctx) {
      const handles = new Map<number, { cancel(): void }>();
      let nextHandle = 0;
      const actor = createActor(machine, {
        ...(options.input === undefined ? {} : { input: options.input }),
        clock: {
          setTimeout: (fn: (...args: unknown[]) => void, ms: number) => {
            const id = ++nextHandle;
            // The delayed transition runs in this actor's turn, never beside a message.
            handles.set(
              id,
              afterInTurn(ctx, ms, () => {
                if (handles.delete(id)) fn();
                check();
              }),
            );
            return id;
          },
          clearTimeout: (id: unknown) => {
            handles.get(id as number)?.cancel();
            handles.delete(id as number);
          },
        },
      });
      let failure: unknown = null;
      actor.subscribe({
        next: (snapshot) => options.onSnapshot?.(snapshot),
        error: (error) => {
          failure = error;
        },
      });
      const check = (): void => {
        if (failure !== null) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
      };
      return {
        onStart() {
          actor.start();
          check();
        },
        receive(message: unknown) {
          if (isTick(message)) message[TIMER_TICK]();
          else actor.send(machineEvent(message) as EventFromLogic<TMachine>);
          check();
        },
        onStop() {
          for (const handle of handles.values()) handle.cancel();
          actor.stop();
        },
      };
    },
  };
}
