import { assign, createActor, setup } from 'xstate';
import {
  EventType,
  defineModule,
  nonNegativeNumber,
  object,
  optional,
  type Check,
  type MaintenanceOperation,
  type MaintenanceUrgency,
  type ModuleDefinition,
} from 'modactor';

/** Options of the {@link maintenanceCoordinator} module. */
export interface MaintenanceCoordinatorOptions {
  readonly name?: string;
  /** Time a maintenance run takes by urgency, on the node's clock. */
  readonly workMs?: Partial<Record<MaintenanceUrgency, number>>;
  /** Time the final flush on `NodeShutdown` takes. Default 100 ms (within the shutdown timeout). */
  readonly flushMs?: number;
}

type CoordinatorEvent =
  | { type: 'REQUEST'; operation: MaintenanceOperation; urgency: MaintenanceUrgency }
  | { type: 'DONE' }
  | { type: 'SHUTDOWN' };

/**
 * The coordinator's states: `idle` → `running` (one maintenance at a time) → `idle`; on shutdown
 * `flushing` → `stopped`, after which maintenance requests are refused.
 */
export const coordinatorMachine = setup({
  types: {
    context: {} as { runs: number; refused: number; current: MaintenanceOperation | null },
    events: {} as CoordinatorEvent,
  },
}).createMachine({
  id: 'maintenance-coordinator',
  initial: 'idle',
  context: { runs: 0, refused: 0, current: null },
  states: {
    idle: {
      on: {
        REQUEST: { target: 'running', actions: assign({ current: ({ event }) => event.operation }) },
        SHUTDOWN: 'flushing',
      },
    },
    running: {
      on: {
        DONE: { target: 'idle', actions: assign({ runs: ({ context }) => context.runs + 1, current: null }) },
        SHUTDOWN: 'flushing',
      },
    },
    flushing: { on: { DONE: 'stopped', REQUEST: { actions: assign({ refused: ({ context }) => context.refused + 1 }) } } },
    stopped: { type: 'final' },
  },
});

/**
 * The options {@link maintenanceCoordinator} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  workMs: optional(object({ low: optional(nonNegativeNumber), medium: optional(nonNegativeNumber), high: optional(nonNegativeNumber) })),
  flushMs: optional(nonNegativeNumber),
} satisfies Record<Exclude<keyof MaintenanceCoordinatorOptions, 'name'>, Check<unknown>>);

/**
 * The maintenance coordinator, an xstate module: its handler drives {@link coordinatorMachine}.
 * `DataMaintenance` starts a run (MaintenanceStarted, the work on the node's clock,
 * MaintenanceCompleted); `NodeShutdown` (which reaches it through the priority lane, ahead of any
 * routine traffic) makes it flush once and stop taking maintenance requests.
 */
export default function maintenanceCoordinator(options: MaintenanceCoordinatorOptions = {}): ModuleDefinition {
  const workMs: Record<MaintenanceUrgency, number> = { low: 400, medium: 200, high: 50, ...options.workMs };
  const flushMs = options.flushMs ?? 100;
  return defineModule({
    name: options.name ?? 'maintenance-coordinator',
    version: '2.0.0',
    subscribe: [EventType.DataMaintenance, EventType.NodeShutdown],
    publishes: [EventType.MaintenanceStarted, EventType.MaintenanceCompleted],
    create(ctx) {
      const machine = createActor(coordinatorMachine).start();
      const state = (): string => machine.getSnapshot().value;
      const run = async (maintenanceType: string, ms: number): Promise<void> => {
        const started = ctx.now();
        ctx.publish({ type: 'MaintenanceStarted', payload: { maintenanceType, estimatedDurationSeconds: Math.ceil(ms / 1000) } });
        await ctx.delay(ms);
        machine.send({ type: 'DONE' });
        ctx.publish({ type: 'MaintenanceCompleted', payload: { maintenanceType, success: true, durationMs: ctx.now() - started } });
      };
      return {
        async handle(event) {
          if (event.type === 'DataMaintenance') {
            machine.send({ type: 'REQUEST', operation: event.payload.operation, urgency: event.payload.urgency });
            if (state() !== 'running') return; // refused: the node is shutting down
            await run(event.payload.operation, workMs[event.payload.urgency]);
          } else if (event.type === 'NodeShutdown') {
            machine.send({ type: 'SHUTDOWN' });
            if (state() === 'flushing') await run('flush', flushMs);
          }
        },
        stop() {
          machine.stop();
        },
      };
    },
  });
}
