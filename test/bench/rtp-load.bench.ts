// RTP loss and pacing under load: the user of a gateway peer is on a call (its softphone answers and
// plays a tone; the SDP points its RTP at the kernel-timestamp receiver) while the same peer proxies
// a sipp load (desk-phone calls at RATE/s, each held 5 s: about 5 x RATE calls up at once). The
// reference is the same call on the same peer with no load, in the same run.
// Run: node --import tsx test/bench/rtp-load.bench.ts [SECONDS] [RATE]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav } from '../../src/core/media/wav.ts';
import { newOffice, overlayAddress, startPbxPeer } from '../calls/harness.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/processes.ts';
import { runBench } from './bench-main.ts';
import { type PhaseResult, Receiver } from './rtp-receiver.ts';
import { TimingClient } from './sip-client.ts';
import { loadStep, registerUas } from './sipp-load.ts';
import { ratio, summary } from './summary.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const RATE = Number(process.argv[3] ?? 200);
const HOLD_MS = 5000;

/** A 1 s 440 Hz tone, 8 kHz mono 16-bit PCM (the softphone loops it). */
function toneWav(): string {
  const samples = Int16Array.from({ length: 8000 }, (_, i) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
  );
  const file = join(tempDir('rtp-load-'), 'tone.wav');
  writeFileSync(file, encodeWav({ sampleRate: 8000, samples }));
  return file;
}

async function main(): Promise<void> {
  const { rx, port: rxPort, kind } = await Receiver.start();
  const client = await TimingClient.open();
  const loadPorts = await Promise.all([1, 2, 3].map(() => freePort()));
  const office = newOffice();
  const gw = await startPbxPeer({
    name: 'gw',
    extension: '101',
    office,
    deskPhones: [{ extension: '301', password: 'pw301' }],
    trust: [client.port, ...loadPorts].map((p) => `127.0.0.1:${p}`),
    autoAnswer: true,
    play: toneWav(),
  });
  const other = await startPbxPeer({
    name: 'other',
    extension: '102',
    office,
    bootstrap: [overlayAddress(gw)],
  });
  const gwPort = Number(gw.ready.sipPort);
  const uas = await registerUas(gwPort, true);
  uas.uas.child.kill('SIGTERM');
  await uas.uas.done;
  const mediaCall = (n: number) => client.call(n, '101', gwPort, { port: rxPort, holdMs: SECONDS * 1000 });

  await rx.report(); // start clean
  await mediaCall(1);
  await new Promise((r) => setTimeout(r, 300));
  const idle = await rx.report();

  // The load runs 5 s (ramp to full concurrency) before the media call and past its end.
  let call = 2;
  const load = loadStep(gwPort, uas.port, () => loadPorts.shift() ?? 0, {
    calls: RATE * (SECONDS + 8),
    rate: RATE,
    holdMs: HOLD_MS,
    limit: RATE * 10,
    label: `load ${RATE} calls/s held ${HOLD_MS / 1000} s`,
    attempts: 1,
  });
  await new Promise((r) => setTimeout(r, HOLD_MS));
  await mediaCall(call++);
  await new Promise((r) => setTimeout(r, 300));
  const loaded = await rx.report();
  const loadOk = (await load).ok;
  rx.stop();
  client.close();
  await Promise.allSettled([gw, other].map((p) => p.request({ op: 'stop' }, 5000)));

  // A call needs 50 packets a second: packets the sender never sent in time count like lost ones.
  const lost = (x: PhaseResult) => x.expected - x.received;
  const missing = (x: PhaseResult) => Math.max(lost(x), SECONDS * 50 - x.received);
  const row = (name: string, x: PhaseResult) =>
    `| ${name} | ${x.received} | ${lost(x)} | ${missing(x)} | ${x.p50.toFixed(3)} | ${x.p99.toFixed(3)} | ${x.max.toFixed(3)} |`;
  console.log(`\nthe gateway user's call, ${SECONDS} s of RTP each (${kind}):`);
  console.log(
    `| phase | packets | lost (seq gaps) | missing of ${SECONDS * 50} | p50 ms | p99 ms | max ms |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  console.log(row('gateway idle (reference)', idle));
  console.log(row(`gateway carrying ${RATE} calls/s (~${(RATE * HOLD_MS) / 1000} up)`, loaded));
  console.log(`load step: ${loadOk ? '0 failures' : 'had failures'}`);
  const lossPct = (x: PhaseResult) => (100 * missing(x)) / (SECONDS * 50);
  summary({
    figure: `RTP missing (lost or not sent in time) from a call on a gateway carrying ${RATE} calls/s (~${(RATE * HOLD_MS) / 1000} up), %`,
    ours: `${lossPct(loaded).toFixed(2)} (p99 pacing ${loaded.p99.toFixed(2)} ms)`,
    reference: `${lossPct(idle).toFixed(2)} (p99 ${idle.p99.toFixed(2)} ms), same call, gateway idle`,
    ratio: `p99 ${ratio(loaded.p99, idle.p99)}`,
    goal: 'no loss; p99 < 2 ms',
    command: 'npm run bench -- rtp-load',
  });
}

runBench(main);
