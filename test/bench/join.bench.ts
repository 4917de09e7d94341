// Join-to-callable: from `peerpbx run` being spawned until another peer's `lookup` of its extension
// succeeds, for offices of 2, 5 and 20 peers (median of repeated runs, each run a fresh PC with its own
// extension). Reported separately: the process start-up (spawn until the "listening" line, mostly
// node + tsx loading the sources) and the office part (listening line until the lookup succeeds).
//   node --import tsx test/bench/join.bench.ts [N...]
// As root: every PC is a network namespace on one bridge (test/lan/netns.ts); the new PC finds the
// office by mDNS alone (empty peer cache, no --peer), and the same PC joining with --peer is timed
// in the same office as the reference (runs alternate). Not root (or BENCH_NETNS=0): loopback and
// --peer only. Setup enrolls PCs in process (the CA issues certificates directly); joins by code are
// tested elsewhere (test/office, test/lan/join-fast.test.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaKey } from '../../src/core/security/ca.ts';
import { askPeer } from '../../src/main/control/client.ts';
import { loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { createOffice } from '../../src/main/office/office.ts';
import { enrollFolder } from '../helpers/enroll-folder.ts';
import { killAll } from '../helpers/processes.ts';
import { type LanHost, NetnsLab, rootSkipReason } from '../lan/netns.ts';
import { cliStart } from '../office/harness.ts';
import { inNs } from '../office/lan.ts';
import { ratio, summary } from './summary.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '2000';
const NETNS = process.env.BENCH_NETNS !== '0' && !rootSkipReason();
const PASS = 'bench-passphrase';
const _random = (n: number) => new Uint8Array(randomBytes(n));
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const SIZES = sizes.length > 0 ? sizes : [2, 5, 20];
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const GOAL_MS = 1500;

function enroll(adminDir: string, dir: string, extension: string): void {
  const adb = openDataDatabase(adminDir);
  const admin = loadIdentity(adminDir, adb);
  adb.close();
  const ca = openCaKey(admin.caKeyEncryptedPem!, PASS);
  if (!ca.ok) throw new Error(ca.reason);
  enrollFolder({ ...admin, caKey: ca.privateKey }, dir, extension);
}

interface Started {
  stop: () => Promise<unknown>;
  stderr: () => string;
  listeningMs: number;
  overlay: string;
}

/** Where and how a PC runs: its namespace (netns mode) and how it finds the office. */
interface Placement {
  host?: LanHost;
  /** --peer HOST:PORT, or null: alone (the first PC) or by mDNS. */
  peer: string | null;
  /** Announce and browse by mDNS (netns mode; broadcast stays off so mDNS is what is measured). */
  mdns: boolean;
}

async function start(dir: string, at: Placement, t0 = performance.now()): Promise<Started> {
  const env = { PEERPBX_LOG: process.env.BENCH_LOG ?? 'warn', PEERPBX_DISCOVERY: at.mdns ? 'mdns' : 'off' };
  const bind = at.host?.address ?? '127.0.0.1';
  const args = ['run', '--data', dir, '--bind', bind, '--sip-port', '0', '--overlay-port', '0'];
  if (at.peer) args.push('--peer', at.peer);
  const p = cliStart(args, env, at.host ? inNs(at.host.ns) : undefined);
  for (;;) {
    const m = /overlay tls:\/\/(\S+)[\s\S]*peerpbx listening/.exec(p.stdout());
    if (m) {
      return {
        listeningMs: performance.now() - t0,
        overlay: m[1],
        stderr: () => p.stderr(),
        stop: () => {
          p.child.kill('SIGTERM');
          return p.done;
        },
      };
    }
    if (p.child.exitCode !== null) throw new Error(`peer exited: ${p.stderr().slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function reachable(dir: string, extension: string): Promise<boolean> {
  try {
    const r = (await askPeer(dir, { op: 'lookup', extension }, 15_000)) as { reachable: boolean };
    return r.reachable;
  } catch (e) {
    if (process.env.BENCH_DEBUG) console.error(String(e));
    return false;
  }
}

async function members(dir: string): Promise<number> {
  try {
    const s = (await askPeer(dir, { op: 'status' }, 5000)) as { peers: unknown[] };
    return s.peers.length;
  } catch {
    return 0;
  }
}

const debug = (...a: unknown[]) => {
  if (process.env.BENCH_DEBUG) console.error(...a);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Timing {
  total: number;
  startup: number;
  office: number;
}

interface Row {
  n: number;
  runs: number;
  /** How the new PC finds the office: 'mdns' (netns) or 'peer' (--peer). */
  by: Record<string, Timing>;
}

function medians(totals: number[], startups: number[]): Timing {
  return {
    total: median(totals),
    startup: median(startups),
    office: median(totals.map((t, i) => t - startups[i])),
  };
}

async function bench(n: number): Promise<Row> {
  const root = mkdtempSync(join(tmpdir(), `peerpbx-bench-${n}-`));
  const lab = NETNS ? new NetnsLab() : null;
  const running: Started[] = [];
  try {
    // n - 1 PCs form the office; the n-th (one more namespace) is the one timed, again and again.
    const hosts: Array<LanHost | undefined> = lab ? lab.lan({ hosts: n }) : Array(n).fill(undefined);
    const adminDir = join(root, 'admin');
    createOffice({ dataDir: adminDir, name: `bench${n}`, extension: '100', passphrase: PASS });
    running.push(await start(adminDir, { host: hosts[0], peer: null, mdns: NETNS }));
    debug('admin up', running[0].overlay);
    const first = running[0].overlay;
    const others = Array.from({ length: n - 2 }, (_, i) => join(root, `pc${i}`));
    for (const [i, d] of others.entries()) enroll(adminDir, d, String(200 + i));
    running.push(
      ...(await Promise.all(
        others.map((d, i) => start(d, { host: hosts[i + 1], peer: first, mdns: NETNS })),
      )),
    );
    // Let the office settle (view merges, certificate records) before timing.
    const settle = performance.now();
    while ((await members(adminDir)) < n - 1 && performance.now() - settle < 30_000)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2000));
    const modes = NETNS ? ['mdns', 'peer'] : ['peer'];
    const totals: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
    const startups: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
    for (let i = 0; i < REPEATS; i++) {
      for (const mode of modes) {
        const ext = `${mode === 'mdns' ? 5 : 6}${String(i).padStart(2, '0')}`;
        const dir = join(root, `new-${mode}-${i}`);
        enroll(adminDir, dir, ext);
        const t0 = performance.now();
        const at = mode === 'peer' ? { peer: first, mdns: false } : { peer: null, mdns: true };
        const p = await start(dir, { host: hosts[n - 1], ...at }, t0);
        debug('new peer up', ext, mode);
        while (!(await reachable(adminDir, ext))) {
          if (performance.now() - t0 > 30_000) {
            // What each side sees, to tell a discovery miss from a lookup miss.
            const view = async (d: string) =>
              JSON.stringify(await askPeer(d, { op: 'status' }, 5000).catch((e) => String(e))).slice(0, 1500);
            console.error(
              `new peer: ${await view(dir)}\nadmin: ${await view(adminDir)}\n${p.stderr().slice(-2000)}`,
            );
            throw new Error(`${ext} (${mode}) never became reachable`);
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        totals[mode].push(performance.now() - t0);
        startups[mode].push(p.listeningMs);
        await p.stop();
      }
    }
    const by = Object.fromEntries(modes.map((m) => [m, medians(totals[m], startups[m])]));
    return { n, runs: REPEATS, by };
  } finally {
    for (const r of running) await r.stop().catch(() => undefined);
    await lab?.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Process start-up alone: `peerpbx --help` (node + tsx loading the CLI), median of 5. */
async function bareStartup(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await cliStart(['--help']).done;
    times.push(performance.now() - t0);
  }
  return median(times);
}

const rows: Row[] = [];
const boot = await bareStartup();
try {
  for (const n of SIZES) rows.push(await bench(n));
} finally {
  await killAll();
}
const where = NETNS ? 'network namespaces on a bridge' : 'loopback';
console.log(`join-to-callable (${where}), medians of ${REPEATS} runs, ms`);
console.log(`process start-up alone (peerpbx --help, node + tsx): ${boot.toFixed(0)} ms`);
console.log(
  'peers | found by | spawn->callable | spawn->listening (start-up + overlay join) | listening->callable | ratio to --peer',
);
const ms = (x: number, w: number) => x.toFixed(0).padStart(w);
for (const r of rows)
  for (const [by, t] of Object.entries(r.by))
    console.log(
      `${String(r.n).padStart(5)} | ${by.padEnd(8)} | ${ms(t.total, 15)} | ${ms(t.startup, 42)} | ${ms(t.office, 19)} | ${ratio(t.total, r.by.peer.total).padStart(15)}`,
    );
const largest = rows.at(-1);
if (largest?.by.mdns)
  summary({
    figure: `join to callable by mDNS, ${largest.n} peers (median ms)`,
    ours: largest.by.mdns.total.toFixed(0),
    reference: `${largest.by.peer.total.toFixed(0)} (--peer)`,
    ratio: ratio(largest.by.mdns.total, largest.by.peer.total),
    goal: `under ${GOAL_MS} ms`,
    command: 'npm run bench -- join',
  });
