import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isModactorError } from '../../src/index.js';
import { BoundedQueue, DEFAULT_MAILBOX_CAPACITY, Mailbox } from '../../src/kernel/mailbox.js';

describe('BoundedQueue', () => {
  it('is FIFO across growth and wrap-around', () => {
    const queue = new BoundedQueue<number>(10);
    const out: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 7; i++) expect(queue.push(round * 10 + i)).toBe(true);
      for (let i = 0; i < 7; i++) out.push(queue.shift() as number);
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 30, 31, 32, 33, 34, 35, 36, 40, 41, 42, 43, 44, 45, 46]);
  });

  it('behaves as a bounded array FIFO for any bound and any sequence of pushes and shifts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.boolean(), { maxLength: 300, size: 'max' }), (bound, ops) => {
        const queue = new BoundedQueue<number>(bound);
        const model: number[] = [];
        let next = 0;
        for (const push of ops) {
          if (push) {
            expect(queue.push(next)).toBe(model.length < bound);
            if (model.length < bound) model.push(next);
            next++;
          } else {
            expect(queue.shift()).toBe(model.shift());
          }
          expect(queue.size).toBe(model.length);
          // Its storage is a ring of at most `bound` slots: it never grows past it, however the
          // pushes and shifts interleave (white box: the bound is a promise about memory too).
          expect((queue as unknown as { items: unknown[] | null }).items?.length ?? 0).toBeLessThanOrEqual(bound);
        }
        expect(queue.drain()).toEqual(model);
      }),
    );
  });

  it('refuses the item past its capacity and changes nothing', () => {
    const queue = new BoundedQueue<string>(2);
    expect(queue.push('a')).toBe(true);
    expect(queue.push('b')).toBe(true);
    expect(queue.push('c')).toBe(false);
    expect(queue.size).toBe(2);
    expect(queue.drain()).toEqual(['a', 'b']);
    expect(queue.shift()).toBeUndefined();
  });

  it('answers undefined to a shift when empty, before and after use, and stays a FIFO', () => {
    const queue = new BoundedQueue<string>(3);
    expect(queue.shift()).toBeUndefined();
    expect(queue.push('a')).toBe(true);
    expect(queue.shift()).toBe('a');
    expect(queue.shift()).toBeUndefined();
    expect(queue.shift()).toBeUndefined();
    expect(queue.size).toBe(0);
    for (const item of ['b', 'c', 'd']) expect(queue.push(item)).toBe(true);
    expect(queue.push('e')).toBe(false);
    expect(queue.drain()).toEqual(['b', 'c', 'd']);
  });
});

describe('Mailbox', () => {
  it('holds 100 messages by default and answers full for the 101st', () => {
    const mailbox = new Mailbox<number>();
    expect(mailbox.capacity).toBe(DEFAULT_MAILBOX_CAPACITY);
    const results = Array.from({ length: 101 }, (_, i) => mailbox.offer(i));
    expect(results.slice(0, 100).every((r) => r === 'enqueued')).toBe(true);
    expect(results[100]).toBe('full');
    expect(mailbox.size).toBe(100);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects capacity %s with invalid-capacity', (capacity) => {
    expect(() => new Mailbox(capacity)).toThrow(expect.objectContaining({ code: 'invalid-capacity' }));
    expect(() => new Mailbox(10, capacity)).toThrow(expect.objectContaining({ code: 'invalid-capacity' }));
  });

  it('says what was expected and what came in the invalid-capacity error', () => {
    let caught: unknown;
    try {
      new Mailbox(0);
    } catch (error) {
      caught = error;
    }
    expect(isModactorError(caught, 'invalid-capacity')).toBe(true);
    expect((caught as Error).message).toBe('Expected mailbox capacity to be a positive safe integer, got 0');
  });

  it.each([
    ['priorityCapacity', () => new Mailbox(10, 0)],
    ['reserveCapacity', () => new Mailbox(10, 10, 0)],
  ])('names %s in its invalid-capacity error', (field, build) => {
    expect(build).toThrow(`Expected mailbox ${field} to be a positive safe integer, got 0`);
  });

  it('takes the priority lane before the user lane, each in FIFO order', () => {
    const mailbox = new Mailbox<string>(5);
    mailbox.offer('u1');
    mailbox.offerPriority('p1');
    mailbox.offer('u2');
    mailbox.offerPriority('p2');
    const taken: string[] = [];
    for (let next = mailbox.takeUser(); next !== undefined; next = mailbox.takeUser()) taken.push(`${next.lane}:${next.message}`);
    expect(taken).toEqual(['priority:p1', 'priority:p2', 'user:u1', 'user:u2']);
  });

  it('bounds the priority lane on its own, so a full user lane does not crowd it out', () => {
    const mailbox = new Mailbox<string>(2, 1);
    mailbox.offer('u1');
    mailbox.offer('u2');
    expect(mailbox.offer('u3')).toBe('full');
    expect(mailbox.offerPriority('p1')).toBe('enqueued');
    expect(mailbox.offerPriority('p2')).toBe('full');
  });

  it('never drops a system message, however full the user lane', () => {
    const mailbox = new Mailbox<string, string>(1);
    mailbox.offer('u1');
    expect(mailbox.offer('u2')).toBe('full');
    const results = Array.from({ length: 1000 }, (_, i) => mailbox.offerSystem(`s${i}`));
    expect(results.every((r) => r === 'enqueued')).toBe(true);
    expect(mailbox.hasSystemMessages).toBe(true);
    expect(mailbox.takeSystem()).toBe('s0');
  });

  it('answers closed after close and hands back what was queued, priority first', () => {
    const mailbox = new Mailbox<string, string>(3);
    mailbox.offer('u1');
    mailbox.offerPriority('p1');
    mailbox.offerSystem('s1');
    expect(mailbox.close()).toEqual(['p1', 'u1']);
    expect(mailbox.closed).toBe(true);
    expect(mailbox.offer('u2')).toBe('closed');
    expect(mailbox.offerPriority('p2')).toBe('closed');
    expect(mailbox.offerSystem('s2')).toBe('closed');
    expect(mailbox.hasMessages).toBe(false);
  });
});
