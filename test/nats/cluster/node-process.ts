/**
 * A real node (createNode) joined to the bus (connectBus) in a process of its own, driven by the
 * cluster tests over the fork channel (no vitest here):
 *
 *   node --import tsx node-process.ts --url URL --node ID --prefix P [--durable T1,T2]
 *        [--heartbeat-ms N --deadline-ms N] [--user U --pass P] [--broken VARIANT]
 *
 * Requests `{ id, cmd, ... }` are answered `{ id, ok, result | error }`; the node also pushes
 * `{ push: 'report', ... }` whenever what its probes saw changed (at most once per turn of the
 * event loop) and `{ push: 'violation', text }` for every breach a probe saw. See cluster.ts for the
 * commands.
 *
 * `--broken` wires the node to the bus through a deliberately broken port, for the tests that show
 * the properties catch it: `reorder` (every 5th remote chain event is held back behind the next),
 * `lost-retire` (remote modules are never retired).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createNode, isModactorError, type ModuleDefinition, type NodeEvent } from '../../../src/index.js';
import { busPort, type BusPort } from '../../../src/node/bus-port.js';
import { nodeInternals } from '../../../src/node/node.js';
import { connectBus } from '../../../src/nats/connect-bus.js';
import { joinBus, type Bus } from '../../../src/nats/bus.js';
import type { BusSettings } from '../../../src/nats/bus-options.js';
import { CORE_TYPE, DURABLE_TYPE, Probe, chainHash, type ProbeSpec } from './probe.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    node: { type: 'string' },
    prefix: { type: 'string', default: 'cluster' },
    durable: { type: 'string', default: DURABLE_TYPE },
    'heartbeat-ms': { type: 'string', default: '100' },
    'deadline-ms': { type: 'string', default: '600' },
    user: { type: 'string' },
    pass: { type: 'string' },
    broken: { type: 'string' },
  },
});

const nodeId = values.node ?? 'node';
/** This process, in every chain event it publishes: receivers tell a restarted publisher apart. */
const incarnation = randomBytes(8).toString('hex');
const send = (message: unknown): void => void process.send?.(message);
const logger = pino({ level: process.env['MODACTOR_TEST_LOG'] ?? 'silent', base: { node: nodeId } }, pino.destination(2));
const node = createNode({ logger, shutdownTimeoutMs: 2000 });
const { router } = nodeInternals(node);

const settings: BusSettings = {
  servers: values.url ?? '',
  prefix: values.prefix ?? 'cluster',
  durableTypes: (values.durable ?? '').split(',').filter((t) => t !== ''),
  heartbeatMs: Number(values['heartbeat-ms']),
  deadlineMs: Number(values['deadline-ms']),
  connection: { reconnectTimeWaitMs: 100, pingIntervalMs: 250, maxPingOut: 2 },
  durable: { ackTimeoutMs: 1000 },
  closeTimeoutMs: 2000,
  ...(values.user === undefined ? {} : { user: values.user, pass: values.pass ?? '' }),
};

/** A port broken on purpose (see the header). */
function broken(port: BusPort, variant: string): BusPort {
  if (variant === 'lost-retire') return { ...port, retireRemote: () => undefined };
  if (variant === 'reorder') {
    let count = 0;
    let heldBack: (() => void) | null = null;
    return {
      ...port,
      injectRemote(raw, origin) {
        const type = (raw as { type?: unknown }).type;
        if (type !== CORE_TYPE && type !== DURABLE_TYPE) return port.injectRemote(raw, origin);
        if (heldBack === null && ++count % 5 === 0) {
          heldBack = () => port.injectRemote(raw, origin);
          return { enqueued: 0, dropped: 0, failed: 0, filtered: 0, serializationFailed: 0 };
        }
        const receipt = port.injectRemote(raw, origin);
        const late = heldBack;
        heldBack = null;
        late?.();
        return receipt;
      },
    };
  }
  throw new Error(`unknown --broken variant ${variant}`);
}

// ---- Probes and what they saw --------------------------------------------------------------------

const probes = new Map<string, Probe>();
let connected = false;
let reportScheduled = false;
const report = (): void => {
  if (reportScheduled) return;
  reportScheduled = true;
  setImmediate(() => {
    reportScheduled = false;
    send({ push: 'report', node: nodeId, connected, probes: [...probes.values()].map((p) => p.report()), registry: router.announcedNames() });
  });
};
/** Waiters for the next change of what the probes saw. */
const changes: (() => void)[] = [];
const changed = (): void => {
  report();
  for (const resolve of changes.splice(0)) resolve();
};
const violation = (text: string): void => {
  // With what the node counted as not delivered to its modules: a gap must never come from there.
  void node.events.getAllDeliveryStats().then(
    (all) => {
      const full = [...all].filter(([, stats]) => stats.channelFull > 0).map(([name, stats]) => `${name} ${stats.channelFull}`);
      send({ push: 'violation', text: `${nodeId}: ${text} (channelFull: ${full.join(', ') || 'none'})` });
    },
    () => send({ push: 'violation', text: `${nodeId}: ${text}` }),
  );
};
const loadProbe = async (spec: ProbeSpec): Promise<unknown> => {
  const probe = new Probe(spec, violation, changed, probes.get(spec.name)?.handled ?? 0);
  probes.set(spec.name, probe);
  const info = await node.load(probe.module);
  changed();
  return info;
};
// The sink watches everything from the start, before the bus is joined: after a restart, the
// durable events this node missed reach it.
await loadProbe({ name: 'sink', watch: true });

