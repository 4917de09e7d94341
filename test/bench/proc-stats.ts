// Linux /proc readings for the footprint and load benchmarks: a process tree's resident and
// proportional memory, and its CPU share over a window.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function field(path: string, name: string): number {
  try {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(path, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident set (RSS, shared pages counted in each process) and proportional set (PSS) in bytes. */
export function memoryOf(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    rss += field(`/proc/${p}/status`, 'VmRSS');
    pss += field(`/proc/${p}/smaps_rollup`, 'Pss');
  }
  return { rss, pss };
}

function cpuTicks(pids: number[]): number {
  let t = 0;
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]); // utime + stime
    } catch {}
  }
  return t;
}

/** Percent of one core used by `pids` over the next `ms` milliseconds. */
export async function cpuPercent(pids: () => number[], ms: number): Promise<number> {
  const t0 = cpuTicks(pids());
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const t1 = cpuTicks(pids());
  return ((t1 - t0) / TICKS / ((performance.now() - w0) / 1000)) * 100;
}

export const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
