import {
  createNode,
  createSimulatedScheduler,
  defineModule,
  type ModuleContext,
  type ModuleDefinition,
  type ModactorNode,
  type NodeEvent,
  type EventTypeOf,
  type NodeEventMap,
  type SimulatedScheduler,
} from '../../src/index.js';

/** A node on a seeded simulated scheduler that runs by itself (autoRun). */
export function simNode(seed = 1, options: { autoRun?: boolean; shutdownTimeoutMs?: number } = {}): {
  node: ModactorNode;
  scheduler: SimulatedScheduler;
} {
  const scheduler = createSimulatedScheduler({ seed, autoRun: options.autoRun ?? true });
  const node = createNode({ scheduler, ...(options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs }) });
  return { node, scheduler };
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A short, readable form of an event for sequence assertions. */
export function brief(event: NodeEvent): string {
  const p = event.payload as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'ModuleLoaded':
    case 'ModuleUnloaded':
    case 'ModuleCrashed':
    case 'ModuleStarted':
    case 'ModuleStopped':
      return `${event.type}(${String(p.moduleName)})`;
    case 'ModuleStateChanged':
      return `${event.type}(${String(p.moduleName)}: ${String(p.oldState)}->${String(p.newState)})`;
    case 'ModuleHealthChanged':
      return `${event.type}(${String(p.moduleName)}: ${String(p.oldHealth)}->${String(p.newHealth)})`;
    case 'NewBlock':
      return `NewBlock(${String(p.height)})`;
    default:
      return event.type;
  }
}

/** A module that records what it receives. */
export function recorder(
  name: string,
  subscribe: readonly EventTypeOf<NodeEventMap>[],
  options: {
    handle?: (event: NodeEvent, ctx: ModuleContext) => void | Promise<void>;
    mailboxCapacity?: number;
    restart?: ModuleDefinition['restart'];
    publishes?: readonly EventTypeOf<NodeEventMap>[];
  } = {},
): { module: ModuleDefinition; seen: string[]; events: NodeEvent[] } {
  const seen: string[] = [];
  const events: NodeEvent[] = [];
  const module = defineModule({
    name,
    version: '1.0.0',
    subscribe,
    ...(options.mailboxCapacity === undefined ? {} : { mailboxCapacity: options.mailboxCapacity }),
    ...(options.restart === undefined ? {} : { restart: options.restart }),
    ...(options.publishes === undefined ? {} : { publishes: options.publishes }),
    async handle(event, ctx) {
      seen.push(brief(event));
      events.push(event);
      await options.handle?.(event, ctx);
    },
  });
  return { module, seen, events };
}

export const hash = (n: number): string => n.toString(16).padStart(64, '0');

/**
 * Drives a simulated scheduler (autoRun off) until `promise` settles: runs actors and fires virtual
 * timers; fails if the system goes quiet with the promise still pending.
 */
export async function drive<T>(scheduler: SimulatedScheduler, promise: Promise<T>): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  for (let rounds = 0; !settled; rounds++) {
    if (rounds > 100) throw new Error('drive: the system went quiet with the promise still pending');
    await scheduler.runAll();
  }
  return tracked;
}
