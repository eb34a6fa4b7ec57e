/**
 * Torture campaign (a): fuzzed publishes against an oracle written from docs/events.md.
 *
 * At least 100,000 inputs (quick: 3,000), each a hostile value described by a spec
 * (`torture/lib/publish-inputs.ts`: cyclic, deep, huge strings, `__proto__`, BigInt, symbols,
 * getters that flip or throw, proxies, traps that throw, revoked proxies), go through one of four
 * doors: `node.events.publish`; `ctx.publish` of a module with no `publishes` list and of one with
 * a list (called in the module's own turn); and a bare `catalogue.check`. For each, the oracle
 * (`torture/lib/event-oracle.ts`) says accept or refuse with which code; the campaign checks that
 * the node agrees, that nothing throws but a typed `ModactorError` (issues in the documented shape),
 * that each getter and proxy read is read at most once (an accepted input: exactly as the oracle
 * reads it), and that an accepted event is stamped (`meta` exactly `{ source, seq, time }`, `seq`
 * strictly increasing, `time` the scheduler's), offered to exactly its subscribers (the receipt
 * predicted), and delivered deep-frozen to every one of them, equal to what the oracle expects
 * even after the publisher changed its object, sharing no object with it, surviving JSON, in
 * order (critical events apart). At the end the node still runs, no module restarted, and the
 * accounting law is exact for every module.
 */
import { pino } from 'pino';
import {
  createNode,
  defineModule,
  eventFamilies,
  isModactorError,
  nodeCatalogue,
  type Catalogue,
  type ModactorError,
  type ModuleContext,
  type NodeEvent,
  type NodeEventMap,
  type PublishReceipt,
} from '../../src/index.js';
import { nodeInternals } from '../../src/node/node.js';
import { createRandom } from '../../src/kernel/random.js';
import { Waiter, capFailures, drained, lawFailures, secondsSince, watchHost, type CampaignOptions, type CampaignResult } from '../lib/campaign.js';
import { dataDifference, frozenProblem, jsonProblem, sharedObject } from '../lib/data.js';
import { DOCUMENTED_TYPES, documentedCritical, fieldKeys, oracle, type ExpectedEvent, type Publisher, type RefusalCode, type Verdict } from '../lib/event-oracle.js';
import { build, describeSpec, type Built, type ProxySpec, type Spec } from '../lib/hostile.js';
import { NARROW_PUBLISHES, generateInput } from '../lib/publish-inputs.js';

/** The doors an input goes through. */
const DOORS = ['node', 'module-open', 'module-narrow', 'catalogue'] as const;
type Door = (typeof DOORS)[number];

const VALIDATION_CODES: ReadonlySet<string> = new Set(['invalid-event', 'unknown-event-type', 'invalid-payload']);
/** Received values are quoted at most 40 characters long, JSON-escaped (6 characters each at worst), plus their description. */
const MAX_GOT = 40 * 6 + 80;

/** Subscribers: every type but the trigger; the same with a filter; three families. */
const TRIGGER_TYPE = 'MaintenanceStarted';
const ALL_BUT_TRIGGER = DOCUMENTED_TYPES.filter((type) => type !== TRIGGER_TYPE);
const SOME = [...eventFamilies.core, ...eventFamilies.network, ...eventFamilies.resources] as string[];
/** `sub-filtered` declines every event whose seq is a multiple of 3. */
const declined = (seq: number): boolean => seq % 3 === 0;

interface Subscriber {
  readonly name: string;
  readonly types: ReadonlySet<string>;
  readonly filtered: boolean;
  /** Fuzzed events received (seq above the campaign's start), by seq, until checked. */
  readonly received: Map<number, NodeEvent>;
  expectedFiltered: number;
  handled: number;
  lastOrdered: number;
  lastCritical: number;
}

interface Attempt {
  readonly index: number;
  readonly door: Door;
  readonly spec: Spec;
  readonly built: Built;
  readonly verdict: Verdict;
  readonly tapped: NodeEvent[];
}

/** Options of {@link runPublishes}: the campaign's, plus what the tests of the campaign vary. */
export interface PublishesOptions extends CampaignOptions {
  /** Inputs to try; default 100,000 (quick 3,000). */
  readonly inputs?: number;
  /** Seed of the inputs; default `TORTURE_SEED` from the environment, else 1. */
  readonly seed?: number;
  /** The catalogue under test (default the node's): a broken one shows the campaign catches it. */
  readonly catalogue?: Catalogue<NodeEventMap>;
  /** Failure lines kept (default 25; the count of the rest is said). */
  readonly maxFailures?: number;
}

