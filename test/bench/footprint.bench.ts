// Footprint of a headless peer (`peerpbx run`) holding 10,000 records: resident memory, idle CPU and
// start-up time, beside references measured in the same run: an idle Kamailio 5.6 (registrar +
// proxy, its whole process group) and a bare idle `node` process (the floor of any Node program).
// The 10,000 records are signed by the peer's own identity and written into its data folder before
// it starts (as after a restart). The office has this one PC, so it is responsible for all of them:
// a second PC joining it timed out (20 s) while the 10,000 records were handed over, see
// BENCHMARKS.md.
// Run: node --import tsx test/bench/footprint.bench.ts [RECORDS] [IDLE_SECONDS]
// The peer runs as the installed program does: the compiled bundle (built here first) with the Node
// flags of src/main/bin/peerpbx.js's first line; its start-up is also compared with tsx.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { PeerSigner } from '../../src/main/overlay/peer-signer.ts';
import { freePort } from '../helpers/ports.ts';
import { PEERPBX_NODE_FLAGS, ROOT } from '../helpers/processes.ts';
import { createOffice, dataDirs, runPeer, type Wrap } from '../office/harness.ts';
import { runBench } from './bench-main.ts';
import { startKamailioReference } from './kamailio-reference.ts';
import { cpuPercent, memoryOf, mib, processTree } from './proc-stats.ts';
import { ratio, summary } from './summary.ts';

const RECORDS = Number(process.argv[2] ?? 10_000);
const IDLE_SECONDS = Number(process.argv[3] ?? 20);
const CMD = 'npm run bench -- footprint';
/** The peer as the installed `peerpbx` program runs: with the Node flags of its first line. */
const asProgram: Wrap = ([node, ...rest]) => [node, ...PEERPBX_NODE_FLAGS, ...rest];
/** Built once below; forced, so a source edited during the run does not switch a peer to tsx. */
const COMPILED = { PEERPBX_BUNDLE: '1' };

/** Signs `n` TEST records (a registration-sized value each) as the folder's own user and stores them. */
function preload(dir: string, n: number): number {
  const db = openDataDatabase(dir);
  try {
    const id = loadIdentity(dir, db);
    const signer = new PeerSigner(id.certPem, id.keyPem);
    const value = new TextEncoder().encode('x'.repeat(200));
    const values = Array.from({ length: n }, (_, i) =>
      signer.sign(`${signer.user}/footprint-${i}`, 'TEST', value, 20 * 3600_000, { key: 'v' }),
    );
    db.records.putMany(values);
    return db.records.count();
  } finally {
    db.close();
  }
}

interface Footprint {
  rss: number;
  pss: number;
  cpu: number;
}

async function measure(pid: number): Promise<Footprint> {
  const cpu = await cpuPercent(() => processTree(pid), IDLE_SECONDS * 1000);
  return { ...memoryOf(processTree(pid)), cpu };
}

/** Spawn to exit of `node -e` (the runtime's own start-up), median of 5. */
async function bareNodeStart(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await new Promise((r) => spawn(process.execPath, ['-e', '0']).on('close', r));
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[2];
}

