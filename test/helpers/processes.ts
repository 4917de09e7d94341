// Child processes for tests: the real `peerpbx` CLI and sipp. Every process started here is
// remembered and killed by killAll() (call it in afterAll/afterEach) so no test leaves one behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PEERPBX = join(ROOT, 'src/main/bin/peerpbx.js');
/** The Node flags `peerpbx` runs with when started as a program (its `#!/usr/bin/env -S node ...` line). */
export const PEERPBX_NODE_FLAGS: string[] = (
  /^#!.*\bnode\b(.*)$/m.exec(readFileSync(PEERPBX, 'utf8').split('\n')[0])?.[1] ?? ''
)
  .split(' ')
  .filter(Boolean);

const live = new Set<ChildProcess>();

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<Finished>;
}

export function start(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Running {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: 'pipe',
  });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    // Keep the tail only: a peer under a hostile storm may log a lot.
    err = (err + d).slice(-200_000);
  });
  const done = new Promise<Finished>((resolveDone) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolveDone({ code, signal, stdout: out, stderr: err });
    });
    child.on('error', (e) => {
      live.delete(child);
      resolveDone({ code: -1, signal: null, stdout: out, stderr: `${err}${e.message}` });
    });
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs to completion with a deadline (then SIGKILL). */
export async function run(cmd: string, args: string[], timeoutMs = 60_000, cwd?: string): Promise<Finished> {
  const p = start(cmd, args, { cwd });
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const r = await p.done;
  clearTimeout(timer);
  return r;
}

export function runCli(args: string[], timeoutMs = 30_000): Promise<Finished> {
  return run(process.execPath, [PEERPBX, ...args], timeoutMs);
}

export async function killAll(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of live) {
    waits.push(new Promise((r) => child.once('close', r)));
    child.kill('SIGKILL');
  }
  await Promise.all(waits);
}

export function tempDir(prefix = 'peerpbx-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface PeerProcess extends Running {
  port: number;
  host: string;
  pid: number;
  dataDir: string;
  stop: () => Promise<Finished>;
}

/** Starts `peerpbx run` on a free port and waits for its "listening" line. */
export async function startPeer(
  extra: string[] = [],
  dataDir = tempDir(),
  env: NodeJS.ProcessEnv = {},
): Promise<PeerProcess> {
  const p = start(
    process.execPath,
    [PEERPBX, 'run', '--data', dataDir, '--bind', '127.0.0.1', '--sip-port', '0', ...extra],
    { env },
  );
  let exited: Finished | null = null;
  p.done.then((f) => {
    exited = f;
  });
  const m = await waitFor('peer listening line', () => {
    if (exited) throw new Error(`peer exited early (${exited.code}): ${exited.stderr.slice(-2000)}`);
    return /sip udp:\/\/([^ ]+):(\d+) /.exec(p.stdout());
  });
  return {
    ...p,
    host: m[1],
    port: Number(m[2]),
    pid: p.child.pid!,
    dataDir,
    stop: async () => {
      p.child.kill('SIGTERM');
      return p.done;
    },
  };
}

/** Resident set size of a process in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}
