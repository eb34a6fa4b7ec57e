// The kernel modules directly rather than src/index.ts: same code, and a case process that needs
// only the kernel starts faster without loading the node layer, IPC and simulator.
import type { ActorRef } from '../../src/kernel/behavior.js';
import type { Scheduler } from '../../src/kernel/scheduler.js';
import { createActorSystem } from '../../src/kernel/system.js';
import { macrotask, type BenchEvent, type Subject, type SubjectFactory } from '../lib/subject.js';

/**
 * modactor at the kernel level: one actor system, one top-level actor per subscriber (a plain
 * handler function, the given mailbox capacity), and a publisher that `tell`s each of them.
 */
export function kernelSubject(options: { scheduler?: Scheduler; yield?: () => Promise<void> } = {}): SubjectFactory {
  return async ({ n, capacity, handler }) => {
    const system = createActorSystem(options.scheduler === undefined ? {} : { scheduler: options.scheduler });
    const refs: ActorRef<BenchEvent>[] = [];
    for (let i = 0; i < n; i++) {
      refs.push(system.spawn<BenchEvent>((event) => handler(event, i), { mailboxCapacity: capacity }));
    }
    const yieldFn = options.yield ?? macrotask;
    await yieldFn(); // let every actor start
    const subject: Subject = {
      publish(event) {
        let accepted = 0;
        for (let i = 0; i < refs.length; i++) if ((refs[i] as ActorRef<BenchEvent>).tell(event) === 'enqueued') accepted++;
        return accepted;
      },
      yield: yieldFn,
    };
    return subject;
  };
}
