// One line per headline figure, printed by each benchmark and collected by run.ts into the summary
// table at the top of BENCHMARKS.md: the figure, ours, the reference measured in the same run, the
// ratio, the goal and the command that reproduces it.

export interface SummaryRow {
  figure: string;
  ours: string;
  reference: string;
  /** ours / reference, or '' where a ratio means nothing. */
  ratio: string;
  goal: string;
  command: string;
}

export const SUMMARY_PREFIX = 'SUMMARY ';

export function summary(row: SummaryRow): void {
  console.log(`${SUMMARY_PREFIX}${JSON.stringify(row)}`);
}

export function ratio(ours: number, reference: number, digits = 2): string {
  return reference > 0 && Number.isFinite(ours) ? (ours / reference).toFixed(digits) : 'n/a';
}

export function summaryTable(rows: SummaryRow[]): string {
  const lines = [
    '| figure | ours | reference (same run) | ratio | goal | command |',
    '|---|---:|---:|---:|---|---|',
    ...rows.map(
      (r) => `| ${r.figure} | ${r.ours} | ${r.reference} | ${r.ratio} | ${r.goal} | \`${r.command}\` |`,
    ),
  ];
  return lines.join('\n');
}