export function run(options: CampaignOptions): Promise<CampaignResult> {
  return runPublishes(options);
}

export async function runPublishes(options: PublishesOptions): Promise<CampaignResult> {
  const { quick, log } = options;
  const total = options.inputs ?? (quick ? 3_000 : 100_000);
  const seed = options.seed ?? Number(process.env['TORTURE_SEED'] ?? 1);
  const catalogue = options.catalogue ?? nodeCatalogue;
  const batchSize = 300;
  const rng = createRandom(seed);
  const started = performance.now();
  const host = watchHost();
  const failures: string[] = [];
  const counts: Record<string, number> = {};
  const count = (key: string, n = 1): void => void (counts[key] = (counts[key] ?? 0) + n);
  const waiter = new Waiter();

  const node = createNode<NodeEventMap>({ logger: pino({ level: 'silent' }), catalogue });
  const { router } = nodeInternals(node);

  // ---- The modules ------------------------------------------------------------------------------
  const subscribers: Subscriber[] = [
    subscriber('sub-all', ALL_BUT_TRIGGER, false),
    subscriber('sub-filtered', ALL_BUT_TRIGGER, true),
    subscriber('sub-some', SOME, false),
  ];
  let baseline = Number.POSITIVE_INFINITY;
  const big = { mailboxCapacity: 2 * batchSize, priorityCapacity: 2 * batchSize, membershipCapacity: 2 * batchSize };
  const moduleFailure = (text: string): void => void failures.push(text);
  for (const s of subscribers) {
    await node.load(
      defineModule({
        name: s.name,
        version: '1.0.0',
        subscribe: [...s.types] as NodeEvent['type'][],
        ...big,
        ...(s.filtered ? { filter: (event: NodeEvent) => !declined(event.meta?.seq ?? 0) } : {}),
        handle(event) {
          s.handled++;
          try {
            received(s, event, baseline, moduleFailure);
          } catch (error) {
            moduleFailure(`${s.name}: checking a delivery threw ${String(error)}`);
          }
          // Checked once the node counted it handled.
          setImmediate(() => waiter.notify());
        },
      }),
    );
  }

  const trigger = `torture-trigger-${seed}`;
  const queues = new Map<string, Attempt[]>();
  const done = new Map<string, number>();
  const publishers = new Map<string, Publisher>([
    ['module-open', { kind: 'module', publishes: null }],
    ['module-narrow', { kind: 'module', publishes: new Set(NARROW_PUBLISHES) }],
  ]);
  const handledBy = new Map<string, number>();
  for (const [name, publisher] of publishers) {
    queues.set(name, []);
    await node.load(
      defineModule({
        name,
        version: '1.0.0',
        subscribe: [TRIGGER_TYPE],
        ...(publisher.kind === 'module' && publisher.publishes !== null ? { publishes: [...publisher.publishes] as NodeEvent['type'][] } : {}),
        ...big,
        handle(event, ctx) {
          handledBy.set(name, (handledBy.get(name) ?? 0) + 1);
          if (event.type !== TRIGGER_TYPE || event.payload.maintenanceType !== trigger) return;
          // The batch is published from the module's own turn, as a module publishes.
          try {
            for (const attempt of queues.get(name) ?? []) publishOne(attempt, (value) => (ctx as ModuleContext<NodeEventMap>).publish(value as NodeEvent), name);
          } catch (error) {
            moduleFailure(`${name}: the campaign's own checks threw ${describeThrown(error)}`);
          }
          queues.set(name, []);
          done.set(name, (done.get(name) ?? 0) + 1);
          waiter.notify();
        },
      }),
    );
  }
  /** Who receives each type (for the receipt). */
  const subscribersOf = (type: string): { readonly names: string[]; readonly filtering: Subscriber[]; readonly plain: Subscriber[] } => {
    const names = [...subscribers.filter((s) => s.types.has(type)).map((s) => s.name), ...(type === TRIGGER_TYPE ? [...publishers.keys()] : [])];
    const taking = subscribers.filter((s) => s.types.has(type));
    return { names, filtering: taking.filter((s) => s.filtered), plain: taking.filter((s) => !s.filtered) };
  };

  // ---- Publishing one input ---------------------------------------------------------------------
  let current: Attempt | null = null;
  const stray: NodeEvent[] = [];
  router.tap((event) => {
    if (current === null) stray.push(event as NodeEvent);
    else current.tapped.push(event as NodeEvent);
  });
  let lastSeq = router.lastSeq;
  baseline = lastSeq;
  // Announcements before the campaign were filtered too.
  for (const s of subscribers) s.expectedFiltered = router.getStats(s.name)?.filtered ?? 0;
  /** Deliveries to check once the subscribers drained: attempt and who must have it. */
  let owed: { readonly attempt: Attempt; readonly seq: number; readonly to: Subscriber[] }[] = [];

  const fail = (attempt: Attempt, what: string): void => {
    count('disagreements');
    failures.push(`#${attempt.index} via ${attempt.door} (seed ${seed}): ${what}; input ${describeSpec(attempt.spec)}`);
  };

  const publishOne = (attempt: Attempt, publish: (value: unknown) => PublishReceipt, source: string): void => {
    const before = node.scheduler.now();
    let receipt: PublishReceipt | undefined;
    let thrown: unknown;
    let threw = false;
    current = attempt;
    try {
      receipt = publish(attempt.built.value);
    } catch (error) {
      threw = true;
      thrown = error;
    }
    current = null;
    const after = node.scheduler.now();
    const refused = judge(attempt, threw, thrown);
    if (refused || receipt === undefined || !attempt.verdict.accepted) return;
    // Accepted, as the oracle says: stamped, offered to exactly its subscribers, delivered later.
    if (attempt.tapped.length !== 1) return fail(attempt, `accepted, but the router told its taps ${attempt.tapped.length} times`);
    const event = attempt.tapped[0] as NodeEvent;
    const expected = attempt.verdict.event;
    const stamped = metaProblem(event, source, lastSeq, before, after);
    if (stamped !== null) return fail(attempt, stamped);
    const problem = eventProblem(expected, event);
    if (problem !== null) fail(attempt, problem);
    const seq = (event.meta as { seq: number }).seq;
    lastSeq = seq;
    const who = subscribersOf(expected.type);
    const filteredOut = declined(seq) ? who.filtering : [];
    const to = [...who.plain, ...who.filtering.filter((s) => !filteredOut.includes(s))];
    const wanted: PublishReceipt = { enqueued: who.names.length - filteredOut.length, dropped: 0, failed: 0, filtered: filteredOut.length, serializationFailed: 0 };
    const receiptProblem = dataDifference(wanted, { ...receipt });
    if (receiptProblem !== null) fail(attempt, `receipt ${JSON.stringify(receipt)}, expected ${JSON.stringify(wanted)}`);
    for (const s of filteredOut) s.expectedFiltered++;
    // The publisher reuses its object: nobody may see it.
    attempt.built.mutate();
    owed.push({ attempt, seq, to });
  };

  /** Compares the outcome with the verdict; true when the input was refused (rightly or not). */
  const judge = (attempt: Attempt, threw: boolean, thrown: unknown): boolean => {
    const verdict = attempt.verdict;
    const readProblem = readsProblem(attempt);
    if (readProblem !== null) fail(attempt, readProblem);
    if (!threw) {
      count('accepted');
      if (!verdict.accepted) fail(attempt, `accepted, but the documents refuse it with ${[...verdict.codes].join(' or ')}`);
      return !verdict.accepted;
    }
    if (!isModactorError(thrown)) {
      count('untypedThrows');
      fail(attempt, `threw something other than a ModactorError: ${describeThrown(thrown)}`);
      return true;
    }
    count(`refused ${thrown.code}`);
    if (verdict.accepted) {
      fail(attempt, `refused with ${thrown.code} (${thrown.message.slice(0, 200)}), but the documents accept it`);
    } else {
      if (verdict.codes.size > 1) count('refusedEitherWay');
      if (!verdict.codes.has(thrown.code as RefusalCode)) {
        fail(attempt, `refused with ${thrown.code} (${thrown.message.slice(0, 200)}), the documents say ${[...verdict.codes].join(' or ')}`);
      }
    }
    const shape = errorShapeProblem(thrown);
    if (shape !== null) fail(attempt, shape);
    if (attempt.tapped.length !== 0) fail(attempt, 'refused, yet the router told its taps of it');
    return true;
  };

  // ---- The campaign -----------------------------------------------------------------------------
  const checkDeliveries = (): void => {
    for (const { attempt, seq, to } of owed) {
      const expected = attempt.verdict.accepted ? attempt.verdict.event : null;
      if (expected === null) continue;
      for (const s of to) {
        const got = s.received.get(seq);
        if (got === undefined) {
          fail(attempt, `${s.name} never received seq ${seq}`);
          continue;
        }
        s.received.delete(seq);
        count('deliveriesChecked');
        const problem =
          sharedObject(got, attempt.built.objects) ??
          eventProblem(expected, got) ??
          dataDifference(attempt.tapped[0]?.meta, got.meta, 'meta') ??
          (s === to[0] ? jsonProblem(got) : null);
        if (problem !== null) fail(attempt, `${s.name} received ${problem}`);
      }
    }
    owed = [];
    for (const s of subscribers) {
      for (const seq of s.received.keys()) failures.push(`${s.name} received seq ${seq}, which was not published to it`);
      s.received.clear();
    }
  };

  try {
    for (let first = 0; first < total; first += batchSize) {
      const batch = Math.min(batchSize, total - first);
      for (let i = 0; i < batch; i++) {
        const index = first + i;
        const door = DOORS[rng.int(DOORS.length)] as Door;
        const spec = generateInput(rng, door === 'module-narrow');
        const publisher: Publisher = door === 'node' ? { kind: 'node' } : door === 'catalogue' ? { kind: 'catalogue' } : (publishers.get(door) as Publisher);
        const attempt: Attempt = { index, door, spec, built: build(spec), verdict: oracle(spec, publisher), tapped: [] };
        count(`via ${door}`);
        tally(spec, count);
        if (door === 'node') publishOne(attempt, (value) => node.events.publish(value as NodeEvent), 'node');
        else if (door === 'catalogue') checkOne(attempt, catalogue, judge, fail);
        else (queues.get(door) as Attempt[]).push(attempt);
      }
      // The modules publish their share in their own turns.
      const rounds = new Map([...publishers.keys()].map((name) => [name, (done.get(name) ?? 0) + 1]));
      current = null;
      node.events.publish({ type: TRIGGER_TYPE, payload: { maintenanceType: trigger } });
      await waiter.until(() => [...rounds].every(([name, round]) => (done.get(name) ?? 0) >= round), 'the publishing modules to finish their batch');
      await waiter.until(() => drained(router, subscribers.map((s) => s.name)), 'every subscriber to handle what it was offered');
      checkDeliveries();
      if ((first / batchSize) % 50 === 49) log(`publishes: ${first + batch}/${total} inputs, ${failures.length} failures`);
    }
  } catch (error) {
    failures.push(`the campaign stopped: ${error instanceof Error ? error.message : String(error)}`);
  }

  // ---- The end: the node runs, nobody restarted, the law is exact -------------------------------
  const status = node.status();
  if (status.state !== 'running') failures.push(`the node is ${status.state} (${status.failure ?? ''}) after the campaign`);
  for (const info of await node.modules()) {
    if (info.state !== 'running' || info.restarts !== 0) failures.push(`module ${info.name} is ${info.state} after ${info.restarts} restarts`);
  }
  const unpublished = stray.filter(
    (event) => (event.meta?.seq ?? 0) > baseline && !(event.type === TRIGGER_TYPE && (event.payload as { maintenanceType: string }).maintenanceType === trigger),
  );
  if (unpublished.length > 0) failures.push(`the router accepted ${unpublished.length} events nobody published (first: ${JSON.stringify(unpublished[0]).slice(0, 300)})`);
  const stats = await node.events.getAllDeliveryStats();
  for (const s of subscribers) {
    const st = stats.get(s.name);
    if (st === undefined) {
      failures.push(`${s.name}: no delivery statistics`);
      continue;
    }
    failures.push(...lawFailures(s.name, st, true));
    if (st.handled !== s.handled) failures.push(`${s.name}: handled ${st.handled} counted, ${s.handled} seen by its handler`);
    if (st.filtered !== s.expectedFiltered) failures.push(`${s.name}: filtered ${st.filtered} counted, ${s.expectedFiltered} expected`);
    if (st.channelFull + st.failed + st.serializationFailed + st.handlerFailed + st.lostOnCrash !== 0) {
      failures.push(`${s.name}: events dropped, failed or lost: ${JSON.stringify(st)}`);
    }
  }
  for (const name of publishers.keys()) {
    const st = stats.get(name);
    if (st === undefined) failures.push(`${name}: no delivery statistics`);
    else {
      failures.push(...lawFailures(name, st, true));
      if (st.handled !== (handledBy.get(name) ?? 0)) failures.push(`${name}: handled ${st.handled} counted, ${handledBy.get(name) ?? 0} seen`);
    }
  }
  await node.shutdown();
  host.stop();
  for (const error of host.errors.slice(0, 5)) failures.push(`host error: ${error}`);

  const refusals = Object.entries(counts).filter(([key]) => key.startsWith('refused ')).reduce((sum, [, n]) => sum + n, 0);
  const figures: Record<string, number | string> = {
    seed,
    inputs: total,
    ...Object.fromEntries(DOORS.map((door) => [`via ${door}`, counts[`via ${door}`] ?? 0])),
    accepted: counts['accepted'] ?? 0,
    refused: refusals,
    ...Object.fromEntries(Object.entries(counts).filter(([key]) => key.startsWith('refused ') || key.startsWith('with ')).sort()),
    refusedEitherWay: counts['refusedEitherWay'] ?? 0,
    deliveriesChecked: counts['deliveriesChecked'] ?? 0,
    disagreements: counts['disagreements'] ?? 0,
    untypedThrows: counts['untypedThrows'] ?? 0,
    hostCrashes: host.errors.length,
    nodeState: status.state,
    seconds: secondsSince(started),
  };
  log(`publishes: ${JSON.stringify(figures)}`);
  return { name: 'publishes', figures, failures: capFailures(failures, options.maxFailures) };

  function subscriber(name: string, types: readonly string[], filtered: boolean): Subscriber {
    return { name, types: new Set(types), filtered, received: new Map(), expectedFiltered: 0, handled: 0, lastOrdered: 0, lastCritical: 0 };
  }
}

