// Join-to-callable: from `peerpbx run` being spawned until another peer's `lookup` of its extension
// succeeds, for offices of 2, 5 and 20 peers (median of repeated runs, each run a fresh PC with its own
// extension). Reported separately: the process start-up (spawn until the "listening" line, mostly
// node + tsx loading the sources) and the office part (listening line until the lookup succeeds).
//   node --import tsx test/bench/join.bench.ts [N...]        BENCH_DISCOVERY=mdns: no --peer, bind 0.0.0.0
// Setup enrolls PCs in process (the CA issues certificates directly); joins by code are tested
// elsewhere (test/office).
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaKey } from '../../src/core/security/ca.ts';
import { createCsr, issueCertificate } from '../../src/core/security/certificates.ts';
import { askPeer } from '../../src/main/control/client.ts';
import {
  generatePeerKeys,
  loadIdentity,
  openDataDatabase,
  saveIdentity,
} from '../../src/main/identity/identity.ts';
import { createOffice } from '../../src/main/office/office.ts';
import { killAll } from '../helpers/processes.ts';
import { cliStart } from '../office/harness.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '2000';
const MDNS = process.env.BENCH_DISCOVERY === 'mdns';
const PASS = 'bench-passphrase';
const random = (n: number) => new Uint8Array(randomBytes(n));
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const SIZES = sizes.length > 0 ? sizes : [2, 5, 20];
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);

function enroll(adminDir: string, dir: string, extension: string): void {
  const adb = openDataDatabase(adminDir);
  const admin = loadIdentity(adminDir, adb);
  adb.close();
  const ca = openCaKey(admin.caKeyEncryptedPem!, PASS);
  if (!ca.ok) throw new Error(ca.reason);
  const keys = generatePeerKeys();
  const user = `${extension}@${admin.office}`;
  const cert = issueCertificate({
    caCertificatePem: admin.caPem,
    caPrivateKey: ca.privateKey,
    csrPem: createCsr(keys, user),
    user,
    now: Date.now(),
    random,
  });
  if (!cert.ok) throw new Error(cert.reason);
  const db = openDataDatabase(dir);
  saveIdentity(dir, db, {
    office: admin.office,
    extension,
    caFingerprint: admin.caFingerprint,
    admin: false,
    enrolledAt: Date.now(),
    caPem: admin.caPem,
    certPem: cert.certificatePem,
    keyPem: keys.privateKeyPem,
  });
  db.close();
}

interface Started {
  stop: () => Promise<unknown>;
  listeningMs: number;
  overlay: string;
}

async function start(dir: string, peer: string | null, t0 = performance.now()): Promise<Started> {
  const env = MDNS ? { PEERPBX_DISCOVERY: '' } : {};
  const args = [
    'run',
    '--data',
    dir,
    '--bind',
    MDNS ? '0.0.0.0' : '127.0.0.1',
    '--sip-port',
    '0',
    '--overlay-port',
    '0',
  ];
  if (peer && !MDNS) args.push('--peer', peer);
  const p = cliStart(args, { ...env, PEERPBX_LOG: 'warn' });
  for (;;) {
    const m = /overlay tls:\/\/(\S+)[\s\S]*peerpbx listening/.exec(p.stdout());
    if (m) {
      return {
        listeningMs: performance.now() - t0,
        overlay: m[1],
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
    const r = (await askPeer(dir, { op: 'lookup', extension }, 5000)) as { reachable: boolean };
    return r.reachable;
  } catch (e) {
    if (process.env.BENCH_DEBUG) console.error(String(e));
    return false;
  }
}

const debug = (...a: unknown[]) => {
  if (process.env.BENCH_DEBUG) console.error(...a);
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function bench(
  n: number,
): Promise<{ n: number; total: number; startup: number; office: number; runs: number }> {
  const root = mkdtempSync(join(tmpdir(), `peerpbx-bench-${n}-`));
  const adminDir = join(root, 'admin');
  createOffice({ dataDir: adminDir, name: `bench${n}`, extension: '100', passphrase: PASS });
  const running: Started[] = [await start(adminDir, null)];
  debug('admin up', running[0].overlay);
  const first = running[0].overlay;
  const others = Array.from({ length: n - 2 }, (_, i) => join(root, `pc${i}`));
  for (const [i, d] of others.entries()) enroll(adminDir, d, String(200 + i));
  running.push(...(await Promise.all(others.map((d) => start(d, first)))));
  // Let the office settle (view merges, certificate records) before timing.
  await new Promise((r) => setTimeout(r, 2000));
  const totals: number[] = [];
  const startups: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const ext = String(500 + i);
    const dir = join(root, `new${i}`);
    enroll(adminDir, dir, ext);
    const t0 = performance.now();
    const p = await start(dir, first, t0);
    debug('new peer up', ext);
    while (!(await reachable(adminDir, ext))) {
      if (performance.now() - t0 > 30_000) throw new Error(`${ext} never became reachable`);
      await new Promise((r) => setTimeout(r, 10));
    }
    totals.push(performance.now() - t0);
    startups.push(p.listeningMs);
    await p.stop();
  }
  for (const r of running) await r.stop();
  const total = median(totals);
  const startup = median(startups);
  return { n, total, startup, office: median(totals.map((t, i) => t - startups[i])), runs: REPEATS };
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

const rows = [];
const boot = await bareStartup();
try {
  for (const n of SIZES) rows.push(await bench(n));
} finally {
  await killAll();
}
console.log(
  `join-to-callable (${MDNS ? 'mDNS, bind 0.0.0.0' : 'loopback, --peer'}), medians of ${REPEATS} runs, ms`,
);
console.log(`process start-up alone (peerpbx --help, node + tsx): ${boot.toFixed(0)} ms`);
console.log('peers | spawn->callable | spawn->listening (start-up + overlay join) | listening->callable');
for (const r of rows)
  console.log(
    `${String(r.n).padStart(5)} | ${r.total.toFixed(0).padStart(15)} | ${r.startup.toFixed(0).padStart(42)} | ${r.office.toFixed(0).padStart(19)}`,
  );
