/**
 * A tiny argv reader for the bench cases: `--key value` and `--key=value`; a bare `--flag` is
 * `true`. Cases are started by bench/run.ts, so the parsing stays minimal.
 */
export interface Args {
  string(key: string, fallback: string): string;
  number(key: string, fallback: number): number;
  flag(key: string): boolean;
}

export function parseArgs(argv: readonly string[] = process.argv.slice(2)): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('--')) continue;
    const eq = token.indexOf('=');
    if (eq >= 0) {
      values.set(token.slice(2, eq), token.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      values.set(token.slice(2), next);
      i++;
    } else {
      values.set(token.slice(2), 'true');
    }
  }
  return {
    string: (key, fallback) => values.get(key) ?? fallback,
    number(key, fallback) {
      const raw = values.get(key);
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`Expected --${key} to be a number, got "${raw}"`);
      return n;
    },
    flag: (key) => values.get(key) === 'true',
  };
}
