/**
 * Membership as one node sees it: for any sequence of heartbeats, goodbyes, bucket writes and
 * clock ticks, every remote module is announced exactly when it becomes present and retired
 * exactly when it stops being present: alternating, never twice in a row, and always matching a
 * plain definition of "present".
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { MembershipView, type MemberEntry } from '../../src/nats/membership-view.js';

const DEADLINE = 100;

type Command =
  | { readonly kind: 'heartbeat'; readonly node: string; readonly epoch: string }
  | { readonly kind: 'leave'; readonly node: string; readonly epoch: string }
  | { readonly kind: 'put'; readonly node: string; readonly module: string; readonly version: string; readonly epoch: string }
  | { readonly kind: 'remove'; readonly node: string; readonly module: string }
  | { readonly kind: 'tick'; readonly ms: number };

const node = fc.constantFrom('self', 'n1', 'n2');
const epoch = fc.constantFrom('e1', 'e2');
const module = fc.constantFrom('m1', 'm2');
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('heartbeat' as const), node, epoch }),
  fc.record({ kind: fc.constant('leave' as const), node, epoch }),
  fc.record({ kind: fc.constant('put' as const), node, module, version: fc.constantFrom('v1', 'v2'), epoch }),
  fc.record({ kind: fc.constant('remove' as const), node, module }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 150 }) }),
);

/** Records announce/retire calls and checks they alternate per module. */
class Recorder {
  readonly present = new Map<string, string>();
  readonly problems: string[] = [];
  readonly log: string[] = [];
  announce = (n: string, m: string, v: string): void => {
    if (this.present.has(`${n}/${m}`)) this.problems.push(`announced ${n}/${m} twice`);
    this.present.set(`${n}/${m}`, v);
    this.log.push(`+${n}/${m}@${v}`);
  };
  retire = (n: string, m: string): void => {
    if (!this.present.delete(`${n}/${m}`)) this.problems.push(`retired ${n}/${m} unannounced`);
    this.log.push(`-${n}/${m}`);
  };
}

/**
 * The plain definition: a module is present when its node's last heartbeat was within the
 * deadline at the last check, was not followed by a goodbye of that incarnation, and the
 * bucket's latest write of its key is a put by that incarnation.
 */
function expected(commands: readonly Command[]): Map<string, string> {
  const nodes = new Map<string, { epoch: string; seen: number; alive: boolean }>();
  const keys = new Map<string, { version: string; epoch: string } | null>();
  let now = 0;
  for (const c of commands) {
    if (c.kind === 'tick') {
      now += c.ms;
      for (const n of nodes.values()) if (now - n.seen > DEADLINE) n.alive = false;
    } else if (c.node === 'self') {
      continue;
    } else if (c.kind === 'heartbeat') {
      nodes.set(c.node, { epoch: c.epoch, seen: now, alive: true });
    } else if (c.kind === 'leave') {
      const n = nodes.get(c.node);
      if (n?.epoch === c.epoch) n.alive = false;
    } else if (c.kind === 'put') {
      keys.set(`${c.node}/${c.module}`, { version: c.version, epoch: c.epoch });
    } else {
      keys.set(`${c.node}/${c.module}`, null);
    }
  }
  const present = new Map<string, string>();
  for (const [key, value] of keys) {
    const n = nodes.get(key.split('/')[0] as string);
    if (value !== null && n?.alive === true && n.epoch === value.epoch) present.set(key, value.version);
  }
  return present;
}

/** Feeds `commands` to a view (made by `make`); the recorder after each step must match. */
function check(make: (actions: Recorder) => MembershipView, commands: readonly Command[]): boolean {
  const recorder = new Recorder();
  const view = make(recorder);
  let now = 0;
  let revision = 0;
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i] as Command;
    switch (c.kind) {
      case 'tick':
        now += c.ms;
        view.expire(now);
        break;
      case 'heartbeat':
        view.heartbeat(c.node, c.epoch, now);
        break;
      case 'leave':
        view.leave(c.node, c.epoch);
        break;
      case 'put':
        view.put(c.node, c.module, { version: c.version, epoch: c.epoch, revision: ++revision });
        break;
      case 'remove':
        view.remove(c.node, c.module, ++revision);
        break;
    }
    if (recorder.problems.length > 0) return false;
    const want = expected(commands.slice(0, i + 1));
    if (want.size !== recorder.present.size || [...want].some(([k, v]) => recorder.present.get(k) !== v)) return false;
  }
  return true;
}

const real = (r: Recorder): MembershipView => new MembershipView('self', DEADLINE, r);

/** Broken: announces keys left by an old incarnation of the node. */
class IgnoresEpoch extends MembershipView {
  protected override wanted(nodeId: string, module: string): MemberEntry | undefined {
    const entry = this.entriesOf(nodeId).get(module);
    return this.isAlive(nodeId) ? entry : undefined;
  }
}

/** Broken: never declares a silent node gone. */
class NoDeadline extends MembershipView {
  override expire(): string[] {
    return [];
  }
}

describe('MembershipView', () => {
  it('announces on heartbeat and key, retires at the deadline, announces again on return, in load order', () => {
    const r = new Recorder();
    const view = new MembershipView('self', DEADLINE, r);
    view.put('n1', 'b', { version: '1', epoch: 'e1', revision: 2 });
    view.put('n1', 'a', { version: '1', epoch: 'e1', revision: 3 });
    view.put('n1', 'old', { version: '1', epoch: 'e0', revision: 1 });
    expect(r.log).toEqual([]);
    expect(view.heartbeat('n1', 'e1', 0)).toBe('joined');
    expect(view.heartbeat('n1', 'e1', 50)).toBe('alive');
    expect(view.expire(150)).toEqual([]);
    expect(view.expire(151)).toEqual(['n1']);
    expect(view.heartbeat('n1', 'e1', 200)).toBe('returned');
    expect(view.heartbeat('n1', 'e2', 210)).toBe('joined');
    expect(r.log).toEqual(['+n1/b@1', '+n1/a@1', '-n1/a', '-n1/b', '+n1/b@1', '+n1/a@1', '-n1/a', '-n1/b']);
    expect(view.heartbeat('self', 'x', 0)).toBe('self');
  });

  it('retires and announces again when a module is reloaded with another version', () => {
    const r = new Recorder();
    const view = new MembershipView('self', DEADLINE, r);
    view.heartbeat('n1', 'e1', 0);
    view.put('n1', 'a', { version: '1', epoch: 'e1', revision: 1 });
    view.put('n1', 'a', { version: '2', epoch: 'e1', revision: 2 });
    view.put('n1', 'a', { version: '0', epoch: 'e1', revision: 1 }); // an older write seen late: ignored
    view.remove('n1', 'a', 1); // likewise
    expect(r.log).toEqual(['+n1/a@1', '-n1/a', '+n1/a@2']);
    view.clear();
    expect(r.log.at(-1)).toBe('-n1/a');
    expect(r.present.size).toBe(0);
  });

  test.prop([fc.array(command, { maxLength: 60 })])('announces exactly what is present, once, whatever the order of inputs', (commands) => {
    expect(check(real, commands)).toBe(true);
  });

  it('the property catches a view that announces stale keys, and one without a deadline', () => {
    const commands = fc.array(command, { maxLength: 60 });
    expect(fc.check(fc.property(commands, (c) => check((r) => new IgnoresEpoch('self', DEADLINE, r), c)), { numRuns: 2000 }).failed).toBe(true);
    expect(fc.check(fc.property(commands, (c) => check((r) => new NoDeadline('self', DEADLINE, r), c)), { numRuns: 2000 }).failed).toBe(true);
  });
});
