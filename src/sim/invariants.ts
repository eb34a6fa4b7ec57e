import { offeredCount, pendingCount, type DeliveryStats } from '../node/delivery-stats.js';
import { INVARIANT_NAMES, type InvariantName } from './scenario.js';
import { ownerLife, type DurableTake } from './node-restart.js';
import { isInternal, isOffer, scenarioModules, type Checkpoint, type Trace, type TraceEvent, type TraceIncarnation, type TraceLane, type TraceModule, type TraceOp } from './trace.js';

/** The outcome of one invariant (or expectation) over a run. */
export interface InvariantResult {
  readonly id: string;
  readonly title: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was checked, e.g. "2412 takes at 9 modules". */
  readonly checked: string;
  /** The first violations, each a sentence naming module, time and what went wrong. */
  readonly violations: readonly string[];
  /** Violations beyond those listed. */
  readonly more: number;
}

/** One invariant: a pure function of a trace. */
export interface Invariant {
  readonly id: InvariantName;
  readonly title: string;
  check(trace: Trace): { readonly checked: string; readonly violations: readonly string[] } | null;
}

const MAX_LISTED = 10;

/** Seconds with milliseconds, for messages: `12.345s`. */
export function secs(t: number): string {
  return `${(t / 1000).toFixed(3)}s`;
}

const label = (m: TraceModule, inc: TraceIncarnation): string =>
  m.incarnations.length === 1 ? m.name : `${m.name} (incarnation ${m.incarnations.indexOf(inc) + 1})`;

const eventName = (events: readonly TraceEvent[], ev: number): string => {
  const e = events[ev];
  if (e === undefined) return `event #${ev}`;
  return e.about === null ? e.type : `${e.type}(${e.about.module})`;
};

/** Ops of an incarnation up to a checkpoint's cut (all when no cut). */
function opsUpTo(m: TraceModule, index: number, cut: Checkpoint | undefined): readonly TraceOp[] {
  const inc = m.incarnations[index] as TraceIncarnation;
  const limit = cut?.cut[m.name]?.[index];
  return limit === undefined ? (cut === undefined ? inc.ops : []) : inc.ops.slice(0, limit);
}

const fifo: Invariant = {
  id: 'fifo',
  title:
    'per-module FIFO: each module takes its events in the order they were enqueued, routine and membership events in one order; only critical events overtake',
  check(trace) {
    const violations: string[] = [];
    let takes = 0;
    let modules = 0;
    for (const m of scenarioModules(trace)) {
      if (m.kind !== 'in-process') continue;
      modules++;
      for (const inc of m.incarnations) {
        // One order for the user lane (routine and reserved), one for the priority lane.
        const queues: { ordered: number[]; priority: number[] } = { ordered: [], priority: [] };
        const queueOf = new Map<number, 'ordered' | 'priority'>();
        for (const op of inc.ops) {
          if (op.op === 'enqueued') {
            const queue = op.lane === 'priority' ? 'priority' : 'ordered';
            queues[queue].push(op.ev);
            queueOf.set(op.ev, queue);
          } else if (op.op === 'taken') {
            takes++;
            const queue = queueOf.get(op.ev) ?? 'ordered';
            const expected = queues[queue].shift();
            if (expected !== op.ev) {
              violations.push(
                expected === undefined
                  ? `${label(m, inc)} took ${eventName(trace.events, op.ev)} at ${secs(op.t)}, which was never enqueued for it`
                  : `${label(m, inc)} took ${eventName(trace.events, op.ev)} at ${secs(op.t)} before ${eventName(trace.events, expected)}, enqueued earlier`,
              );
              const at = queues[queue].indexOf(op.ev);
              if (at >= 0) queues[queue].splice(at, 1);
            } else if (queue === 'ordered' && queues.priority.length > 0) {
              violations.push(`${label(m, inc)} took ${eventName(trace.events, op.ev)} at ${secs(op.t)} while a critical event was waiting`);
            }
          }
        }
      }
    }
    return { checked: `${takes} events taken at ${modules} in-process modules`, violations };
  },
};

