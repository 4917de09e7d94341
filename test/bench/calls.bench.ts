// Call setup time through a PeerPBX gateway peer vs a Kamailio registrar/proxy, side by side on
// loopback: one timing client (this process, a raw UDP socket, performance.now() at send and at
// receipt: sub-millisecond, unlike sipp's own timer) calls a sipp UAS registered as extension 301,
// once through the gateway (routing plan + cached, watched overlay registration) and once through
// Kamailio (usrloc in memory). Same client, same UAS: only the proxy differs. Then the calls per
// second one gateway sustains with 0 failures (sipp UAC at rising rates).
// Run: node --import tsx test/bench/calls.bench.ts [CALLS]   (needs sipp and kamailio)
import { newOffice, overlayAddress, startPbxPeer } from '../calls/harness.ts';
import { freePort } from '../helpers/ports.ts';
import { killAll } from '../helpers/processes.ts';
import { runBench } from './bench-main.ts';
import { startKamailioReference } from './kamailio-reference.ts';
import { TimingClient } from './sip-client.ts';
import { loadStep, registerUas } from './sipp-load.ts';
import { ratio, summary } from './summary.ts';

const CALLS = Number(process.argv[2] ?? 200);
const WARMUP = 20;

function stats(xs: number[]): { median: number; p90: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)],
    p90: s[Math.floor(s.length * 0.9)],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

type Samples = { ringing: number[]; answered: number[] };

async function runCalls(
  client: TimingClient,
  gatewayPort: number,
  kamailioPort: number,
): Promise<{ viaOverlay: Samples; viaKamailio: Samples }> {
  const viaOverlay: Samples = { ringing: [], answered: [] };
  const viaKamailio: Samples = { ringing: [], answered: [] };
  for (let i = 0; i < WARMUP + CALLS; i++) {
    for (const [port, out] of [
      [gatewayPort, viaOverlay],
      [kamailioPort, viaKamailio],
    ] as const) {
      const t = await client.call(2 * i + (port === gatewayPort ? 0 : 1), '301', port);
      if (i < WARMUP) continue;
      out.ringing.push(t.ringing);
      out.answered.push(t.answered);
    }
  }
  return { viaOverlay, viaKamailio };
}

export interface Capacity {
  /** Highest rate (calls/s, 5 s each) with 0 failures, and the first rate that failed. */
  rate: number;
  rateFailedAt: number | null;
  /** Highest number of calls held at once (10 s each) with 0 failures, and the first that failed. */
  concurrent: number;
  concurrentFailedAt: number | null;
}

const RATES = [100, 200, 400, 800, 1600, 3200];
const CONCURRENT = [500, 1000, 2000, 4000, 8000];

/** Calls/s and concurrent calls one proxy sustains with 0 failures; stops each ladder at its first failure. */
async function capacity(
  name: string,
  proxyPort: number,
  uasPort: number,
  ports: () => number,
): Promise<Capacity> {
  const out: Capacity = { rate: 0, rateFailedAt: null, concurrent: 0, concurrentFailedAt: null };
  for (const rate of RATES) {
    const s = await loadStep(proxyPort, uasPort, ports, {
      calls: rate * 5,
      rate,
      holdMs: 100,
      limit: rate * 2,
      label: `${name} ${rate} calls/s x 5 s`,
    });
    if (!s.ok) {
      out.rateFailedAt = rate;
      break;
    }
    out.rate = rate;
  }
  for (const n of CONCURRENT) {
    // Ramp up over 5 s, hold every call 10 s: n calls up at once at the peak.
    const s = await loadStep(proxyPort, uasPort, ports, {
      calls: n,
      rate: Math.ceil(n / 5),
      holdMs: 10_000,
      limit: n,
      label: `${name} ${n} concurrent calls (10 s each)`,
    });
    if (!s.ok) {
      out.concurrentFailedAt = n;
      break;
    }
    out.concurrent = n;
  }
  return out;
}

