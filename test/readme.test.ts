import { expect, it } from 'vitest';
import { runReadmeExample } from './support/readme-example.js';

it('runs the README kernel example as written: a failure restarts /counter as a new incarnation', async () => {
  const { code, stdout, stderr } = await runReadmeExample('The kernel in one example');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout.split('\n')).toEqual([
    'stopped at 1', // the failed incarnation stops with its state
    'true true', // a new, live incarnation at /counter
    'stopped at 0', // the fresh one, at shutdown
    '',
  ]);
});