/** The ModuleLoaded keys (module#announcement) offered or dropped at an incarnation, counted. */
function loadedKeys(trace: Trace, ops: readonly TraceOp[]): Map<string, number> {
  const keys = new Map<string, number>();
  for (const op of ops) {
    if (op.op !== 'enqueued' && op.op !== 'full') continue;
    const e = trace.events[op.ev];
    if (e?.type !== 'ModuleLoaded' || e.about === null) continue;
    const key = `${e.about.module}#${e.about.epoch}`;
    keys.set(key, (keys.get(key) ?? 0) + 1);
  }
  return keys;
}

const moduleLoadedOnce: Invariant = {
  id: 'module-loaded-once',
  title: 'ModuleLoaded exactly once: every live ModuleLoaded subscriber gets each announcement of each module once (replay or live)',
  check(trace) {
    const violations: string[] = [];
    let pairs = 0;
    for (const m of scenarioModules(trace)) {
      for (const inc of m.incarnations) {
        for (const [key, count] of loadedKeys(trace, inc.ops)) {
          pairs++;
          if (count > 1) violations.push(`${label(m, inc)} got ModuleLoaded(${key.replace(/#\d+$/, '')}) ${count} times for one announcement`);
        }
      }
    }
    // Never neither: at the checkpoint before shutdown, every live subscriber has every announced module.
    const cp = trace.checkpoints.find((c) => c.label === 'before-shutdown' && c.settled);
    if (cp !== undefined) {
      const announced = cp.announced.filter((name) => !isInternal(trace, name));
      for (const name of announced) {
        const m = trace.modules.get(name);
        if (m === undefined || !m.subscribesLoaded || !cp.live.includes(name) || m.incarnations.length === 0) continue;
        const index = m.incarnations.length - 1;
        const keys = loadedKeys(trace, opsUpTo(m, index, cp));
        for (const other of announced) {
          // Its own announcement reaches it only if it subscribed before it (a late subscriber's
          // replay is of the *other* loaded modules), so "never neither" is about the others.
          if (other === name) continue;
          const key = `${other}#${cp.epochs[other] ?? 0}`;
          pairs++;
          if (!keys.has(key)) {
            violations.push(`${name} never got ModuleLoaded(${other}) for its announcement #${cp.epochs[other] ?? 0} (checked at ${secs(cp.t)})`);
          }
        }
      }
    }
    return { checked: `${pairs} (subscriber, announcement) pairs`, violations };
  },
};

const unloadedAfterLoaded: Invariant = {
  id: 'unloaded-after-loaded',
  title: 'ModuleUnloaded only after ModuleLoaded: globally and at every subscriber of both',
  check(trace) {
    const violations: string[] = [];
    let checked = 0;
    // The global stream (the recorder is subscribed to everything from the start).
    const announced = new Set<string>();
    for (const rec of trace.lifecycle) {
      const name = typeof rec.payload.moduleName === 'string' ? rec.payload.moduleName : '';
      // A node restart: the new node starts with nothing loaded (a crashed one unloaded nothing).
      if (rec.type === 'NodeRestarted') announced.clear();
      if (isInternal(trace, name)) continue;
      if (rec.type === 'ModuleLoaded') {
        checked++;
        if (announced.has(name)) violations.push(`ModuleLoaded(${name}) published at ${secs(rec.t)} while it was already loaded`);
        announced.add(name);
      } else if (rec.type === 'ModuleUnloaded') {
        checked++;
        if (!announced.delete(name)) violations.push(`ModuleUnloaded(${name}) published at ${secs(rec.t)} without a ModuleLoaded(${name}) before it`);
      } else if (rec.type === 'ModuleCrashed') {
        checked++;
        if (!announced.has(name)) violations.push(`ModuleCrashed(${name}) published at ${secs(rec.t)} while it was not loaded`);
      }
    }
    // Each subscriber of both, per incarnation.
    for (const m of scenarioModules(trace)) {
      if (!m.subscribesLoaded || !m.subscribesUnloaded) continue;
      for (const inc of m.incarnations) {
        const open = new Map<string, number>();
        for (const op of inc.ops) {
          if (!isOffer(op)) continue;
          const e = trace.events[op.ev];
          if (e?.about == null) continue;
          if (e.type === 'ModuleLoaded') open.set(e.about.module, e.about.epoch);
          else if (e.type === 'ModuleUnloaded') {
            checked++;
            if (open.get(e.about.module) !== e.about.epoch) {
              violations.push(`${label(m, inc)} got ModuleUnloaded(${e.about.module}) at ${secs(op.t)} without its ModuleLoaded before it`);
            }
            open.delete(e.about.module);
          }
        }
      }
    }
    return { checked: `${checked} lifecycle events`, violations };
  },
};