async function main(): Promise<void> {
  const fmt = (x: number) => x.toFixed(3);
  const client = await TimingClient.open();
  const steps = 2 * (RATES.length + CONCURRENT.length);
  const loadPorts = await Promise.all(Array.from({ length: steps }, () => freePort()));
  const kamailioPorts = await Promise.all(Array.from({ length: steps }, () => freePort()));
  const office = newOffice();
  const gw = await startPbxPeer({
    name: 'gw',
    extension: '101',
    office,
    deskPhones: [{ extension: '301', password: 'pw301' }],
    trust: [client.port, ...loadPorts].map((p) => `127.0.0.1:${p}`),
  });
  // A second member, so the overlay is a real one (the registration may live on either peer).
  const other = await startPbxPeer({
    name: 'other',
    extension: '102',
    office,
    bootstrap: [overlayAddress(gw)],
  });
  const gwPort = Number(gw.ready.sipPort);
  const overlayUas = await registerUas(gwPort, true);
  const kport = await freePort();
  const kamailio = await startKamailioReference(kport);
  const kUas = await registerUas(kport, false);
  // Alternating calls: whatever else the machine does colours both paths alike.
  const { viaOverlay, viaKamailio } = await runCalls(client, gwPort, kport);
  overlayUas.uas.child.kill('SIGTERM');
  kUas.uas.child.kill('SIGTERM');

  const o180 = stats(viaOverlay.ringing);
  const o200 = stats(viaOverlay.answered);
  const k180 = stats(viaKamailio.ringing);
  const k200 = stats(viaKamailio.answered);
  console.log(
    `\ncall setup on loopback, ${CALLS} sequential calls each, alternating paths (after ${WARMUP} warm-up), ms:`,
  );
  console.log('| path | INVITE->180 median | p90 | INVITE->200 median | p90 |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| PeerPBX gateway (overlay registration) | ${fmt(o180.median)} | ${fmt(o180.p90)} | ${fmt(o200.median)} | ${fmt(o200.p90)} |`,
  );
  console.log(
    `| Kamailio 5.6 (usrloc) | ${fmt(k180.median)} | ${fmt(k180.p90)} | ${fmt(k200.median)} | ${fmt(k200.p90)} |`,
  );
  console.log(
    `ratio (median, PeerPBX / Kamailio): 180 ${(o180.median / k180.median).toFixed(2)}, 200 ${(o200.median / k200.median).toFixed(2)}`,
  );

  console.log(
    '\ncapacity with 0 failures (sipp UAC -> proxy -> sipp UAS): gateway peer, then Kamailio the same way:',
  );
  const loadUas = await registerUas(gwPort, true);
  loadUas.uas.child.kill('SIGTERM');
  await loadUas.uas.done;
  const ours = await capacity('gateway', gwPort, loadUas.port, () => loadPorts.shift() ?? 0);
  const kLoadUas = await registerUas(kport, false);
  kLoadUas.uas.child.kill('SIGTERM');
  await kLoadUas.uas.done;
  const ref = await capacity('kamailio', kport, kLoadUas.port, () => kamailioPorts.shift() ?? 0);
  await kamailio.stop();
  const upTo = (n: number, failed: number | null) =>
    failed === null ? `>= ${n} (ladder top)` : `${n} (failures at ${failed})`;
  console.log(
    `sustained calls/s: gateway ${upTo(ours.rate, ours.rateFailedAt)}, Kamailio ${upTo(ref.rate, ref.rateFailedAt)}`,
  );
  console.log(
    `concurrent calls: gateway ${upTo(ours.concurrent, ours.concurrentFailedAt)}, Kamailio ${upTo(ref.concurrent, ref.concurrentFailedAt)}`,
  );
  const cmd = 'npm run bench -- calls';
  summary({
    figure: 'call setup INVITE->180, median ms',
    ours: fmt(o180.median),
    reference: `${fmt(k180.median)} (Kamailio)`,
    ratio: ratio(o180.median, k180.median),
    goal: 'ratio < 1.5',
    command: cmd,
  });
  summary({
    figure: 'call setup INVITE->200, median ms',
    ours: fmt(o200.median),
    reference: `${fmt(k200.median)} (Kamailio)`,
    ratio: ratio(o200.median, k200.median),
    goal: 'ratio < 1.5',
    command: cmd,
  });
  summary({
    figure: 'calls/s with 0 failures (5 s steps)',
    ours: String(ours.rate),
    reference: `${ref.rate} (Kamailio)`,
    ratio: ratio(ours.rate, ref.rate),
    goal: '100 calls with 0 failures (issue 5)',
    command: cmd,
  });
  summary({
    figure: 'concurrent calls with 0 failures (10 s each)',
    ours: String(ours.concurrent),
    reference: `${ref.concurrent} (Kamailio)`,
    ratio: ratio(ours.concurrent, ref.concurrent),
    goal: '-',
    command: cmd,
  });
  await Promise.allSettled([gw, other].map((p) => p.request({ op: 'stop' }, 5000)));
  client.close();
  await killAll();
}

runBench(main);
