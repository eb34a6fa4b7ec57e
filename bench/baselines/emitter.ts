import { EventEmitter } from 'node:events';
import type { Subject, SubjectFactory } from '../lib/subject.js';

/**
 * Baseline (b): Node's EventEmitter. Synchronous and unbounded: `emit` calls every listener
 * inline, so nothing is queued, nothing is dropped, and a slow listener slows the publisher.
 */
export const emitterSubject: SubjectFactory = ({ n, handler }) => {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  for (let i = 0; i < n; i++) {
    emitter.on('NewBlock', (event: Parameters<typeof handler>[0]) => {
      void handler(event, i);
    });
  }
  const subject: Subject = {
    publish(event) {
      emitter.emit(event.type, event);
      return n;
    },
  };
  return Promise.resolve(subject);
};
