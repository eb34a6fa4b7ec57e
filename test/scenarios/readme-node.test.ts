import { expect, it } from 'vitest';
import { runReadmeExample } from '../support/readme-example.js';

it('runs the README node example as written: three modules, replay to the hotloaded one, the follow-up event, stats', async () => {
  const { code, stdout, stderr } = await runReadmeExample('A node with three modules');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const [first] = stdout.split('\n');
  expect(first).toBe('2 loaded indexer, loaded governance, loaded audit, WebhookSent');
  expect(stdout).toContain('successful: 5');
  expect(stdout).toContain('handled: 5');
});