// A refused join (bad credentials, no server) is told to the test, then the process ends.
const bus: Bus = await (
  values.broken === undefined
    ? connectBus(node, { ...settings, nodeId })
    : joinBus(broken(busPort(node, nodeId), values.broken), { ...settings, scheduler: node.scheduler, logger, catalogue: router.catalogue })
).catch((error: unknown) => {
  process.send?.({ push: 'join-failed', error: String(error) }, () => process.exit(2));
  return new Promise<never>(() => undefined);
});
connected = true;
bus.onConnection((change) => {
  connected = change.type === 'up';
  report();
});
// Membership changes of the node itself (remote modules announced and retired) are reported too.
router.tap((event) => {
  if (event.type === 'ModuleLoaded' || event.type === 'ModuleUnloaded') report();
});

/**
 * Resolves once the bus has nothing durable pending (acknowledged or counted) and no probe has an
 * event pending (queued or in hand), held ones aside; re-checked on every change.
 */
async function quiet(): Promise<void> {
  await bus.durableSettled();
  for (;;) {
    const next = new Promise<void>((resolve) => changes.push(resolve));
    const stats = await node.events.getAllDeliveryStats();
    const busy = [...probes.values()].some((probe) => {
      const s = stats.get(probe.spec.name);
      return probe.spec.hold !== true && s !== undefined && s.successful - s.handled - s.handlerFailed - s.lostOnCrash > 0;
    });
    if (!busy) return;
    await next;
  }
}

const heights = { core: 0, durable: 0 };
const chain = (path: 'core' | 'durable'): NodeEvent => {
  const height = ++heights[path];
  const hash = chainHash(incarnation, height);
  return path === 'core' ? { type: CORE_TYPE, payload: { blockHash: hash, height } } : { type: DURABLE_TYPE, payload: { hash, height } };
};

type Request =
  | { readonly cmd: 'load'; readonly spec: ProbeSpec }
  | { readonly cmd: 'load-actor'; readonly actor: string; readonly options?: Record<string, unknown> }
  | { readonly cmd: 'unload'; readonly name: string }
  | { readonly cmd: 'crash'; readonly name: string }
  | { readonly cmd: 'release'; readonly name: string }
  | { readonly cmd: 'publish'; readonly core?: number; readonly durable?: number }
  | { readonly cmd: 'publish-event'; readonly event: NodeEvent }
  | { readonly cmd: 'quiet' }
  | { readonly cmd: 'state' }
  | { readonly cmd: 'shutdown' };

async function perform(request: Request): Promise<unknown> {
  switch (request.cmd) {
    case 'load':
      return loadProbe(request.spec);
    case 'load-actor': {
      const factory = ((await import(`../../../actors/${request.actor}.js`)) as { default: (options: unknown) => ModuleDefinition }).default;
      return node.load(factory(request.options ?? {}));
    }
    case 'unload':
      return node.unload(request.name);
    case 'crash':
      return node.events.publish({ type: 'HealthCheck', payload: { checkType: 'crash', nodeHealthy: true, healthReport: request.name } });
    case 'release':
      probes.get(request.name)?.release();
      return null;
    case 'publish': {
      // Interleaved, as a node publishes (the two paths are independent, each in order), in bursts
      // of 100 with a turn of the event loop between them, so the modules keep up: no mailbox here
      // overflows (a drop would be a gap the probes cannot tell from a loss on the bus).
      const receipts = [];
      for (let i = 0; i < Math.max(request.core ?? 0, request.durable ?? 0); i++) {
        if (i < (request.core ?? 0)) receipts.push(node.events.publish(chain('core')));
        if (i < (request.durable ?? 0)) receipts.push(node.events.publish(chain('durable')));
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
      return receipts.filter((r) => r.dropped > 0 || r.failed > 0);
    }
    case 'publish-event':
      return node.events.publish(request.event);
    case 'quiet':
      return quiet();
    case 'state':
      return {
        subscribers: await node.events.getSubscribers(CORE_TYPE),
        stats: Object.fromEntries(await node.events.getAllDeliveryStats()),
        modules: await node.modules(),
        registry: await node.events.getLoadedModules(),
        probes: [...probes.values()].map((p) => p.report()),
        bus: bus.stats(),
        heights,
      };
    case 'shutdown':
      await node.shutdown();
      await bus.close();
      return bus.stats();
  }
}

process.on('message', (message: { id: number } & Request) => {
  perform(message).then(
    (result) => {
      send({ id: message.id, ok: true, result });
      if (message.cmd === 'shutdown') process.disconnect();
    },
    (error: unknown) => send({ id: message.id, ok: false, error: isModactorError(error) ? `${error.code}: ${error.message}` : String(error) }),
  );
});
// The test went away: leave at once (the bus's deadline takes care of the rest).
process.on('disconnect', () => process.exit(0));
send({ push: 'ready', node: nodeId, epoch: bus.epoch, incarnation });
report();
