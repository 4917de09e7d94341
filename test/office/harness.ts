// Office processes for tests: the real `peerpbx` CLI with test-friendly environment (a cheap CA-key
// KDF, the admin passphrase, discovery narrowed per test). Every child goes through
// test/helpers/processes.ts so killAll() reaps it.
import { join } from 'node:path';
import { type Finished, PEERPBX, type Running, start, tempDir, waitFor } from '../helpers/processes.ts';

export const PASSPHRASE = 'test-admin-passphrase';

export const BASE_ENV: NodeJS.ProcessEnv = {
  PEERPBX_CA_KDF_ITERATIONS: '2000',
  PEERPBX_PASSPHRASE: PASSPHRASE,
  PEERPBX_DISCOVERY: 'off',
  PEERPBX_JOIN_DISCOVER_MS: '500',
};

/** A command line to run; `wrap` puts it inside another (e.g. `ip netns exec NS`). */
export type Wrap = (argv: string[]) => string[];
const direct: Wrap = (argv) => argv;

export function cliStart(args: string[], env: NodeJS.ProcessEnv = {}, wrap: Wrap = direct): Running {
  const [cmd, ...rest] = wrap([process.execPath, PEERPBX, ...args]);
  return start(cmd, rest, { env: { ...BASE_ENV, ...env } });
}

export async function cli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; wrap?: Wrap } = {},
): Promise<Finished> {
  const p = cliStart(args, opts.env, opts.wrap);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const r = await p.done;
  clearTimeout(timer);
  return r;
}

export async function mustSucceed(args: string[], opts: Parameters<typeof cli>[1] = {}): Promise<Finished> {
  const r = await cli(args, opts);
  if (r.code !== 0) throw new Error(`peerpbx ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-1500)}`);
  return r;
}

export function lastWord(s: string): string {
  const words = s.trim().split(/\s+/);
  return words[words.length - 1];
}

export interface OfficePeer {
  dataDir: string;
  run: Running;
  nodeId: string;
  overlayPort: number;
  /** host:port of the overlay listener as printed. */
  overlay: string;
  stop(): Promise<Finished>;
}

/** `peerpbx run` on a data folder; resolves once both listening lines are out. */
export async function runPeer(
  dataDir: string,
  opts: { bind?: string; extra?: string[]; env?: NodeJS.ProcessEnv; wrap?: Wrap; overlayPort?: number } = {},
): Promise<OfficePeer> {
  const run = cliStart(
    [
      'run',
      '--data',
      dataDir,
      '--bind',
      opts.bind ?? '127.0.0.1',
      '--sip-port',
      '0',
      '--overlay-port',
      String(opts.overlayPort ?? 0),
      ...(opts.extra ?? []),
    ],
    opts.env,
    opts.wrap,
  );
  let exited: Finished | null = null;
  run.done.then((f) => {
    exited = f;
  });
  const m = await waitFor(
    `office peer on ${dataDir}`,
    () => {
      if (exited) throw new Error(`peer exited early (${exited.code}): ${exited.stderr.slice(-2000)}`);
      if (!/peerpbx listening: sip/.test(run.stdout())) return null;
      return /node ([0-9a-f]+) overlay tls:\/\/(\S+):(\d+)/.exec(run.stdout());
    },
    40_000,
  );
  return {
    dataDir,
    run,
    nodeId: m[1],
    overlayPort: Number(m[3]),
    overlay: `${m[2]}:${m[3]}`,
    stop: () => {
      run.child.kill('SIGTERM');
      return run.done;
    },
  };
}

export function dataDirs(names: string[]): Record<string, string> {
  const root = tempDir('peerpbx-office-');
  return Object.fromEntries(names.map((n) => [n, join(root, n)]));
}

/** Creates an office in `dir` and returns a function that invites + joins other folders through `admin`. */
export async function createOffice(dir: string, name: string, extension: string, opts: { wrap?: Wrap } = {}) {
  await mustSucceed(['office', 'create', '--data', dir, '--name', name, '--extension', extension], opts);
}

export async function invite(
  adminDir: string,
  extension: string,
  opts: { wrap?: Wrap } = {},
): Promise<string> {
  const r = await mustSucceed(['office', 'invite', '--data', adminDir, '--extension', extension], opts);
  return lastWord(r.stdout);
}

/** Polls `lookup` until it exits 0 (or the deadline). */
export async function lookupUntilFound(
  dataDir: string,
  extension: string,
  opts: { timeoutMs?: number; wrap?: Wrap } = {},
): Promise<Finished> {
  const end = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const r = await cli(['lookup', '--data', dataDir, '--extension', extension, '--json'], {
      wrap: opts.wrap,
    });
    if (r.code === 0 || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 300));
  }
}