/** Spawn to listening of the peer with no records, compiled bundle vs tsx, alternating; medians. */
async function startupCompiledVsTsx(dir: string, runs = 5): Promise<{ bundle: number; tsx: number }> {
  const times = { bundle: [] as number[], tsx: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['bundle', 'tsx'] as const) {
      const env = mode === 'tsx' ? { PEERPBX_TSX: '1' } : COMPILED;
      const t0 = performance.now();
      const p = await runPeer(dir, { wrap: asProgram, env });
      times[mode].push(performance.now() - t0);
      await p.stop();
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { bundle: median(times.bundle), tsx: median(times.tsx) };
}

async function main(): Promise<void> {
  const dirs = dataDirs(['a', 'empty']);
  await createOffice(dirs.a, 'footprint', '101');
  await createOffice(dirs.empty, 'footprint-empty', '101');
  const t0 = performance.now();
  const held = preload(dirs.a, RECORDS);
  console.log(`preloaded ${RECORDS} signed records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const built = spawnSync(process.execPath, [join(ROOT, 'src/main/build.mjs'), 'cli'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build:cli failed');
  const s0 = performance.now();
  const a = await runPeer(dirs.a, { wrap: asProgram, env: COMPILED });
  const startup = performance.now() - s0;
  // Let start-up work (registration, presence, expiry sweep) finish before calling the peer idle.
  await new Promise((r) => setTimeout(r, 10_000));
  // Counted in its database: `peerpbx status` lists every record and its answer is too long at
  // 10,000 (see BENCHMARKS.md).
  const db = new Database(join(dirs.a, 'peer.db'), { readonly: true });
  const st = { records: { total: db.prepare('SELECT COUNT(*) FROM records').pluck().get() as number } };
  db.close();
  console.log(`peer holds ${st.records.total} records (${held} preloaded)`);
  const pid = a.run.child.pid!;
  // tsx keeps an esbuild service process beside the peer; the compiled bundle runs alone.
  const how = processTree(pid).length > 1 ? 'the TypeScript sources through tsx' : 'the compiled bundle';
  console.log(`peer runs ${how}, node ${PEERPBX_NODE_FLAGS.join(' ')}`);
  const ours = await measure(pid);

  const idleNode = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  await new Promise((r) => setTimeout(r, 1000));
  const node = await measure(idleNode.pid!);
  idleNode.kill();
  const kport = await freePort();
  // Kamailio's default shared memory (64 MiB), as a distribution's package runs it.
  const kamailio = await startKamailioReference(kport, 64);
  const kpid = kamailio.pid;
  await new Promise((r) => setTimeout(r, 2000));
  const kam = await measure(kpid);
  await kamailio.stop();
  const nodeStart = await bareNodeStart();
  await a.stop();
  // The same peer with no records: what the records cost, and what the runtime itself costs.
  const e0 = performance.now();
  const e = await runPeer(dirs.empty, { wrap: asProgram, env: COMPILED });
  const emptyStartup = performance.now() - e0;
  await new Promise((r) => setTimeout(r, 10_000));
  const empty = await measure(e.run.child.pid!);
  await e.stop();
  const ab = await startupCompiledVsTsx(dirs.empty);

  console.log(`\nidle over ${IDLE_SECONDS} s (PSS counts shared pages once across a process group):`);
  console.log('| process | RSS MiB | PSS MiB | CPU % of a core |');
  console.log('|---|---:|---:|---:|');
  for (const [name, f] of [
    [`PeerPBX headless peer, ${st.records.total} records`, ours],
    ['PeerPBX headless peer, its own records only', empty],
    ['Kamailio 5.6 (all processes)', kam],
    ['bare idle node', node],
  ] as const)
    console.log(`| ${name} | ${mib(f.rss)} | ${mib(f.pss)} | ${f.cpu.toFixed(2)} |`);
  console.log(
    `start-up (spawn to listening): ${startup.toFixed(0)} ms with ${st.records.total} records, ${emptyStartup.toFixed(0)} ms with its own only; bare node -e: ${nodeStart.toFixed(0)} ms`,
  );
  console.log(
    `goals: RSS < 80 MB ${ours.rss < 80e6 ? 'met' : 'NOT met'} (${(ours.rss / 1e6).toFixed(1)} MB), idle CPU < 1% ${ours.cpu < 1 ? 'met' : 'NOT met'}`,
  );
  summary({
    figure: `resident memory, peer holding ${RECORDS} records (MiB)`,
    ours: mib(ours.rss),
    reference: `${mib(kam.rss)} Kamailio RSS sum / ${mib(kam.pss)} PSS; bare node ${mib(node.rss)}; our peer with no records ${mib(empty.rss)}`,
    ratio: `${ratio(ours.pss, kam.pss)} (PSS vs Kamailio), ${ratio(ours.rss, node.rss)} (vs bare node)`,
    goal: '< 80 MB',
    command: CMD,
  });
  summary({
    figure: 'idle CPU, % of one core',
    ours: ours.cpu.toFixed(2),
    reference: `${kam.cpu.toFixed(2)} Kamailio; ${node.cpu.toFixed(2)} bare node`,
    ratio: ratio(ours.cpu, kam.cpu),
    goal: '< 1%',
    command: CMD,
  });
  console.log(
    `start-up, peer with no records, medians of 5 alternating: compiled bundle ${ab.bundle.toFixed(0)} ms, tsx ${ab.tsx.toFixed(0)} ms`,
  );
  summary({
    figure: 'start-up to listening, compiled bundle, ms (no records)',
    ours: ab.bundle.toFixed(0),
    reference: `${ab.tsx.toFixed(0)} (the same through tsx, alternating)`,
    ratio: ratio(ab.bundle, ab.tsx),
    goal: '-',
    command: CMD,
  });
  summary({
    figure: `start-up to listening, ms (${RECORDS} records)`,
    ours: startup.toFixed(0),
    reference: `${nodeStart.toFixed(0)} (bare node -e); ${emptyStartup.toFixed(0)} our peer with no records`,
    ratio: ratio(startup, nodeStart, 1),
    goal: '-',
    command: CMD,
  });
}

runBench(main);
