/**
 * Every torture campaign in `torture/campaigns/`, in its quick form (the full ones run in
 * `npm run torture`): each must report no failure. A campaign file added to the folder runs here
 * without changing this file; the figures of the known ones are checked too, so a campaign that
 * quietly stopped doing its work fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCampaigns, loadCampaign } from '../../torture/lib/campaign.js';

/** What the quick run of each known campaign must at least have done. */
const DID_ITS_WORK: Record<string, (figures: Record<string, number | string>) => void> = {
  frames(f) {
    expect(f).toMatchObject({ hostCrashes: 0, orphans: 0 });
    // 4 modules x 3 incarnations, and one more child for each killed before it was announced.
    expect(f['children']).toBe(12 + Number(f['startupTimeouts']));
    expect(f['malformedWritten']).toBeGreaterThanOrEqual(2000);
    // Most frames were read and counted one by one; the rest died with a child a violation closed.
    expect(f['malformedCounted']).toBeGreaterThan(1000);
  },
  publishes(f) {
    expect(f).toMatchObject({ inputs: 3000, disagreements: 0, untypedThrows: 0, hostCrashes: 0, nodeState: 'running' });
    for (const code of ['invalid-event', 'unknown-event-type', 'invalid-payload', 'not-permitted']) expect(f[`refused ${code}`]).toBeGreaterThan(0);
    expect(f['accepted']).toBeGreaterThan(500);
    expect(f['deliveriesChecked']).toBeGreaterThan(1000);
    for (const ingredient of ['cycle', 'deep nesting', 'huge string', '__proto__ key', 'bigint', 'symbol', 'getter', 'flipping getter', 'throwing getter', 'proxy', 'throwing trap', 'revoked proxy']) {
      expect(f[`with ${ingredient}`], ingredient).toBeGreaterThan(0);
    }
  },
  'crash-cycles'(f) {
    expect(f).toMatchObject({ inProcessCycles: 50, processCycles: 3, orphans: 0, hostCrashes: 0, crashesSeen: 53 });
  },
  'node-kill'(f) {
    expect(f).toMatchObject({ cycles: 5, kills: 5, orphans: 0 });
    expect(f['acknowledged']).toBeGreaterThanOrEqual(5 * 200);
    expect(f['handled']).toBeGreaterThanOrEqual(f['eventsLogged'] as number);
  },
  soak(f) {
    expect(f).toMatchObject({ hostCrashes: 0 });
    expect(f['published']).toBeGreaterThan(1000);
    expect(f['dropped']).toBeGreaterThan(0);
  },
};

const campaigns = listCampaigns();

describe('the torture campaigns, quick', () => {
  it('finds every campaign file of torture/campaigns', () => {
    expect(campaigns.map((c) => c.name)).toEqual(expect.arrayContaining(Object.keys(DID_ITS_WORK)));
  });

  it('takes as campaigns the files that export run, never a -child.ts entry or a helper', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modactor-campaigns-'));
    try {
      const files: Record<string, string> = {
        'b-async.ts': 'export async function run(options: unknown) {}',
        'a-plain.ts': 'export function run(options: unknown) {}',
        'c-const.ts': 'export const run = async () => ({});',
        'd-list.ts': 'async function run() {}\nexport { other, run };',
        'e-child.ts': 'export async function run() {}',
        'helper.ts': 'export async function runCampaign() {}\nfunction run() {}',
        'notes.md': 'export async function run() {}',
      };
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
      expect(listCampaigns(dir).map((c) => c.name)).toEqual(['a-plain', 'b-async', 'c-const', 'd-list']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const { name, file } of campaigns) {
    it(`${name}: no failure`, { timeout: 120_000 }, async () => {
      const lines: string[] = [];
      const campaign = await loadCampaign(file);
      const result = await campaign.run({ quick: true, log: (line) => lines.push(line) });
      expect(result.name).toBe(name);
      expect(result.failures).toEqual([]);
      DID_ITS_WORK[name]?.(result.figures);
    });
  }
});