interface Observed {
  enqueued: number;
  full: number;
  closed: number;
  handled: number;
  lost: number;
  handlerFailed: number;
}

/** Counts what was observed at a module's incarnations up to a checkpoint. */
export function observedCounts(m: TraceModule, cut: Checkpoint | undefined): Observed {
  const o: Observed = { enqueued: 0, full: 0, closed: 0, handled: 0, lost: 0, handlerFailed: 0 };
  m.incarnations.forEach((_inc, index) => {
    let inHand: number | null = null;
    for (const op of opsUpTo(m, index, cut)) {
      switch (op.op) {
        case 'enqueued':
          o.enqueued++;
          break;
        case 'full':
          o.full++;
          break;
        case 'closed':
          o.closed++;
          break;
        case 'taken':
          inHand = op.ev;
          break;
        case 'handled':
          o.handled++;
          if (op.ev === inHand) inHand = null;
          break;
        case 'lost':
          o.lost++;
          if (op.ev === inHand) inHand = null;
          break;
        case 'failed':
          if (m.kind !== 'in-process' || inHand !== null) o.handlerFailed++;
          inHand = null;
          break;
      }
    }
  });
  return o;
}

/** Each count of `now` less the same count of `before` (when given). */
function since<T extends object>(now: T, before: T | undefined): T {
  if (before === undefined) return now;
  const out = { ...now } as Record<string, number>;
  for (const [key, value] of Object.entries(before)) if (typeof value === 'number' && typeof out[key] === 'number') out[key] -= value;
  return out as T;
}

const accounting: Invariant = {
  id: 'accounting',
  title:
    'accounting law: offered = channelFull + failed + filtered + serializationFailed + handled + handlerFailed + lostOnCrash + pending, for every module, matching what was observed',
  check(trace) {
    // After a node restart, statistics continue from what the store restored (a crash may have
    // lost their last changes): what is compared is what happened since the latest restart.
    const settled = trace.checkpoints.filter((c) => c.settled && c.label !== 'node-restarted');
    if (settled.length === 0) return null;
    const violations: string[] = [];
    let checked = 0;
    for (const cp of settled) {
      const base = trace.checkpoints.slice(0, trace.checkpoints.indexOf(cp)).findLast((c) => c.label === 'node-restarted');
      for (const [name, stats] of Object.entries(cp.stats)) {
        const m = trace.modules.get(name);
        if (m === undefined || m.internal) continue;
        checked++;
        const at = `${name} at ${secs(cp.t)} (${cp.label})`;
        const o = since(observedCounts(m, cp), base === undefined ? undefined : observedCounts(m, base));
        const s: DeliveryStats = since(stats, base?.stats[name]);
        let pending: number;
        if (m.kind === 'in-process') {
          const mismatches: string[] = [];
          const compare = (field: string, got: number, seen: number): void => {
            if (got !== seen) mismatches.push(`${field} ${got} but ${seen} observed`);
          };
          // Events that waited behind a backlog (a replay) when their module ended never reached
          // its mailbox: counted offered and lost then, never seen as an offer.
          const unseen = Math.max(0, s.successful - o.enqueued);
          compare('successful', s.successful, o.enqueued + unseen);
          compare('channelFull', s.channelFull, o.full);
          compare('failed', s.failed, o.closed);
          compare('handled', s.handled, o.handled);
          compare('handlerFailed', s.handlerFailed, o.handlerFailed);
          compare('lostOnCrash', s.lostOnCrash, o.lost + unseen);
          if (mismatches.length > 0) violations.push(`${at}: stats say ${mismatches.join(', ')}`);
          pending = o.enqueued - o.handled - o.handlerFailed - o.lost;
        } else {
          pending = pendingCount(s);
        }
        const offered = offeredCount(s);
        const outcomes = s.channelFull + s.failed + s.filtered + s.serializationFailed + s.handled + s.handlerFailed + s.lostOnCrash;
        if (pending < 0) violations.push(`${at}: ${-pending} more events settled than were enqueued`);
        if (offered !== outcomes + pending) {
          violations.push(`${at}: offered ${offered} != ${outcomes} settled + ${pending} pending`);
        }
        if (cp.label === 'after-modules-stopped' && pending !== 0) violations.push(`${at}: ${pending} events still pending after the module stopped`);
      }
    }
    return { checked: `${checked} module statistics at ${settled.length} checkpoint${settled.length === 1 ? '' : 's'}`, violations };
  },
};

