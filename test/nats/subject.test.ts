/**
 * Subject tokens: any node id or module name becomes a valid token and comes back unchanged; only
 * canonical tokens are accepted back.
 */
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { busSubjects, escapeToken, parseMembershipKey, parseSubject, unescapeToken } from '../../src/nats/subject.js';
import { isModactorError } from '../../src/index.js';

/** Any string, lone surrogates and control characters included. */
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
/** Strings rich in the characters subjects forbid. */
const hostile = fc.string({ unit: fc.constantFrom('.', '*', '>', ' ', '\t', '\n', '$', '=', '/', 'é', '\u{1F600}', 'a', 'Z', '0', '_', '-'), maxLength: 20 });
const names = fc.oneof(anyString, hostile);

/** The token alphabet shared by subjects and KV keys. */
const TOKEN = /^[A-Za-z0-9_=-]+$/;

/** A naive escape that narrows: the property below must catch it. */
const narrowing = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_') || '_';

describe('escapeToken', () => {
  it('leaves plain names alone and escapes the rest', () => {
    expect(escapeToken('indexer-2_b')).toBe('indexer-2_b');
    expect(escapeToken('eu.west 1')).toBe('eu=2Ewest=201');
    expect(escapeToken('*')).toBe('=2A');
    expect(escapeToken('>')).toBe('=3E');
    expect(escapeToken('a=b')).toBe('a=3Db');
    expect(escapeToken('é')).toBe('=u00E9');
    expect(escapeToken('')).toBe('=');
  });

  test.prop([names])('round-trips every string through one token of the subject/KV alphabet', (name) => {
    const token = escapeToken(name);
    expect(token).toMatch(TOKEN);
    expect(unescapeToken(token)).toBe(name);
  });

  test.prop([fc.string({ unit: fc.constantFrom('a', '=', 'u', '0', '4', '1', 'E', 'F', '.', ' '), maxLength: 12 })])(
    'accepts back only the tokens it produces',
    (token) => {
      const name = unescapeToken(token);
      if (name !== undefined) expect(escapeToken(name)).toBe(token);
    },
  );

  it('the round-trip property catches an escape that narrows names', () => {
    const result = fc.check(fc.property(names, (name) => unescapeToken(narrowing(name)) === name), { numRuns: 2000 });
    expect(result.failed).toBe(true);
  });

  it('refuses malformed and needless escapes', () => {
    for (const token of ['', '=4', '=41', '=zz', '=u0041', '=u12', 'a.b', 'a b', '=80', '=2a']) expect(unescapeToken(token)).toBeUndefined();
  });
});

describe('busSubjects', () => {
  const s = busSubjects();

  it('names the subjects, stream and bucket of the default prefix', () => {
    expect(s.event('n1', 'NewBlock')).toBe('modactor.ev.n1.NewBlock');
    expect(s.durable('n1', 'NewBlock')).toBe('modactor.dur.n1.NewBlock');
    expect(s.durableBatch('n1')).toBe('modactor.dur.n1');
    expect(s.eventBatch('n1')).toBe('modactor.ev.n1');
    expect(s.heartbeat('n.1')).toBe('modactor.hb.n=2E1');
    expect(s.membershipKey('n.1', 'mod ule')).toBe('n=2E1.mod=20ule');
    expect([s.allEvents, s.allDurable, s.allHeartbeats, s.stream, s.bucket]).toEqual(['modactor.ev.>', 'modactor.dur.>', 'modactor.hb.*', 'modactor-durable', 'modactor-membership']);
  });

  test.prop([names, names])('parses back what it builds', (nodeId, type) => {
    expect(parseSubject('modactor', s.event(nodeId, type))).toEqual({ kind: 'ev', nodeId, type });
    expect(parseSubject('modactor', s.durable(nodeId, type))).toEqual({ kind: 'dur', nodeId, type });
    expect(parseSubject('modactor', s.durableBatch(nodeId))).toEqual({ kind: 'dur', nodeId });
    expect(parseSubject('modactor', s.eventBatch(nodeId))).toEqual({ kind: 'ev', nodeId });
    expect(parseSubject('modactor', s.heartbeat(nodeId))).toEqual({ kind: 'hb', nodeId });
    expect(parseMembershipKey(s.membershipKey(nodeId, type))).toEqual({ nodeId, module: type });
  });

  it('refuses subjects it never builds', () => {
    for (const subject of ['other.ev.a.B', 'modactor.ev', 'modactor.xx.a.B', 'modactor.hb.a.b', 'modactor.ev.a.B.c', 'modactor.ev.=zz.B']) {
      expect(parseSubject('modactor', subject)).toBeUndefined();
    }
    expect(parseMembershipKey('a.b.c')).toBeUndefined();
    expect(parseMembershipKey('ab')).toBeUndefined();
  });

  it('refuses a prefix that is not one plain token', () => {
    for (const prefix of ['', 'a.b', 'a b', '*', 'x'.repeat(33)]) {
      let error: unknown;
      try {
        busSubjects(prefix);
      } catch (e) {
        error = e;
      }
      expect(isModactorError(error, 'invalid-argument')).toBe(true);
    }
  });
});
