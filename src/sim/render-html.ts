import type { SimulationReport, TimelineEntry } from './report.js';

const esc = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const fmt = (t: number): string => `${(t / 1000).toFixed(3)} s`;

/** Marker colours of the lifecycle kinds on the chart. */
const MARKERS: Readonly<Record<string, string>> = {
  loaded: '#2e7d32',
  hotload: '#1565c0',
  crashed: '#c62828',
  'gave-up': '#000000',
  unloaded: '#757575',
  reloaded: '#6a1b9a',
  health: '#ef6c00',
  fault: '#ad1457',
  restarted: '#2e7d32',
  'did-not-start': '#000000',
  restart: '#6a1b9a',
  reload: '#6a1b9a',
  unload: '#757575',
};

/** The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `n` (at least 1). */
export function niceCeiling(n: number): number {
  if (!(n > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/** Thousands separated: 1,220. */
const count = (n: number): string => n.toLocaleString('en-US');

/** Geometry of the chart, in SVG pixels. */
const CHART = {
  width: 1000,
  /** Left of the plot: module names, then each lane's scale labels. */
  left: 230,
  right: 12,
  top: 24,
  /** One lane: deliveries above its baseline, drops below, each `half` tall. */
  half: 30,
  gap: 22,
  /** A count above 0 is drawn at least this tall, so a single event stays visible. */
  minBar: 1.5,
} as const;

/**
 * The timeline chart as inline SVG: one lane per module with its deliveries (blue, upwards) and
 * its drops (red, downwards) per time bucket, each on its own square-root scale whose ticks are
 * labelled (the scale goes up to a "nice" number at or above the busiest bucket, so a lane's
 * drops are drawn as tall as its deliveries whatever their numbers, and a steady trickle stays
 * visible beside a burst), a marker with a tooltip for
 * each lifecycle event or injected fault, and node-wide events (floods, shutdown) as dashed
 * vertical lines across all lanes. Elements carry classes and `data-` attributes so that a test
 * (or a stylesheet) can find a module's lane, its scales and its markers.
 */
export function renderChart(report: SimulationReport): string {
  const { width, left, right, top, half, gap, minBar } = CHART;
  const names = report.modules.map((m) => m.name);
  const laneHeight = 2 * half + gap;
  const plot = width - left - right;
  const height = top + names.length * laneHeight + 24;
  const end = Math.max(1, report.scenario.endMs);
  const x = (t: number): number => left + (t / end) * plot;
  const { bucketMs } = report.series;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of deliveries, drops and lifecycle per module" font-family="system-ui, sans-serif">`,
  );
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  // Time axis: a tick every "nice" step.
  const step = [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000].find((s) => end / s <= 12) ?? 1_000_000;
  parts.push('<g class="time-axis">');
  for (let t = 0; t <= end; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${height - 22}" stroke="#eeeeee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 8}" font-size="10" text-anchor="middle" fill="#555">${t / 1000} s</text>`);
  }
  parts.push('</g>');
  names.forEach((name, lane) => {
    const y0 = top + lane * laneHeight;
    const base = y0 + half;
    parts.push(`<g class="lane" data-module="${esc(name)}">`);
    parts.push(`<text x="8" y="${base + 4}" font-size="12" fill="#222">${esc(name)}</text>`);
    parts.push(`<line x1="${left}" y1="${base}" x2="${left + plot}" y2="${base}" stroke="#9e9e9e"/>`);
    const series = report.series.modules[name];
    if (series === undefined) {
      parts.push(`<text x="${left + 6}" y="${base - 6}" font-size="10" fill="#888">not traced: runs beside the simulation</text>`);
    } else {
      const upMax = niceCeiling(Math.max(0, ...series.delivered));
      const downMax = niceCeiling(Math.max(0, ...series.dropped));
      parts.push(scale('delivered', upMax, base, -half, '#1565c0'));
      parts.push(scale('dropped', downMax, base, half, '#c62828'));
      const barWidth = Math.max(1, (bucketMs / end) * plot - 0.5);
      const bar = (n: number, max: number): number => Math.max(minBar, Math.sqrt(n / max) * half);
      series.delivered.forEach((delivered, i) => {
        const dropped = series.dropped[i] ?? 0;
        const bx = x(i * bucketMs).toFixed(1);
        const from = fmt(i * bucketMs);
        if (delivered > 0) {
          const h = bar(delivered, upMax);
          parts.push(
            `<rect class="bar delivered" x="${bx}" y="${(base - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="#64b5f6"><title>${esc(name)} at ${from}: ${count(delivered)} delivered</title></rect>`,
          );
        }
        if (dropped > 0) {
          parts.push(
            `<rect class="bar dropped" x="${bx}" y="${base}" width="${barWidth.toFixed(1)}" height="${bar(dropped, downMax).toFixed(1)}" fill="#e53935"><title>${esc(name)} at ${from}: ${count(dropped)} dropped</title></rect>`,
          );
        }
      });
    }
    // Markers, the ones that matter most drawn last (on top).
    const rank = (kind: string): number => ['crashed', 'gave-up', 'did-not-start', 'fault'].indexOf(kind) + 1;
    const markers = report.timeline.filter((e) => e.module === name).sort((a, b) => rank(a.kind) - rank(b.kind) || a.t - b.t);
    for (const e of markers) {
      const colour = MARKERS[e.kind] ?? '#455a64';
      const mx = x(e.t).toFixed(1);
      parts.push(
        `<g class="marker" data-kind="${esc(e.kind)}"><title>${esc(fmt(e.t))}: ${esc(e.text)}</title><line x1="${mx}" y1="${y0 - 2}" x2="${mx}" y2="${base + half}" stroke="${colour}" stroke-width="1.5"/><circle cx="${mx}" cy="${y0}" r="4" fill="${colour}"/></g>`,
      );
    }
    parts.push('</g>');
  });
  for (const e of report.timeline) {
    if (e.module !== null || (e.kind !== 'flood' && e.kind !== 'shutdown' && e.kind !== 'interrupted')) continue;
    const mx = x(e.t).toFixed(1);
    parts.push(
      `<g class="marker" data-kind="${esc(e.kind)}"><title>${esc(fmt(e.t))}: ${esc(e.text)}</title><line x1="${mx}" y1="${top - 6}" x2="${mx}" y2="${height - 22}" stroke="#8d6e63" stroke-dasharray="4 3"/></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');

  /**
   * A lane's scale for one series: an axis from the baseline `extent` pixels up (negative) or
   * down, square-root, with ticks at 0, a quarter of the top value (drawn half way) and the top
   * value, labelled with the counts they stand for.
   */
  function scale(what: 'delivered' | 'dropped', max: number, base: number, extent: number, colour: string): string {
    const axis = left - 6;
    const ticks = max >= 4 ? [0, max / 4, max] : [0, max];
    const marks = ticks.map((value) => {
      const y = (base + Math.sqrt(value / max) * extent).toFixed(1);
      return `<line x1="${axis - 3}" y1="${y}" x2="${axis}" y2="${y}" stroke="${colour}"/><text class="tick" x="${axis - 5}" y="${(Number(y) + 3).toFixed(1)}" font-size="9" text-anchor="end" fill="${colour}">${count(value)}</text>`;
    });
    const label = `${what} per ${fmt(report.series.bucketMs)} (square-root scale)`;
    return `<g class="scale ${what}" data-max="${max}" aria-label="${esc(label)}"><title>${esc(label)} (scale 0 to ${count(max)})</title><line x1="${axis}" y1="${base}" x2="${axis}" y2="${(base + extent).toFixed(1)}" stroke="${colour}"/>${marks.join('')}</g>`;
  }
}

function timelineRows(entries: readonly TimelineEntry[]): string {
  return entries
    .map((e) => `<tr><td class="num">${esc(fmt(e.t))}</td><td><span class="dot" style="background:${MARKERS[e.kind] ?? '#455a64'}"></span>${esc(e.text)}</td></tr>`)
    .join('\n');
}

/** The report as one self-contained HTML page (inline CSS and SVG, no external assets). */
export function renderHtml(report: SimulationReport): string {
  const s = report.scenario;
  const verdict = report.passed ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>';
  const moduleRows = report.modules
    .map(
      (m) =>
        `<tr><td>${esc(m.name)}${m.deterministic || s.mode === 'real' ? '' : ' *'}</td><td>${esc(m.kind)}</td><td class="num">${m.delivered}</td><td class="num">${m.handled}</td><td class="num">${m.dropped}</td><td class="num">${m.failed}</td><td class="num">${m.lost}</td><td class="num">${m.restarts}</td><td class="${m.health}">${m.health}</td><td class="${m.assessed}">${m.assessed}</td><td>${esc(m.end)}</td></tr>`,
    )
    .join('\n');
  const invariantRows = report.invariants
    .map((i) => {
      const violations = i.violations.length === 0 ? '' : `<ul>${i.violations.map((v) => `<li>${esc(v)}</li>`).join('')}${i.more > 0 ? `<li>... and ${i.more} more</li>` : ''}</ul>`;
      return `<tr><td class="${i.status}">${i.status.toUpperCase()}</td><td>${esc(i.id)}</td><td>${esc(i.title)}<br><small>${esc(i.checked)}</small>${violations}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>modactor simulate: ${esc(s.name)} (seed ${s.seed})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #2e7d32; font-weight: bold; } .fail { color: #c62828; font-weight: bold; } .skip { color: #757575; }
.healthy { color: #2e7d32; } .degraded { color: #ef6c00; } .unhealthy { color: #c62828; }
.dot { display: inline-block; width: 0.6rem; height: 0.6rem; border-radius: 50%; margin-right: 0.4rem; }
.legend span { margin-right: 1rem; }
small { color: #666; }
</style>
</head>
<body>
<h1>modactor simulate: scenario “${esc(s.name)}” ${verdict}</h1>
<p>Seed ${s.seed}, ${s.mode === 'deterministic' ? 'deterministic (virtual time)' : `real time (1 virtual ms = ${s.timeScale ?? 1} real ms)`}, ${esc(fmt(s.endMs))} simulated.
Traffic: ${esc(Object.entries(report.traffic).map(([t, n]) => `${n} ${t}`).join(', ') || 'none')}.</p>
<h2>Timeline chart</h2>
<p class="legend"><span><span class="dot" style="background:#64b5f6"></span>delivered (up)</span><span><span class="dot" style="background:#e53935"></span>dropped, mailbox full (down)</span>${['loaded', 'restarted', 'crashed', 'gave-up', 'did-not-start', 'unloaded', 'health', 'fault', 'reloaded'].map((k) => `<span><span class="dot" style="background:${MARKERS[k] ?? '#455a64'}"></span>${k}</span>`).join('')}</p>
<p><small>Bars count events per ${esc(fmt(report.series.bucketMs))} bucket; each module has its own scales, deliveries above its line and drops below, labelled on the left. The scales are square-root scales (the middle tick is a quarter of the top one), so a steady trickle stays visible beside a burst. Hover a bar or a marker for its details.</small></p>
${renderChart(report)}
<h2>Modules</h2>
<table>
<tr><th>module</th><th>kind</th><th>delivered</th><th>handled</th><th>dropped</th><th>failed</th><th>lost</th><th>restarts</th><th>health</th><th>assessed</th><th>end</th></tr>
${moduleRows}
</table>
<h2>Invariants</h2>
<table>
${invariantRows}
</table>
<h2>Timeline</h2>
<table>
${timelineRows(report.timeline)}
</table>
<p><small>${report.notes.map(esc).join('<br>')}</small></p>
</body>
</html>
`;
}
