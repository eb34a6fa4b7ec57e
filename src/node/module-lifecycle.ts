import { createMachine } from 'xstate';

/** The states a module goes through, as `ModuleStateChanged` reports them. */
export type ModuleState = 'loading' | 'subscribing' | 'running' | 'crashed' | 'restarting' | 'stopping' | 'stopped';

/** Events of the lifecycle machine. */
export type ModuleLifecycleEvent =
  | { type: 'HANDSHAKE' }
  | { type: 'ANNOUNCED' }
  | { type: 'CRASH' }
  | { type: 'RESTART' }
  | { type: 'STOP' }
  | { type: 'STOPPED' }
  | { type: 'GIVE_UP' };

/**
 * The module lifecycle as an xstate machine:
 * loading → subscribing → running → crashed → restarting → subscribing → …, and from any live
 * state stopping → stopped; a crash past the restart intensity ends in stopped.
 */
export const moduleLifecycleMachine = createMachine({
  id: 'module',
  types: {} as { events: ModuleLifecycleEvent },
  initial: 'loading',
  states: {
    loading: { on: { HANDSHAKE: 'subscribing', CRASH: 'crashed', STOP: 'stopping' } },
    subscribing: { on: { ANNOUNCED: 'running', CRASH: 'crashed', STOP: 'stopping' } },
    running: { on: { CRASH: 'crashed', STOP: 'stopping' } },
    crashed: { on: { RESTART: 'restarting', GIVE_UP: 'stopped', STOP: 'stopping' } },
    restarting: { on: { HANDSHAKE: 'subscribing', CRASH: 'crashed', STOP: 'stopping' } },
    stopping: { on: { STOPPED: 'stopped' } },
    stopped: { type: 'final' },
  },
});

type Transitions = Readonly<Record<ModuleState, Readonly<Partial<Record<ModuleLifecycleEvent['type'], ModuleState>>>>>;

/** The machine's transitions as a table, read once from its config: the machine stays their one source. */
const transitions: Transitions = Object.fromEntries(
  Object.entries(moduleLifecycleMachine.config.states ?? {}).map(([state, node]) => [
    state,
    Object.fromEntries(Object.entries((node as { on?: Record<string, string> }).on ?? {})),
  ]),
) as unknown as Transitions;

/**
 * The state after `event` in `state`, by the lifecycle machine (the state itself when the machine
 * ignores the event): a pure transition without a snapshot object per module. @internal
 */
export function nextModuleState(state: ModuleState, event: ModuleLifecycleEvent['type']): ModuleState {
  return transitions[state][event] ?? state;
}
