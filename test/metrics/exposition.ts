/**
 * A reader of the Prometheus text exposition format (0.0.4), enough for tests: `# HELP` and
 * `# TYPE` lines, and samples `name{label="value",...} number`.
 */

/** One sample. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition: the samples and each metric's declared type. */
export interface Exposition {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

/** Parses `text`; throws on a line that is not a comment, a blank or a sample. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      types.set(name, type);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`expected a sample line, got "${line}"`);
    const [, name = '', body = '', value = ''] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let m = LABEL.exec(body); m !== null; m = LABEL.exec(body)) {
      labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = LABEL.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`expected labels name="value",..., got "{${body}}"`);
    samples.push({ name, labels, value: Number(value) });
  }
  return { samples, types };
}

/** The samples of `name`, as `label values joined by "," → value` (labels in key order). */
export function series(exposition: Exposition, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of exposition.samples) {
    if (s.name !== name) continue;
    const key = Object.keys(s.labels)
      .sort()
      .map((k) => `${k}=${s.labels[k]}`)
      .join(',');
    out[key] = s.value;
  }
  return out;
}