/** Records a delivery: stamped, new, in order (critical events apart), deep-frozen. */
function received(s: Subscriber, event: NodeEvent, baseline: number, fail: (text: string) => void): void {
  const seq = event.meta?.seq;
  if (typeof seq !== 'number') return fail(`${s.name} received an event without meta.seq`);
  const frozen = frozenProblem(event);
  if (frozen !== null) fail(`${s.name} received seq ${seq} with ${frozen}`);
  const critical = documentedCritical(event.type, event.payload);
  const last = critical ? s.lastCritical : s.lastOrdered;
  if (seq <= last) fail(`${s.name} received seq ${seq} after seq ${last} (${critical ? 'critical' : 'in order'})`);
  if (critical) s.lastCritical = seq;
  else s.lastOrdered = seq;
  if (seq <= baseline) return;
  if (s.received.has(seq)) fail(`${s.name} received seq ${seq} twice`);
  s.received.set(seq, event);
}

/** `catalogue.check`: never throws; the event (with a copy of its meta) or a typed refusal. */
function checkOne(
  attempt: Attempt,
  catalogue: Catalogue<NodeEventMap>,
  judge: (attempt: Attempt, threw: boolean, thrown: unknown) => boolean,
  fail: (attempt: Attempt, what: string) => void,
): void {
  let result: NodeEvent | ModactorError;
  try {
    result = catalogue.check(attempt.built.value);
  } catch (error) {
    return fail(attempt, `catalogue.check threw ${describeThrown(error)}`);
  }
  const refused = isModactorError(result) || result instanceof Error;
  if (judge(attempt, refused, result) || !attempt.verdict.accepted) return;
  const expected = attempt.verdict.event;
  const problem =
    eventProblem(expected, result) ??
    dataDifference(expected.meta, (result as NodeEvent).meta, 'meta') ??
    frozenProblem(result) ??
    sharedObject(result, attempt.built.objects) ??
    jsonProblem(result);
  if (problem !== null) fail(attempt, problem);
}

