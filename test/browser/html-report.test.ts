import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml, type SimulationReport } from '../../src/sim.js';
import { CHROMIUM_FLAGS, obtainChromium } from '../../scripts/chromium.js';
import { defaultRun } from '../sim/support.js';

/**
 * The HTML report of the default scenario, opened in a real headless chromium (Debian's, found or
 * installed by scripts/chromium.ts; CHROMIUM_BIN to use another). The page and a screenshot of it
 * are left in the artefact folder (MODACTOR_ARTEFACTS_DIR, default <tmp>/modactor-artefacts) to be
 * looked at; they are never committed.
 */
const artefacts = process.env.MODACTOR_ARTEFACTS_DIR ?? join(tmpdir(), 'modactor-artefacts');
const profile = mkdtempSync(join(tmpdir(), 'modactor-chromium-profile-'));

let launched: Promise<BrowserContext> | null = null;
let report: SimulationReport;

/**
 * The browser, launched once. A chromium that cannot be had fails every test here with how to
 * provide one (CHROMIUM_BIN=...): never a skip.
 */
function browser(): Promise<BrowserContext> {
  launched ??= obtainChromium().then((found) =>
    chromium.launchPersistentContext(profile, {
      executablePath: found.path,
      env: { ...process.env, ...found.env },
      headless: true,
      args: [...CHROMIUM_FLAGS],
      viewport: { width: 1200, height: 900 },
    }),
  );
  return launched;
}

/** What a page did while it loaded. */
interface Loaded {
  readonly page: Page;
  readonly url: string;
  /** Console messages of type error, and uncaught page errors. */
  readonly errors: string[];
  /** Every request the page made, its own document included. */
  readonly requests: string[];
}

/** Writes `html` to the artefact folder and opens it, recording errors and requests. */
async function open(file: string, html: string): Promise<Loaded> {
  const path = join(artefacts, file);
  writeFileSync(path, html);
  const url = pathToFileURL(path).href;
  const page = await (await browser()).newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, errors, requests };
}

beforeAll(async () => {
  mkdirSync(artefacts, { recursive: true });
  report = (await defaultRun()).report;
  // Installing chromium (apt-get, as root on a fresh machine) takes a minute or two, once.
  await browser().catch(() => undefined);
}, 15 * 60_000);

afterAll(async () => {
  await (await launched?.catch(() => null))?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe('the HTML report in a real browser', () => {
  it('loads with no console error and no request beyond its own file, every module with a chart row, and saves a screenshot', async () => {
    const { page, url, errors, requests } = await open('report.html', renderHtml(report));
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    const lanes = await Promise.all((await page.locator('svg g.lane').all()).map((lane) => lane.getAttribute('data-module')));
    expect(lanes).toEqual(report.modules.map((m) => m.name));
    for (const name of lanes) await expect(page.locator(`g.lane[data-module="${name}"]`).isVisible()).resolves.toBe(true);
    const screenshot = join(artefacts, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.locator('svg').screenshot({ path: join(artefacts, 'chart.png') });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    await page.close();
  });

  it('draws drops and deliveries tall enough to see, on scales whose ticks are labelled', async () => {
    const { page } = await open('report.html', renderHtml(report));
    const lane = page.locator('g.lane[data-module="slow-consumer"]');
    const row = report.modules.find((m) => m.name === 'slow-consumer');
    const series = report.series.modules['slow-consumer'];
    expect(row?.dropped).toBe(1220);
    for (const what of ['delivered', 'dropped'] as const) {
      const scale = lane.locator(`g.scale.${what}`);
      const max = Number(await scale.getAttribute('data-max'));
      const peak = Math.max(...(series?.[what] ?? []));
      // The scale reaches the busiest bucket, its top no more than 2.5 times it (steps of 1, 2, 5).
      expect(max).toBeGreaterThanOrEqual(peak);
      expect(max).toBeLessThanOrEqual(2.5 * peak);
      // Square-root scale: the middle tick, a quarter of the top, is drawn half way.
      expect(await scale.locator('text.tick').allTextContents()).toEqual(['0', (max / 4).toLocaleString('en-US'), max.toLocaleString('en-US')]);
      // The busiest bucket's bar is at least 60% of the lane's half height (30 px); the least busy one still shows.
      const boxes = await Promise.all((await lane.locator(`rect.bar.${what}`).all()).map((bar) => bar.boundingBox()));
      const heights = boxes.map((box) => box?.height ?? 0);
      expect(heights.length).toBeGreaterThan(0);
      expect(Math.max(...heights)).toBeGreaterThanOrEqual(18);
      expect(Math.min(...heights)).toBeGreaterThanOrEqual(1.5);
    }
    const titles = await lane.locator('rect.bar.dropped title').allTextContents();
    expect(titles.reduce((sum, t) => sum + Number(/: ([\d,]+) dropped$/.exec(t)?.[1]?.replace(/,/g, '')), 0)).toBe(1220);
    await page.close();
  });

  it('gives every crash marker a tooltip saying what crashed and why', async () => {
    const { page } = await open('report.html', renderHtml(report));
    const markers = page.locator('g.lane[data-module="crashy"] g.marker[data-kind="crashed"]');
    expect(await markers.count()).toBe(3);
    expect(await markers.locator('title').allTextContents()).toEqual([
      '4.000 s: crashed crashy: cannot index block 5',
      '9.000 s: crashed crashy: cannot index block 10',
      '14.000 s: crashed crashy: cannot index block 15',
    ]);
    // The marker is on screen and takes the pointer (hover waits until nothing covers it), so its tooltip shows.
    const circle = markers.first().locator('circle');
    expect(await circle.boundingBox()).toMatchObject({ width: 8, height: 8 });
    await circle.hover({ timeout: 5000 });
    await page.close();
  });

  it('catches what it checks for: a broken page with a script error and an outside request fails the same checks', async () => {
    const broken = renderHtml(report).replace('</body>', '<img src="http://127.0.0.1:9/pixel.png"><script>notDefined()</script></body>');
    const { page, url, errors, requests } = await open('broken.html', broken);
    expect(errors.some((e) => e.includes('notDefined is not defined'))).toBe(true);
    expect(requests).toEqual([url, 'http://127.0.0.1:9/pixel.png']);
    await page.close();
  });
});
