// sipp (Debian sip-tester) as a child process, with its final counters read from -trace_stat.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Finished, type Running, start, tempDir } from './processes.ts';

export function haveSipp(): boolean {
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // sipp -v exits 99 after printing its version: it is there.
    return (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== 'ENOENT';
  }
}

export interface SippStats {
  successful: number;
  failed: number;
  created: number;
  /** Every cumulative "(C)" column of the stat file, by name without the suffix. */
  counters: Record<string, number>;
}

export interface SippRun extends Running {
  dir: string;
  finish: () => Promise<Finished & { stats: SippStats | null }>;
}

export interface SippOptions {
  /** Built-in scenario (-sn) or scenario file (-sf). */
  scenario: { builtin: string } | { file: string };
  /** Remote host:port for a client scenario. */
  remote?: string;
  localPort: number;
  transport?: 'udp' | 'tcp';
  calls?: number;
  extra?: string[];
}

/** Starts sipp in its own temp folder (its stat and log files land there). */
export function startSipp(o: SippOptions): SippRun {
  const dir = tempDir('sipp-');
  const scen = 'builtin' in o.scenario ? ['-sn', o.scenario.builtin] : ['-sf', o.scenario.file];
  const args = [
    ...scen,
    ...(o.remote ? [o.remote] : []),
    '-i',
    '127.0.0.1',
    '-p',
    String(o.localPort),
    '-t',
    o.transport === 'tcp' ? 't1' : 'u1',
    '-m',
    String(o.calls ?? 20),
    '-l',
    '1',
    '-r',
    '10',
    '-timeout',
    '30s',
    '-nostdin',
    '-trace_stat',
    '-stf',
    'stats.csv',
    '-trace_err',
    ...(o.extra ?? []),
  ];
  const p = start('sipp', args, { cwd: dir });
  return {
    ...p,
    dir,
    finish: async () => {
      const r = await p.done;
      return { ...r, stats: readStats(join(dir, 'stats.csv')) };
    },
  };
}

export function readStats(file: string): SippStats | null {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return null;
  const names = lines[0].split(';');
  const values = lines[lines.length - 1].split(';');
  const counters: Record<string, number> = {};
  names.forEach((n, i) => {
    if (n.endsWith('(C)')) counters[n.slice(0, -3)] = Number(values[i]);
  });
  const total = names.indexOf('TotalCallCreated');
  return {
    successful: counters.SuccessfulCall ?? Number.NaN,
    failed: counters.FailedCall ?? Number.NaN,
    created: total >= 0 ? Number(values[total]) : Number.NaN,
    counters,
  };
}

/** sipp's error log, for assertion messages. */
export function sippErrors(dir: string): string {
  try {
    const files = execFileSync('sh', ['-c', `cat ${dir}/*_errors.log 2>/dev/null | tail -c 3000`]);
    return files.toString();
  } catch {
    return '';
  }
}