/** The delivered type and payload are the expected ones. */
function eventProblem(expected: ExpectedEvent, got: NodeEvent | ModactorError): string | null {
  const event = got as NodeEvent;
  if (event.type !== expected.type) return `type ${JSON.stringify(event.type)} where ${expected.type} was expected`;
  return dataDifference(expected.payload, event.payload, 'payload');
}

/** `meta` is exactly `{ source, seq, time }`: the publisher, the next seq, the scheduler's time now. */
function metaProblem(event: NodeEvent, source: string, lastSeq: number, before: number, after: number): string | null {
  const meta = event.meta as Record<string, unknown> | undefined;
  if (meta === undefined) return 'accepted without meta';
  const keys = Object.keys(meta).sort().join(',');
  if (keys !== 'seq,source,time') return `meta has the keys ${keys}`;
  if (meta['source'] !== source) return `meta.source ${JSON.stringify(meta['source'])}, published by ${source}`;
  const seq = meta['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= lastSeq) return `meta.seq ${String(seq)} after ${lastSeq}`;
  const time = meta['time'];
  if (typeof time !== 'number' || time < before || time > after) return `meta.time ${String(time)} outside the publish (${before}..${after})`;
  return null;
}

/** The refusal's documented shape: issues `{ path, expected, got, message }`, quoted values cut. */
function errorShapeProblem(error: ModactorError): string | null {
  if (!VALIDATION_CODES.has(error.code)) return null;
  if (error.issues.length === 0) return `${error.code} without issues`;
  for (const found of error.issues) {
    if (found.message !== `expected ${found.expected}, got ${found.got}`) return `an issue whose message is not "expected X, got Y": ${found.message.slice(0, 100)}`;
    if (found.got.length > MAX_GOT) return `an issue quoting ${found.got.length} characters of the value`;
  }
  if (error.code === 'unknown-event-type' && (error.issues.length !== 1 || error.issues[0]?.path !== 'type')) return 'unknown-event-type not at `type`';
  if (error.code === 'invalid-payload' && error.issues.some((found) => !found.path.startsWith('payload'))) return 'an invalid-payload issue outside the payload';
  return null;
}

/** The reads of getters and proxies: at most one each; for an accepted input exactly the oracle's. */
function readsProblem(attempt: Attempt): string | null {
  const { built, verdict } = attempt;
  for (const { site, key, count } of built.reads.entries()) {
    if ((site as { k?: string }).k === 'proxy' && !fieldKeys((site as ProxySpec).target).includes(key)) continue;
    const expected = verdict.reads.get(site, key);
    if (verdict.accepted ? count !== expected : count > 1 && !verdict.cyclic) {
      return `${key === '' ? 'a getter' : `a proxy's "${key}"`} read ${count} times (${verdict.accepted ? `the documents read it ${expected} times` : 'at most once'})`;
    }
  }
  if (verdict.accepted) {
    for (const { site, key, count } of verdict.reads.entries()) {
      if (built.reads.get(site, key) === 0) return `${key === '' ? 'a getter' : `a proxy's "${key}"`} never read (the documents read it ${count} times)`;
    }
  }
  return null;
}

function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : typeof error;
  } catch {
    return 'an unreadable value';
  }
}

