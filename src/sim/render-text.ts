import type { ModuleRow, SimulationReport } from './report.js';

/** Seconds with milliseconds, right-aligned for columns. */
function clock(t: number, width: number): string {
  return (t / 1000).toFixed(3).padStart(width);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The report as text for a terminal: header, timeline of lifecycle events and simulator actions,
 * the per-module table, the invariants with pass or fail, and the verdict. Contains nothing that
 * varies between two deterministic runs with one seed (no wall-clock time).
 */
export function renderText(report: SimulationReport): string {
  const out: string[] = [];
  const s = report.scenario;
  const mode = s.mode === 'deterministic' ? 'deterministic (virtual time)' : `real time (1 virtual ms = ${s.timeScale ?? 1} real ms)`;
  out.push(`modactor simulate: scenario "${s.name}", seed ${s.seed}, ${mode}`);
  out.push('');

  const width = clock(s.endMs, 0).length;
  out.push(`Timeline (${s.mode === 'deterministic' ? 'virtual' : 'scaled'} seconds)`);
  for (const e of report.timeline) out.push(`  ${clock(e.t, width)}  ${e.text}`);
  out.push('');

  const traffic = Object.entries(report.traffic).map(([type, n]) => `${n} ${type}`);
  out.push(`Traffic published: ${traffic.length === 0 ? 'none' : traffic.join(', ')}`);
  out.push('');

  out.push('Modules');
  const cells = (r: ModuleRow): string[] => [
    r.deterministic || s.mode === 'real' ? r.name : `${r.name} *`,
    r.kind,
    String(r.delivered),
    String(r.handled),
    String(r.dropped),
    String(r.failed),
    String(r.lost),
    String(r.restarts),
    r.health,
    r.assessed,
    r.end,
  ];
  const header = ['module', 'kind', 'delivered', 'handled', 'dropped', 'failed', 'lost', 'restarts', 'health', 'assessed', 'end'];
  for (const line of table(header, report.modules.map(cells), new Set([2, 3, 4, 5, 6, 7]))) out.push(`  ${line}`);
  if (report.modules.some((r) => !r.deterministic) && s.mode === 'deterministic') {
    out.push('  * not deterministic: outside the same-seed, same-report guarantee');
  }
  out.push('');

  out.push('Invariants');
  const idWidth = Math.max(...report.invariants.map((i) => i.id.length), 0);
  for (const inv of report.invariants) {
    const status = inv.status === 'pass' ? 'PASS' : inv.status === 'fail' ? 'FAIL' : 'SKIP';
    const what = inv.id.startsWith('expect ') ? inv.title.replace(/^expectation: /, '') : inv.checked;
    out.push(`  ${status}  ${inv.id.padEnd(idWidth)}  ${what}`);
    for (const v of inv.violations) out.push(`        - ${v}`);
    if (inv.more > 0) out.push(`        ... and ${inv.more} more`);
  }
  out.push('');
  for (const n of report.notes) out.push(`Note: ${n}`);
  const failed = report.invariants.filter((i) => i.status === 'fail');
  const invariantCount = report.invariants.filter((i) => !i.id.startsWith('expect ')).length;
  const expectations = report.invariants.length - invariantCount;
  out.push(
    failed.length === 0
      ? `Result: PASS, ${invariantCount} invariants and ${expectations} expectations hold`
      : `Result: FAIL, ${failed.length} of ${report.invariants.length} checks failed: ${failed.map((f) => f.id).join(', ')}`,
  );
  return `${out.join('\n')}\n`;
}