const mailboxBound: Invariant = {
  id: 'mailbox-bound',
  title:
    'mailbox bound: routine events never above the capacity, membership events never above the reserve past it, critical ones never above the priority lane\'s, and nothing dropped as "full" while there is room',
  check(trace) {
    const violations: string[] = [];
    let offers = 0;
    for (const m of scenarioModules(trace)) {
      const wrapped = m.kind === 'in-process';
      const capacityOf = (lane: TraceLane): number =>
        lane === 'priority' ? m.priorityCapacity : lane === 'reserved' ? m.reserveCapacity : m.capacity;
      for (const inc of m.incarnations) {
        const queued: Record<TraceLane, number> = { user: 0, reserved: 0, priority: 0 };
        let worst: { n: number; t: number; lane: TraceLane; capacity: number } | null = null;
        let early: { n: number; t: number; capacity: number } | null = null;
        const lanes = new Map<number, TraceLane>();
        for (const op of inc.ops) {
          const lane = op.op === 'failed' ? 'user' : lanes.get(op.ev) ?? trace.events[op.ev]?.lane ?? null;
          if (op.op === 'enqueued') {
            lanes.set(op.ev, op.lane);
            offers++;
            queued[op.lane]++;
            // In-process: takes are observed, so this is the queue itself; otherwise one may be in hand.
            const capacity = capacityOf(op.lane);
            const limit = wrapped ? capacity : capacity + 1;
            if (queued[op.lane] > limit && (worst === null || queued[op.lane] > worst.n)) worst = { n: queued[op.lane], t: op.t, lane: op.lane, capacity };
          } else if (op.op === 'full' && wrapped && lane !== null && queued[lane] < capacityOf(lane) && early === null) {
            early = { n: queued[lane], t: op.t, capacity: capacityOf(lane) };
          } else if (lane !== null && (wrapped ? op.op === 'taken' : op.op === 'handled' || op.op === 'lost')) {
            // In-process: a take leaves the queue. Otherwise: a completion or a loss leaves the mailbox.
            queued[lane] = Math.max(0, queued[lane] - 1);
          }
        }
        if (worst !== null) {
          const where = worst.lane === 'reserved' ? 'reserve past its user lane' : `${worst.lane} lane`;
          violations.push(`${label(m, inc)} held ${worst.n} events in its ${where} at ${secs(worst.t)} (capacity ${worst.capacity})`);
        }
        if (early !== null) {
          violations.push(`${label(m, inc)} dropped an event as full at ${secs(early.t)} with only ${early.n} of ${early.capacity} queued`);
        }
      }
    }
    return { checked: `${offers} enqueued events`, violations };
  },
};

