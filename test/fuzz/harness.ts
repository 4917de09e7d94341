// Runs one fuzz target over generated inputs: every input is timed (a hang is an input slower than
// the bound twice in a row), the heap is checked after a full GC every `heapEvery` inputs, and every
// failing input (throw, property violation, hang) is written to test/fixtures/fuzz-regressions/ so
// the regression test replays it forever.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const REGRESSIONS_DIR = new URL('../fixtures/fuzz-regressions/', import.meta.url).pathname;

/** A target: throws (or returns a string) when a property fails. */
export type Target = (input: Uint8Array) => string | undefined;

export interface FuzzFailure {
  kind: 'throw' | 'property' | 'hang';
  detail: string;
  file: string;
}

export interface FuzzReport {
  target: string;
  iterations: number;
  failures: FuzzFailure[];
  slowestMs: number;
  /** heapUsed after GC at the start and at each check (bytes). */
  heap: number[];
  elapsedMs: number;
}

export interface FuzzOptions {
  name: string;
  target: Target;
  next: () => Uint8Array;
  iterations: number;
  /** Per-input bound: far above any legitimate input (microseconds to a few ms) on a loaded box. */
  maxMsPerInput?: number;
  heapEvery?: number;
  /** Write failing inputs to the regressions folder (default true). */
  save?: boolean;
}

let gcFn: (() => void) | undefined;
/** A full GC without --expose-gc on the command line (the vitest fork was started without it). */
export function fullGc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

export function heapAfterGc(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** The iteration count: FUZZ_ITERATIONS scales every target for long runs. */
export function iterations(defaultCount: number): number {
  const env = Number(process.env.FUZZ_ITERATIONS);
  return Number.isFinite(env) && env > 0 ? Math.floor(env) : defaultCount;
}

export function saveRegression(target: string, input: Uint8Array): string {
  if (!existsSync(REGRESSIONS_DIR)) mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  const file = join(REGRESSIONS_DIR, `${target}-${hash}.bin`);
  writeFileSync(file, input);
  return file;
}

/** Runs the target once; a thrown error or a returned string is a failure description. */
export function runOnce(
  target: Target,
  input: Uint8Array,
): { problem?: FuzzFailure['kind']; detail?: string; ms: number } {
  const t0 = performance.now();
  try {
    const r = target(input);
    const ms = performance.now() - t0;
    return typeof r === 'string' ? { problem: 'property', detail: r, ms } : { ms };
  } catch (e) {
    const ms = performance.now() - t0;
    const detail =
      e instanceof Error
        ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}`
        : String(e);
    return { problem: 'throw', detail, ms };
  }
}

export function fuzz(o: FuzzOptions): FuzzReport {
  const maxMs = o.maxMsPerInput ?? 500;
  const heapEvery = o.heapEvery ?? 2000;
  const report: FuzzReport = {
    target: o.name,
    iterations: 0,
    failures: [],
    slowestMs: 0,
    heap: [heapAfterGc()],
    elapsedMs: 0,
  };
  const start = performance.now();
  for (let i = 0; i < o.iterations; i++) {
    const input = o.next();
    let r = runOnce(o.target, input);
    // One slow run can be a GC pause or the other 7 helpers' load: a hang is slow twice.
    if (!r.problem && r.ms > maxMs) {
      const again = runOnce(o.target, input);
      if (again.ms > maxMs)
        r = {
          problem: 'hang',
          detail: `${r.ms.toFixed(0)} ms, then ${again.ms.toFixed(0)} ms (bound ${maxMs} ms)`,
          ms: again.ms,
        };
      else r = again; // the input is fast: the first run met a pause
    }
    report.slowestMs = Math.max(report.slowestMs, r.ms);
    report.iterations++;
    if (r.problem) {
      const file = o.save === false ? '' : saveRegression(o.name, input);
      report.failures.push({ kind: r.problem, detail: r.detail ?? '', file });
      if (report.failures.length >= 10) break; // enough to fix; do not flood the folder
    }
    if ((i + 1) % heapEvery === 0) report.heap.push(heapAfterGc());
  }
  report.heap.push(heapAfterGc());
  report.elapsedMs = performance.now() - start;
  return report;
}

export function describeReport(r: FuzzReport): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return (
    `fuzz ${r.target}: ${r.iterations} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, slowest ${r.slowestMs.toFixed(1)} ms, ` +
    `heap ${mb(r.heap[0])} -> ${mb(r.heap[r.heap.length - 1])} MB (max ${mb(Math.max(...r.heap))}), failures ${r.failures.length}` +
    r.failures.map((f) => `\n  ${f.kind}: ${f.detail.split('\n')[0]} -> ${f.file}`).join('')
  );
}
