/** Formatting and statistics shared by every benchmark: one table per result, ratios spelled out. */

/** The p-th percentile (0–100) of samples, nearest-rank; NaN when there are none. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
};

export const fmtInt = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';

export const fmtMs = (ms: number): string => {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
};

export const fmtMiB = (bytes: number): string =>
  Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : 'n/a';

export const fmtRatio = (ours: number, baseline: number): string =>
  baseline > 0 && Number.isFinite(ours) ? `${((ours / baseline) * 100).toFixed(1)} %` : 'n/a';

export const fmtPct = (part: number, whole: number): string =>
  whole > 0 ? `${((part / whole) * 100).toFixed(1)} %` : 'n/a';

export type Row = Record<string, string>;

/** A GitHub-flavoured markdown table: readable in a terminal and pasteable into RESULTS.md as is. */
export const table = (rows: readonly Row[]): string => {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((row) => line(columns.map((c) => row[c] ?? ''))),
  ].join('\n');
};

/** Everything a run prints goes through here, so run.ts can also save it to bench/results/. */
export const output: string[] = [];
export const say = (text = ''): void => {
  output.push(text);
  process.stdout.write(`${text}\n`);
};

/** Progress notes: to stderr, so stdout is only the report. */
export const note = (text: string): void => {
  process.stderr.write(`  … ${text}\n`);
};

export const elapsedMs = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e6;
export const now = (): bigint => process.hrtime.bigint();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
