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
  restart: '#6a1b9a',
  reload: '#6a1b9a',
  unload: '#757575',
};

/**
 * The timeline chart as inline SVG: one lane per module with its deliveries (blue) and drops
 * (red) per time bucket, and a marker for each lifecycle event or injected fault; node-wide events
 * (floods, shutdown) as vertical lines across all lanes.
 */
export function renderChart(report: SimulationReport): string {
  const names = report.modules.map((m) => m.name);
  const left = 170;
  const width = 1000;
  const laneHeight = 46;
  const top = 24;
  const plot = width - left - 10;
  const height = top + names.length * laneHeight + 30;
  const end = Math.max(1, report.scenario.endMs);
  const x = (t: number): number => left + (t / end) * plot;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of deliveries, drops and lifecycle per module">`,
  );
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  // Time axis: a tick every "nice" step.
  const step = [1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000].find((s) => end / s <= 12) ?? 1_000_000;
  for (let t = 0; t <= end; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${height - 26}" stroke="#eeeeee"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - 12}" font-size="10" text-anchor="middle" fill="#555">${t / 1000}s</text>`);
  }
  const { bucketMs } = report.series;
  names.forEach((name, lane) => {
    const y0 = top + lane * laneHeight;
    const base = y0 + laneHeight - 14;
    parts.push(`<text x="${left - 8}" y="${y0 + laneHeight / 2 + 4}" font-size="12" text-anchor="end" fill="#222">${esc(name)}</text>`);
    parts.push(`<line x1="${left}" y1="${base}" x2="${left + plot}" y2="${base}" stroke="#bbbbbb"/>`);
    const series = report.series.modules[name];
    if (series === undefined) {
      parts.push(`<text x="${left + 6}" y="${base - 6}" font-size="10" fill="#888">not traced: runs beside the simulation</text>`);
    } else {
      // Deliveries up, drops down, each on a square-root scale so a burst does not flatten the rest.
      const up = laneHeight - 22;
      const down = 10;
      const peakUp = Math.sqrt(Math.max(1, ...series.delivered));
      const peakDown = Math.sqrt(Math.max(1, ...series.dropped));
      const barWidth = Math.max(1, (bucketMs / end) * plot - 0.5);
      series.delivered.forEach((delivered, i) => {
        const dropped = series.dropped[i] ?? 0;
        const bx = x(i * bucketMs).toFixed(1);
        const from = fmt(i * bucketMs);
        if (delivered > 0) {
          const h = Math.max(1, (Math.sqrt(delivered) / peakUp) * up);
          parts.push(
            `<rect x="${bx}" y="${(base - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="#64b5f6"><title>${esc(name)} at ${from}: ${delivered} delivered</title></rect>`,
          );
        }
        if (dropped > 0) {
          const h = Math.max(1, (Math.sqrt(dropped) / peakDown) * down);
          parts.push(
            `<rect x="${bx}" y="${base}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="#e53935"><title>${esc(name)} at ${from}: ${dropped} dropped</title></rect>`,
          );
        }
      });
    }
    // Markers, the ones that matter most drawn last (on top).
    const rank = (kind: string): number => ['crashed', 'gave-up', 'fault'].indexOf(kind) + 1;
    const markers = report.timeline.filter((e) => e.module === name).sort((a, b) => rank(a.kind) - rank(b.kind) || a.t - b.t);
    for (const e of markers) {
      const colour = MARKERS[e.kind] ?? '#455a64';
      const mx = x(e.t).toFixed(1);
      parts.push(
        `<g><title>${esc(fmt(e.t))}: ${esc(e.text)}</title><line x1="${mx}" y1="${y0 + 4}" x2="${mx}" y2="${base}" stroke="${colour}" stroke-width="1.5"/><circle cx="${mx}" cy="${y0 + 6}" r="3.5" fill="${colour}"/></g>`,
      );
    }
  });
  for (const e of report.timeline) {
    if (e.module !== null || (e.kind !== 'flood' && e.kind !== 'shutdown')) continue;
    const mx = x(e.t).toFixed(1);
    parts.push(
      `<g><title>${esc(fmt(e.t))}: ${esc(e.text)}</title><line x1="${mx}" y1="${top - 6}" x2="${mx}" y2="${height - 26}" stroke="#8d6e63" stroke-dasharray="4 3"/></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
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
<p class="legend"><span><span class="dot" style="background:#64b5f6"></span>delivered</span><span><span class="dot" style="background:#e53935"></span>dropped (mailbox full)</span>${['loaded', 'crashed', 'gave-up', 'unloaded', 'health', 'fault', 'reloaded'].map((k) => `<span><span class="dot" style="background:${MARKERS[k] ?? '#455a64'}"></span>${k}</span>`).join('')}</p>
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
