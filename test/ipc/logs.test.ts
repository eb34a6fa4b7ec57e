/**
 * A child's logs come out of the node's logger: bound to `module: <name>` once, no key twice,
 * errors under `err` with type, message and stack, a flood rate-limited and counted. Nothing of a
 * child reaches the node's stderr raw.
 */
import { describe, expect, it } from 'vitest';
import { EventType, createNode, createSimulatedScheduler, isModactorError } from '../../src/index.js';
import { LOG_LINE_BURST } from '../../src/ipc/process-host.js';
import { sdkFixture } from './fixtures.js';
import { hash, logCapture, observer, topLevelKeys } from './helpers.js';

const noRepeatedKeys = (raw: string): void => {
  const keys = topLevelKeys(raw);
  expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
};

describe("a process module's logs", () => {
  it('are re-emitted through the node logger with the module binding, errors under err, stderr too', { timeout: 30_000 }, async () => {
    const logs = logCapture('info');
    const scheduler = createSimulatedScheduler();
    const node = createNode({ logger: logs.logger, scheduler });
    const obs = observer('obs', [EventType.HealthCheck]);
    const marker = (checkType: string): Promise<unknown> => obs.waitFor((e) => e.type === 'HealthCheck' && e.payload.checkType === checkType);
    await node.load(obs.module);
    const module = sdkFixture('talker', 'logger', { subscribe: [EventType.NewBlock] }, ['--lines', '3000']);
    await node.load(module);

    node.publisher.newBlock(hash(1), 1);
    await marker('logged');
    const stderr = await logs.waitFor((l) => l['stream'] === 'stderr');
    const hello = logs.lines.find((l) => l['msg'] === 'hello from the child');
    const wrong = logs.lines.find((l) => l['msg'] === 'it went wrong');
    // The child's own fields come through; the keys the node owns (pid, module) are the node's.
    expect(hello).toMatchObject({ level: 30, module: 'talker', height: 1, pid: process.pid });
    expect(wrong).toMatchObject({ level: 50, module: 'talker', err: { type: 'TypeError', message: 'bad thing' } });
    expect((wrong?.['err'] as { stack: string }).stack).toMatch(/^TypeError: bad thing\n\s+at /);
    expect(stderr).toMatchObject({ level: 40, module: 'talker', msg: 'a raw line on stderr', pid: process.pid });
    for (const raw of logs.raw.filter((r) => r.includes('"module":"talker"'))) noRepeatedKeys(raw);

    // A flood: the node re-emits a burst of lines, counts the rest, and says so in one line.
    node.publisher.newBlock(hash(2), 2);
    await marker('flooded');
    const status = module.status();
    // Virtual time stands still: the burst is all the bucket gives (3 lines of the first block included).
    expect(status).toMatchObject({ logLines: LOG_LINE_BURST, logLinesDropped: 3003 - LOG_LINE_BURST });
    expect(logs.lines.filter((l) => l['msg'] === 'flood')).toHaveLength(LOG_LINE_BURST - 3);
    const summaries = logs.lines.filter((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('log lines of the module dropped'));
    expect(summaries).toEqual([expect.objectContaining({ level: 40, module: 'talker', dropped: 1 })]);

    // A line of the node about the child: the child's pid as childPid, the node's own pid kept.
    const pid = module.status().pid as number;
    process.kill(pid, 'SIGKILL');
    const crash = await logs.waitFor((l) => l['reason'] === 'exited');
    expect(crash).toMatchObject({ level: 50, module: 'talker', childPid: pid, pid: process.pid });
    noRepeatedKeys(logs.raw[logs.lines.indexOf(crash)] as string);
    const done = node.shutdown();
    await scheduler.advanceBy(10_000);
    await done;
  });

  it("log a module's fatal error with its stack, through the node", { timeout: 30_000 }, async () => {
    const logs = logCapture('info');
    const node = createNode({ logger: logs.logger });
    const broken = sdkFixture('broken', 'setup-fails', { restart: { type: 'temporary' } });
    const error = await node.load(broken).catch((e: unknown) => e);
    expect(isModactorError(error, 'module-startup-failed')).toBe(true);
    const fatal = await logs.waitFor((l) => l['reason'] === 'fatal');
    expect(fatal).toMatchObject({ level: 50, module: 'broken', msg: 'module error: setup failed on purpose', err: { type: 'Error', message: 'setup failed on purpose' } });
    expect((fatal['err'] as { stack: string }).stack).toMatch(/^Error: setup failed on purpose\n\s+at /);
    await node.shutdown();
  });
});