const nothingAfterTermination: Invariant = {
  id: 'nothing-after-termination',
  title: 'nothing after termination: a dead incarnation gets nothing more and is listed nowhere',
  check(trace) {
    const violations: string[] = [];
    let checked = 0;
    for (const m of scenarioModules(trace)) {
      checked += m.incarnations.length;
      for (const a of m.afterTermination) violations.push(`${m.name} ${a.what} (at ${secs(a.t)})`);
    }
    const cp = trace.checkpoints.find((c) => c.label === 'before-shutdown' && c.settled);
    if (cp !== undefined) {
      for (const [type, names] of Object.entries(cp.subscribers)) {
        for (const name of names) {
          if (isInternal(trace, name)) continue;
          checked++;
          if (!cp.live.includes(name)) violations.push(`${name} is still a subscriber of ${type} at ${secs(cp.t)} but is not alive`);
        }
      }
      for (const name of cp.announced) {
        if (!isInternal(trace, name) && !cp.live.includes(name)) violations.push(`${name} is still listed as loaded at ${secs(cp.t)} but is not alive`);
      }
    }
    return { checked: `${checked} incarnations and subscriptions`, violations };
  },
};

const restartPolicy: Invariant = {
  id: 'restart-policy',
  title: 'restart policy: a crashed module is restarted while within its intensity (max N in T ms) and given up once past it; one whose first start failed is not restarted',
  check(trace) {
    const violations: string[] = [];
    let crashes = 0;
    for (const m of scenarioModules(trace)) {
      const { type, maxRestarts, withinMs } = m.restart;
      const loads = new Set(m.supervision.map((s) => s.load));
      for (const load of loads) {
        const entries = m.supervision.filter((s) => s.load === load);
        // A load never announced failed its first start: the node answers it, never restarts it.
        const started = m.announcedLoads.includes(load);
        const window: number[] = [];
        entries.forEach((entry, i) => {
          if (entry.what !== 'crash') return;
          crashes++;
          const outcome = entries.slice(i + 1).find((e) => e.what !== 'crash') ?? null;
          if (outcome === null || outcome.what === 'stopped') return; // stopped before a decision, or the run ended
          const inWindow = window.filter((t) => t > entry.t - withinMs).length;
          const expectRestart = started && type !== 'temporary' && inWindow < maxRestarts;
          const at = started
            ? `${m.name} crashed at ${secs(entry.t)} with ${inWindow} restart(s) in the last ${withinMs} ms (limit ${maxRestarts}, ${type})`
            : `${m.name} failed its first start at ${secs(entry.t)}`;
          if (outcome.what === 'restart') {
            if (!expectRestart) violations.push(`${at} but was restarted`);
            window.push(entry.t);
          } else if (expectRestart) {
            violations.push(`${at} but was given up`);
          }
        });
      }
    }
    return { checked: `${crashes} crashes`, violations };
  },
};

const gracefulShutdown: Invariant = {
  id: 'graceful-shutdown',
  title: 'graceful shutdown: NodeShutdown to every live subscriber, every module stopped, the system stopped, no failure escalated',
  check(trace) {
    const s = trace.shutdown;
    const violations: string[] = [];
    if (s.requestedAt === null) return { checked: 'no shutdown requested', violations: ['the run ended without a shutdown'] };
    if (s.error !== null) violations.push(`shutdown failed: ${s.error}`);
    if (s.completedAt === null) violations.push('shutdown did not complete');
    if (!s.systemStopped) violations.push('the actor system is still running after shutdown');
    for (const failure of s.rootFailures) violations.push(`a failure reached the root: ${failure}`);
    if (!trace.lifecycle.some((r) => r.type === 'NodeShutdown')) violations.push('NodeShutdown was never published');
    const before = trace.checkpoints.find((c) => c.label === 'before-shutdown' && c.settled);
    let checked = 0;
    if (before !== undefined) {
      for (const name of before.live) {
        const m = trace.modules.get(name);
        if (m === undefined || m.internal || !m.subscribesShutdown) continue;
        checked++;
        const inc = m.incarnations.at(-1);
        const got = inc?.ops.some((op) => isOffer(op) && trace.events[op.ev]?.type === 'NodeShutdown');
        if (got !== true) violations.push(`${name} was live at the shutdown but never got NodeShutdown`);
      }
    }
    const after = trace.checkpoints.find((c) => c.label === 'after-modules-stopped');
    if (after === undefined) violations.push('the modules were not all stopped (no final checkpoint)');
    else for (const name of after.live) if (!isInternal(trace, name)) violations.push(`${name} is still alive after the shutdown stopped the modules`);
    return { checked: `${checked} NodeShutdown subscribers`, violations };
  },
};

