import { pino } from 'pino';
import {
  createNode,
  defineModule,
  type EventTypeOf,
  type ModactorNode,
  type NodeEvent,
  type NodeEventMap,
} from '../../src/index.js';

/** A pino logger for the node under test: silent unless MODACTOR_TEST_LOG names a level. */
export function testLogger(): pino.Logger {
  return pino({ level: process.env['MODACTOR_TEST_LOG'] ?? 'silent' }, pino.destination(2));
}

/** A node on the real scheduler (process modules are real processes). */
export function realNode(options: { shutdownTimeoutMs?: number } = {}): ModactorNode {
  return createNode({ logger: testLogger(), ...options });
}

/** A short, readable form of an event for sequence assertions. */
export function brief(event: NodeEvent): string {
  const p = event.payload as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'ModuleHealthChanged':
      return `${event.type}(${String(p['moduleName'])}: ${String(p['oldHealth'])}->${String(p['newHealth'])})`;
    case 'HealthCheck':
      return String(p['checkType']).startsWith('echo:') ? `echo ${String(p['healthReport'])}` : `HealthCheck(${String(p['checkType'])})`;
    default:
      if (typeof p['moduleName'] === 'string') return `${event.type}(${p['moduleName']})`;
      if (typeof p['height'] === 'number') return `${event.type}(${p['height']})`;
      return event.type;
  }
}

/**
 * An in-process module recording every event it receives, with `waitFor` resolving when an event
 * matching a predicate arrives (or has already arrived): the way tests await a state instead of
 * sleeping and polling.
 */
export interface Observer {
  readonly module: ReturnType<typeof defineModule<NodeEventMap>>;
  readonly events: NodeEvent[];
  /** `brief` of every event, in arrival order. */
  readonly seen: string[];
  /** Resolves with the `count`-th event (counting from `from`) matching `predicate`. */
  waitFor(predicate: (event: NodeEvent) => boolean, options?: { count?: number; from?: number }): Promise<NodeEvent>;
  /** Resolves with the first event whose brief is `text` (after index `from`). */
  waitForBrief(text: string, options?: { count?: number; from?: number }): Promise<NodeEvent>;
}

export function observer(name: string, subscribe: readonly EventTypeOf<NodeEventMap>[]): Observer {
  const events: NodeEvent[] = [];
  const seen: string[] = [];
  let waiters: { predicate: (e: NodeEvent) => boolean; remaining: number; resolve: (e: NodeEvent) => void }[] = [];
  const module = defineModule<NodeEventMap>({
    name,
    version: '1.0.0',
    subscribe,
    mailboxCapacity: 100_000,
    handle(event) {
      events.push(event);
      seen.push(brief(event));
      waiters = waiters.filter((w) => {
        if (!w.predicate(event)) return true;
        if (--w.remaining > 0) return true;
        w.resolve(event);
        return false;
      });
    },
  });
  const waitFor: Observer['waitFor'] = (predicate, options = {}) => {
    let remaining = options.count ?? 1;
    for (const event of events.slice(options.from ?? 0)) {
      if (predicate(event) && --remaining === 0) return Promise.resolve(event);
    }
    return new Promise((resolve) => waiters.push({ predicate, remaining, resolve }));
  };
  return {
    module,
    events,
    seen,
    waitFor,
    waitForBrief: (text, options) => waitFor((e) => brief(e) === text, options),
  };
}

/** The accounting law of one module's stats: every offered event in exactly one outcome. */
export function accounting(stats: {
  successful: number;
  failed: number;
  channelFull: number;
  filtered: number;
  serializationFailed: number;
  handled: number;
  handlerFailed: number;
  lostOnCrash: number;
}): { offered: number; pending: number } {
  const offered = stats.successful + stats.failed + stats.channelFull + stats.filtered + stats.serializationFailed;
  const pending = stats.successful - stats.handled - stats.handlerFailed - stats.lostOnCrash;
  return { offered, pending };
}

export const hash = (n: number): string => n.toString(16).padStart(64, '0');

/** A pino logger whose lines the test reads: raw text and parsed, with a way to await one. */
export interface LogCapture {
  readonly logger: pino.Logger;
  /** Every line, as written. */
  readonly raw: string[];
  /** Every line, parsed. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line (already written or to come) matching `predicate`. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

export function logCapture(level = 'info'): LogCapture {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  let waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  const logger = pino(
    { level },
    {
      write(text: string) {
        raw.push(text);
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        waiters = waiters.filter((w) => {
          if (!w.predicate(line)) return true;
          w.resolve(line);
          return false;
        });
      },
    },
  );
  return {
    logger,
    raw,
    lines,
    waitFor(predicate) {
      const found = lines.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

/** The keys of a JSON object's top level as written, repeats included (JSON.parse hides them). */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (depth === 1 && text[end + 1] === ':') keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}