/** Counts the hostile ingredients of an input (figures `with ...`). */
function tally(spec: Spec, count: (key: string) => void): void {
  const seen = new Set<string>();
  const visited = new Set<object>();
  const walk = (s: Spec): void => {
    if (visited.has(s)) return;
    visited.add(s);
    switch (s.k) {
      case 'value':
        if (typeof s.v === 'bigint') seen.add('bigint');
        if (typeof s.v === 'symbol') seen.add('symbol');
        if (typeof s.v === 'string' && s.v.length >= 1 << 20) seen.add('huge string');
        return;
      case 'function':
      case 'instance':
        seen.add(s.k === 'function' ? 'function' : 'class instance');
        return;
      case 'nest':
        seen.add('deep nesting');
        return;
      case 'ref':
        seen.add('cycle');
        return;
      case 'repeat':
        seen.add('big array');
        return;
      case 'proxy':
        seen.add(s.trap === 'revoked' ? 'revoked proxy' : s.trap === 'none' ? 'proxy' : 'throwing trap');
        return walk(s.target);
      case 'array':
        for (const item of s.items) walk(item);
        return;
      case 'object':
        if (s.fields.length > 1000) seen.add('big record');
        for (const field of s.fields) {
          if (field.key === '__proto__') seen.add('__proto__ key');
          if (typeof field.key === 'symbol') seen.add('symbol key');
          if (field.access !== 'data') seen.add(field.access === 'throws' ? 'throwing getter' : field.access === 'flips' ? 'flipping getter' : 'getter');
          walk(field.value);
          if (field.later !== undefined) walk(field.later);
        }
        return;
    }
  };
  walk(spec);
  for (const ingredient of seen) count(`with ${ingredient}`);
}

