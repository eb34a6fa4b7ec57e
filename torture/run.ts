/**
 * The torture driver: `npm run torture` (full campaigns, minutes) and `npm run torture -- --quick`
 * (the short form; `test/torture/campaigns.test.ts` runs the same in `npm test`).
 *
 * It runs every campaign in `torture/campaigns/` (each file but the `-child.ts` entries exports
 * `run({ quick, log })`), each in a fresh process so that one campaign's memory does not weigh on
 * the next and a host crash ends only its own process (reported as a failure, with its exit code).
 * It prints each campaign's progress and figures, then a summary, and exits non-zero if any
 * campaign reported a failure.
 *
 * Options:
 *   --quick          the short form of every campaign
 *   --only REGEX     only the campaigns whose name matches
 *   --in-process     run the campaigns in this process, one after the other
 *   --json FILE      also write the header and every campaign's result as JSON
 *   --list           print the campaigns found and exit
 * `TORTURE_SEED=N` changes the seed of the campaigns that draw random inputs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { listCampaigns, loadCampaign, type CampaignResult } from './lib/campaign.js';

const RESULT_MARKER = 'TORTURE_RESULT ';
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const quick = argv.includes('--quick');
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const campaignFile = option('--campaign');
if (campaignFile !== undefined) {
  // A child: run one campaign, hand back its result, and end (whatever handles it left open).
  const campaign = await loadCampaign(campaignFile);
  const result = await campaign.run({ quick, log: out });
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
} else {
  process.exitCode = await drive();
}

async function drive(): Promise<number> {
  const only = option('--only');
  const campaigns = listCampaigns().filter((c) => only === undefined || new RegExp(only).test(c.name));
  if (argv.includes('--list')) {
    for (const c of campaigns) out(c.name);
    return 0;
  }
  const header = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    mode: quick ? 'quick' : 'full',
    loadAverageBefore: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
  out(`torture (${header.mode}) at ${header.commit}, ${header.node}, ${header.cpus} CPUs, load average ${header.loadAverageBefore}`);
  const results: (CampaignResult & { readonly seconds: number })[] = [];
  for (const campaign of campaigns) {
    out('');
    out(`== ${campaign.name} ==`);
    const started = performance.now();
    const result = argv.includes('--in-process') ? await inProcess(campaign.file) : await inChild(campaign.name, campaign.file);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    results.push({ ...result, seconds });
    const width = Math.max(...Object.keys(result.figures).map((k) => k.length));
    for (const [key, value] of Object.entries(result.figures)) out(`  ${key.padEnd(width)}  ${typeof value === 'number' ? value.toLocaleString('en-US') : value}`);
    for (const failure of result.failures) out(`  FAILURE ${failure}`);
  }
  const loadAverageAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  out('');
  for (const r of results) out(`${r.failures.length === 0 ? 'PASS' : 'FAIL'}  ${r.name.padEnd(14)} ${r.seconds} s${r.failures.length === 0 ? '' : `, ${r.failures.length} failure lines`}`);
  out(`load average after: ${loadAverageAfter}`);
  const jsonPath = option('--json');
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify({ ...header, loadAverageAfter, results }, null, 2)}\n`);
  return results.every((r) => r.failures.length === 0) && results.length > 0 ? 0 : 1;
}

async function inProcess(file: string): Promise<CampaignResult> {
  try {
    const campaign = await loadCampaign(file);
    return await campaign.run({ quick, log: (line) => out(`  ${line}`) });
  } catch (error) {
    return { name: file, figures: {}, failures: [`the campaign threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`] };
  }
}

/** Runs one campaign in a fresh process with this process's loader flags; its exit without a result is a failure. */
function inChild(name: string, file: string): Promise<CampaignResult> {
  const self = fileURLToPath(import.meta.url);
  // `--expose-gc`: a campaign may measure the heap after a full collection (the soak does).
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', self, '--campaign', file, ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let result: CampaignResult | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length)) as CampaignResult;
    else out(`  ${line}`);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      resolve(result ?? { name, figures: {}, failures: [`the campaign's process ended (code ${code}, signal ${signal}) without a result: a host crash`] });
    });
  });
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown commit';
  }
}
