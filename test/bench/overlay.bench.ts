// Overlay benchmark on the deterministic simulator: for N = 10, 100, 1,000 and 10,000 peers, lookup
// hops (mean, p99), maintenance messages per peer per minute, heap per peer, and the simulated time
// to restore 3 copies after a crash. Run: node --expose-gc --import tsx test/bench/overlay.bench.ts [N...]

import { growOverlay, storeAll, testValue, underReplicated } from '../sim/sim-helpers.ts';
import { SimNetwork, seededRandom, successorIndex, trueHolders } from '../sim/sim-network.ts';

const VIEW_CAP_LARGE = Number(process.env.VIEW_CAP ?? 300);
const MAINTENANCE = ['ping', 'pong', 'view-digest', 'view', 'digest', 'digest-ack', 'sync'] as const;

function heap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function randomKey(rng: () => number): string {
  let s = '';
  for (let i = 0; i < 4; i++)
    s += Math.floor(rng() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return s;
}

interface Row {
  n: number;
  meanHops: number;
  meanRemoteHops: number;
  p99Hops: number;
  lookupsOk: string;
  maintPerPeerMin: number;
  heapPerPeerKb: number;
  restoreMs: number | null;
  joinSimS: number;
  wallS: number;
}

function run(n: number): Row {
  const wall = Date.now();
  const rng = seededRandom(n);
  const h0 = heap();
  // Past 1,000 peers the view is bounded (random sample + neighbours + fingers); the cap is kept
  // lower than the product default at 10,000 so that 10,000 simulated peers fit one process.
  const net = new SimNetwork({ seed: n, config: n > 1000 ? { maxView: VIEW_CAP_LARGE } : {} });
  net.keepEvents = false;
  growOverlay(net, n, n > 1000 ? 2 : 10, 5000, rng);
  const joinSim = net.now;
  if (n <= 1000)
    net.runUntilTrue(() => net.livePeers().every((p) => p.node.table.liveCount === n - 1), 30_000, 1000);
  const heapPerPeer = (heap() - h0) / n;

  // Maintenance traffic in steady state.
  const before = { ...net.delivered };
  const windowMs = 20_000;
  net.runFor(windowMs);
  let maint = 0;
  for (const t of MAINTENANCE) maint += (net.delivered[t] ?? 0) - (before[t] ?? 0);
  const maintPerPeerMin = maint / n / (windowMs / 60_000);

  // Lookups.
  const ring = net.trueRing();
  const lookups = Math.min(5000, 20 * n);
  const reqs = [];
  for (let i = 0; i < lookups; i++) {
    const p = ring[Math.floor(rng() * ring.length)];
    const key = randomKey(rng);
    reqs.push({ p, key, id: net.command(p.index, (node, now) => node.lookup(now, key)) });
  }
  net.runFor(5000);
  const hops: number[] = [];
  let correct = 0;
  for (const r of reqs) {
    const res = r.p.results.get(r.id);
    if (!res?.ok || res.op !== 'lookup') continue;
    if (res.responsible === ring[successorIndex(ring, r.key)].id) correct++;
    hops.push(res.hops);
  }
  hops.sort((a, b) => a - b);
  const remote = hops.filter((h) => h > 0);

  // Crash one record holder; time until every record is back at 3 copies.
  const values = Array.from({ length: Math.min(2000, 2 * n) }, (_, i) =>
    testValue(`b${i}@office`, `v${i}`, net.now),
  );
  storeAll(net, values, rng);
  net.runFor(2000);
  // The victim is the responsible peer of a stored record, so there is something to restore.
  const victim = trueHolders(net.trueRing(), values[Math.floor(rng() * values.length)].resourceId)[0];
  net.crash(victim.index);
  const start = net.now;
  const done = net.runUntilTrue(() => underReplicated(net, values).length === 0, 60_000, 250);

  return {
    n,
    meanHops: hops.reduce((a, b) => a + b, 0) / hops.length,
    meanRemoteHops: remote.reduce((a, b) => a + b, 0) / Math.max(1, remote.length),
    p99Hops: hops[Math.floor(hops.length * 0.99)] ?? 0,
    lookupsOk: `${correct}/${lookups}`,
    maintPerPeerMin,
    heapPerPeerKb: heapPerPeer / 1024,
    restoreMs: done === null ? null : done - start,
    joinSimS: joinSim / 1000,
    wallS: (Date.now() - wall) / 1000,
  };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
const rows: Row[] = [];
for (const n of sizes.length > 0 ? sizes : [10, 100, 1000, 10_000]) {
  const row = run(n);
  rows.push(row);
  const goal = n <= 1000 ? 1.0 : 0.5 * Math.log2(n) + 1;
  const met = n <= 1000 ? row.meanRemoteHops <= 1.0 + 1e-9 : row.meanRemoteHops <= goal;
  console.log(
    [
      `N=${String(n).padStart(6)}`,
      `hops mean ${row.meanHops.toFixed(3)} (remote ${row.meanRemoteHops.toFixed(3)}, goal ${n <= 1000 ? '1.0' : `<= ${goal.toFixed(2)}`}: ${met ? 'met' : 'MISSED'})`,
      `p99 ${row.p99Hops}`,
      `lookups correct ${row.lookupsOk}`,
      `maintenance ${row.maintPerPeerMin.toFixed(0)} msg/peer/min`,
      `heap ${row.heapPerPeerKb.toFixed(1)} KiB/peer`,
      `3 copies restored ${row.restoreMs === null ? 'NOT within 60 s' : `in ${(row.restoreMs / 1000).toFixed(2)} s`} (simulated)`,
      `[join ${row.joinSimS.toFixed(0)} s simulated, wall ${row.wallS.toFixed(1)} s]`,
    ].join(' | '),
  );
}
console.log(
  '\n| N | mean hops (remote) | p99 hops | goal | maintenance msg/peer/min | heap KiB/peer | 3 copies restored after crash |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const goal = r.n <= 1000 ? '1.0' : `<= ${(0.5 * Math.log2(r.n) + 1).toFixed(2)}`;
  console.log(
    `| ${r.n} | ${r.meanHops.toFixed(2)} (${r.meanRemoteHops.toFixed(2)}) | ${r.p99Hops} | ${goal} | ${r.maintPerPeerMin.toFixed(0)} | ${r.heapPerPeerKb.toFixed(1)} | ${r.restoreMs === null ? 'not in 60 s' : `${(r.restoreMs / 1000).toFixed(1)} s`} |`,
  );
}