const durableDelivery: Invariant = {
  id: 'durable-delivery',
  title:
    'durable delivery across node restarts: no acknowledged event lost; every module with replay takes every durable event of its types in the log by the end (or is still owed it, above its saved position), and takes one twice only across a node restart that left it above the saved position',
  check(trace) {
    const d = trace.durability;
    if (d?.final == null) return null;
    const violations: string[] = [];
    const key = (life: number, seq: number): string => `${life}:${seq}`;
    const describe = (k: string): string => `seq ${k.split(':')[1] ?? k} (numbered in life ${k.split(':')[0] ?? '?'})`;
    const logged = new Map(d.final.log.map((e) => [key(e.life, e.seq), e.type]));
    let acked = 0;
    for (const { life, upTo } of d.acknowledged) {
      const from = d.lives.find((l) => l.life === life)?.firstSeq ?? 0;
      for (const e of d.accepted) {
        if (e.life !== life || e.seq > upTo || e.seq < from) continue;
        acked++;
        if (!logged.has(key(life, e.seq))) violations.push(`acknowledged ${e.type} ${describe(key(life, e.seq))} is not in the log`);
      }
    }
    let takes = 0;
    for (const [module, { types, from }] of d.modules) {
      const taken = new Map<string, DurableTake[]>();
      for (const take of d.takes) {
        if (take.module !== module) continue;
        takes++;
        const k = key(ownerLife(d.lives, take.seq, take.life), take.seq);
        taken.set(k, [...(taken.get(k) ?? []), take]);
      }
      const position = d.final.positions[module] ?? 0;
      for (const e of d.final.log) {
        const after = e.life > from.life || (e.life === from.life && e.seq > from.seq);
        if (!after || !types.includes(e.type) || e.seq > position) continue;
        if (!taken.has(key(e.life, e.seq))) violations.push(`${module} never took ${e.type} ${describe(key(e.life, e.seq))}, below its final position ${position}`);
      }
      for (const [k, list] of taken) {
        for (let i = 1; i < list.length; i++) {
          const before = list[i - 1] as DurableTake;
          const again = list[i] as DurableTake;
          const restarts = d.lives.filter((l) => l.life > before.life && l.life <= again.life);
          const allowed = restarts.some((l) => {
            const saved = l.restored[module];
            return saved === undefined || (again.seq > saved.position && !saved.ahead.includes(again.seq));
          });
          if (!allowed) violations.push(`${module} took ${describe(k)} again at ${secs(again.t)} (first at ${secs(before.t)}) with no node restart that left it unsaved`);
        }
      }
    }
    return { checked: `${acked} acknowledged events, ${takes} takes by ${d.modules.size} modules with replay over ${d.lives.length} node lives`, violations };
  },
};

/** Every built-in invariant, by name. */
export const INVARIANTS: Readonly<Record<InvariantName, Invariant>> = {
  fifo,
  'module-loaded-once': moduleLoadedOnce,
  'unloaded-after-loaded': unloadedAfterLoaded,
  accounting,
  'mailbox-bound': mailboxBound,
  'nothing-after-termination': nothingAfterTermination,
  'restart-policy': restartPolicy,
  'graceful-shutdown': gracefulShutdown,
  'durable-delivery': durableDelivery,
};

/** Runs the named invariants over a trace (all by default). */
export function checkInvariants(
  trace: Trace,
  names: readonly InvariantName[] = INVARIANT_NAMES,
  invariants: Readonly<Record<InvariantName, Invariant>> = INVARIANTS,
): InvariantResult[] {
  return names.map((name) => {
    const invariant = invariants[name];
    const result = invariant.check(trace);
    if (result === null) return { id: name, title: invariant.title, status: 'skip', checked: 'nothing to check', violations: [], more: 0 };
    return {
      id: name,
      title: invariant.title,
      status: result.violations.length === 0 ? 'pass' : 'fail',
      checked: result.checked,
      violations: result.violations.slice(0, MAX_LISTED),
      more: Math.max(0, result.violations.length - MAX_LISTED),
    };
  });
}
