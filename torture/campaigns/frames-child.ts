/**
 * The child of the malformed-frames campaign (frames.ts): a module speaking the wire protocol by
 * hand. It handshakes, waits until the node announced it (its own ModuleLoaded), then writes its
 * script in one go: `--refused` frames the node must refuse with a code, one frame that is a
 * protocol violation of kind `--kind`, and `--trailers` frames after it (they end with the child,
 * which the violation closes). It records its pid in `--dir` when it starts, and again, with how
 * many malformed frames it is about to send, once announced. Its incarnations are numbered by a
 * counter file in `--dir`, counted once announced: a child the node killed before that (no
 * handshake within the startup timeout, on a loaded machine) takes no turn. From the second
 * incarnation on it sends three times `--refused` (a flood, more than the module's refusal budget
 * has left); past `--incarnations` it behaves (acknowledges, heartbeats) until the node stops it.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { LineSplitter } from '../../src/ipc/line-splitter.js';

const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
};
const name = arg('--name', 'frames');
const dir = arg('--dir', '.');
const kinds = arg('--kinds', '').split(',');
const refusedCount = Number(arg('--refused', '0'));
const trailers = Number(arg('--trailers', '0'));
const incarnations = Number(arg('--incarnations', '1'));
const maxMessageBytes = Number(arg('--max-message-bytes', '65536'));

const pidsFile = join(dir, 'pids');
// Recorded before anything is written: the campaign checks every child it spawned is gone at the end.
appendFileSync(pidsFile, `${process.pid} ${name} started 0\n`);

const socket = new Socket({ fd: Number(process.env['MODACTOR_CHANNEL_FD'] ?? 3), readable: true, writable: true });
socket.on('end', () => process.exit(0));
socket.on('error', () => process.exit(0));
const frame = (value: unknown): string => `${JSON.stringify(value)}\n`;
const send = (value: unknown): void => void socket.write(frame(value));

const block = { blockHash: 'ab'.repeat(32), height: 1 };
/** Frames the node refuses with a code, without disconnecting (within the refusal budget). */
const REFUSABLE: readonly ((id: number) => unknown)[] = [
  (id) => ({ t: 'publish', id, event: { type: 'NewBlock', payload: block } }),
  (id) => ({ t: 'publish', id, event: { type: 'ModuleCrashed', payload: { moduleName: 'someone', error: 'forged' } } }),
  (id) => ({ t: 'publish', id, event: { type: 'NodeShutdown', payload: { reason: 'forged', timeoutSeconds: 1 } } }),
  (id) => ({ t: 'publish', id, event: { type: 'NoSuchEvent', payload: {} } }),
  (id) => ({ t: 'publish', id, event: { type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: 'yes' } } }),
  (id) => ({ t: 'publish', id, event: 42 }),
  (id) => ({ t: 'publish', id, event: { type: 'HealthCheck', payload: { checkType: 'x', nodeHealthy: true, extra: 1 } } }),
  (id) => ({ t: 'publish', id, event: { type: 'HealthCheck', payload: JSON.parse('{"__proto__":{"polluted":1},"checkType":"x","nodeHealthy":true}') as unknown } }),
  (id) => ({ t: 'publish', id, event: { type: 'HealthCheck', payload: { checkType: 'x'.repeat(5000), nodeHealthy: true, healthReport: 7 } } }),
  () => ({ t: 'subscribe', types: ['NewBlock', 'PeerBanned'] }),
];

/** One frame (text, newline included) that is a protocol violation of the given kind. */
function violation(kind: string): string {
  switch (kind) {
    case 'not-json':
      return '{"t":"heartbeat"\n';
    case 'garbage':
      return '\u0000\u00ff\u{1F4A9}{not json at all ]]\n';
    case 'array':
      return '[1,2,3]\n';
    case 'unknown-type':
      return frame({ t: 'bogus', payload: 1 });
    case 'wrong-type':
      return frame({ t: 'ack', n: -1 });
    case 'extra-field':
      return frame({ t: 'heartbeat', x: 1 });
    case 'second-hello':
      return frame({ t: 'hello', protocol: 2, name, version: '1.0.0' });
    case 'ack-overflow':
      return frame({ t: 'ack', n: 1000 });
    case 'deep':
      return `{"t":"publish","id":0,"event":${'['.repeat(1000)}${']'.repeat(1000)}}\n`;
    case 'oversized':
      return `{"t":"publish","id":0,"event":"${'x'.repeat(maxMessageBytes)}"}\n`;
    case 'log-too-long':
      return frame({ t: 'log', record: { level: 30, msg: 'x'.repeat(20_000) } });
    case 'bad-log-level':
      return frame({ t: 'log', record: { level: 33, msg: 'x' } });
    case 'huge-ack':
      return frame({ t: 'ack', n: 1e300 });
    default:
      throw new Error(`unknown violation kind ${kind}`);
  }
}

/** This incarnation's turn, taken once the node announced it: the next number of the counter file. */
function takeTurn(): number {
  const counter = join(dir, `${name}.count`);
  let incarnation = 1;
  try {
    incarnation = Number(readFileSync(counter, 'utf8')) + 1;
  } catch {
    // The first one.
  }
  writeFileSync(counter, String(incarnation));
  return incarnation;
}

let announcedOnce = false;
/** Once announced: misbehave (the script, in one go) or, past the misbehaving turns, behave. */
function onAnnounced(): void {
  announcedOnce = true;
  const incarnation = takeTurn();
  const misbehaving = incarnation <= incarnations;
  const refusable = incarnation === 1 ? refusedCount : 3 * refusedCount;
  const planned = misbehaving ? refusable + 1 + trailers : 0;
  appendFileSync(pidsFile, `${process.pid} ${name} ${incarnation} ${planned}\n`);
  if (!misbehaving) return;
  const kind = kinds[(incarnation - 1) % kinds.length] ?? 'not-json';
  let text = '';
  for (let i = 0; i < refusable; i++) text += frame((REFUSABLE[i % REFUSABLE.length] as (id: number) => unknown)(i));
  text += violation(kind);
  for (let i = 0; i < trailers; i++) text += '{"t":"bogus-trailer"}\n';
  socket.write(text);
}

const lines = new LineSplitter((line) => {
  const message = JSON.parse(line) as { t: string; events?: { type: string; payload: { moduleName?: string } }[] };
  if (message.t === 'welcome') {
    send({ t: 'ready' });
    send({ t: 'heartbeat' });
    setInterval(() => send({ t: 'heartbeat' }), 500);
  } else if (message.t === 'events') {
    const events = message.events ?? [];
    send({ t: 'ack', n: events.length });
    const announced = events.some((e) => e.type === 'ModuleLoaded' && e.payload.moduleName === name);
    if (announced && !announcedOnce) onAnnounced();
  } else if (message.t === 'stop') {
    socket.end(() => process.exit(0));
  }
});
socket.on('data', (chunk: Buffer) => lines.push(chunk));
send({ t: 'hello', protocol: 2, name, version: '1.0.0' });
