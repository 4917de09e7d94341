// `npm run bench`: runs every test/bench/*.bench.ts in its own process, one after the other, so that
// one benchmark's garbage and JIT state do not colour the next one's figures. Each benchmark's
// headline figures (SUMMARY lines, see summary.ts) are collected into one table printed at the end:
// the summary at the top of BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SUMMARY_PREFIX, type SummaryRow, summaryTable } from './summary.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

function runOne(file: string, rows: SummaryRow[]): Promise<number | null> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, file)], {
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith(SUMMARY_PREFIX)) rows.push(JSON.parse(line.slice(SUMMARY_PREFIX.length)));
    else console.log(line);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

let failed = 0;
const rows: SummaryRow[] = [];
for (const f of files) {
  // This machine is shared: the load when a benchmark starts says how much to trust its absolutes.
  console.log(`\n=== ${f} (load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores) ===`);
  const status = await runOne(f, rows);
  if (status !== 0) {
    failed++;
    console.log(`${f} failed with status ${status}`);
  }
}
if (rows.length > 0) console.log(`\n=== summary (${new Date().toISOString()}) ===\n${summaryTable(rows)}`);
process.exit(failed ? 1 : 0);
