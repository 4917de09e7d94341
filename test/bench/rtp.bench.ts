// RTP sender pacing and loss under load, measured where it matters: on the receive side, by a UDP
// receiver in its own process (so the senders' event loop does not colour its timestamps).
//   pacing: each packet's arrival against the ideal 20 ms grid of its stream (offset removed by
//   the median), p50/p99/max of |deviation|; our FrameClock-driven MediaSession next to a plain
//   setInterval(20) sender in the same run.
//   load: N concurrent MediaSessions on the shared clock; loss from RTP sequence gaps.
//   Each run twice: default scheduling, and SCHED_FIFO (chrt) as a PBX media process would run.
// Run: node --import tsx test/bench/rtp.bench.ts [seconds-per-phase, default 10]
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { cpus, loadavg } from 'node:os';
import { encodeG711 } from '../../src/core/media/g711.ts';
import { encodeRtp } from '../../src/core/media/rtp.ts';
import { createAnswer } from '../../src/core/sdp/offer-answer.ts';
import { createResponse } from '../../src/core/sip/build.ts';
import { parseMessage } from '../../src/core/sip/parse.ts';
import { serializeMessage } from '../../src/core/sip/serialize.ts';
import { FrameClock } from '../../src/main/media/frame-clock.ts';
import { MediaSession } from '../../src/main/media/media-session.ts';
import { RtpPortAllocator, RtpSocketPair } from '../../src/main/media/rtp-socket.ts';
import { ToneSource } from '../../src/main/media/sources.ts';
import { Baresip, stopAllBaresip } from '../helpers/baresip.ts';
import { type PhaseResult, Receiver } from './rtp-receiver.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oursPhase(
  rx: Receiver,
  port: number,
  streams: number,
  seconds: number,
  clock?: FrameClock,
): Promise<PhaseResult> {
  const alloc = new RtpPortAllocator({ min: 33000, max: 36999 });
  const sessions: MediaSession[] = [];
  for (let i = 0; i < streams; i++) {
    const socket = await RtpSocketPair.open('127.0.0.1', alloc);
    sessions.push(
      new MediaSession({
        clock,
        socket,
        codec: { name: 'PCMU', pt: 0 },
        remote: { transport: 'UDP', host: '127.0.0.1', port },
        source: new ToneSource(440),
        symmetric: false,
      }),
    );
  }
  for (const s of sessions) s.start();
  await sleep(seconds * 1000);
  await Promise.all(sessions.map((s) => s.stop()));
  await sleep(200);
  return rx.report();
}

async function setIntervalPhase(rx: Receiver, port: number, seconds: number): Promise<PhaseResult> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const tone = new ToneSource(440);
  let seq = 0;
  let ts = 0;

  const timer = setInterval(() => {
    const data = encodeRtp({
      payloadType: 0,
      sequence: seq++,
      timestamp: ts,
      ssrc: 1,
      payload: encodeG711('PCMU', tone.read(160)),
    });
    ts += 160;
    sock.send(data, port, '127.0.0.1');
  }, 20);
  await sleep(seconds * 1000);
  clearInterval(timer);
  sock.close();
  await sleep(200);
  return rx.report();
}

interface RunResult {
  rows: Array<[string, PhaseResult]>;
  load: number;
  receiver: string;
}

/** One run of every phase, in this process (the receiver in a child, same scheduling policy). */
async function runPhases(): Promise<RunResult> {
  const load = loadavg()[0];
  const { rx, port, kind } = await Receiver.start();
  const rows: Array<[string, PhaseResult]> = [];
  try {
    rows.push(['ours: MediaSession + FrameClock, 1 stream', await oursPhase(rx, port, 1, SECONDS)]);
    const spinning = new FrameClock({ spinMs: 1 });
    rows.push(['ours, FrameClock spinning 1 ms, 1 stream', await oursPhase(rx, port, 1, SECONDS, spinning)]);
    rows.push(['reference: setInterval(20), 1 stream', await setIntervalPhase(rx, port, SECONDS)]);
    const bs = await baresipPhase(rx, port, SECONDS);
    if (bs) rows.push(['reference: baresip 1.0 sender, 1 stream', bs]);
    for (const n of [100, 400]) {
      rows.push([`ours: ${n} concurrent streams`, await oursPhase(rx, port, n, Math.max(5, SECONDS / 2))]);
    }
  } finally {
    rx.stop();
  }
  return { rows, load, receiver: kind };
}

/** Runs this file again as a child (optionally under chrt) and reads its result line. */
function runChild(prefix: string[]): Promise<RunResult | null> {
  const args = [
    ...prefix,
    process.execPath,
    '--import',
    'tsx',
    new URL(import.meta.url).pathname,
    String(SECONDS),
  ];
  return new Promise((resolve) => {
    const child = spawn(args[0], args.slice(1), {
      env: { ...process.env, RTP_BENCH_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.on('error', () => resolve(null));
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      resolve(line ? (JSON.parse(line.slice(7)) as RunResult) : null);
    });
  });
}

/**
 * baresip's own RTP sender as a second reference: a bare SIP answerer points baresip's audio at
 * the receiver (SDP answer with the receiver's port), so the same receiver measures it.
 */
async function baresipPhase(rx: Receiver, port: number, seconds: number): Promise<PhaseResult | null> {
  const sip = dgram.createSocket('udp4');
  await new Promise<void>((r) => sip.bind(0, '127.0.0.1', () => r()));
  const sipPort = sip.address().port;
  sip.on('message', (data, rinfo) => {
    const parsed = parseMessage(new Uint8Array(data));
    if (!parsed.ok || parsed.message.type !== 'request') return;
    const req = parsed.message;
    if (req.method === 'ACK') return;
    let res = createResponse(req, 200, undefined, { toTag: 'bench' });
    if (req.method === 'INVITE') {
      const answer = createAnswer(
        req.body,
        { sessionId: 1, sessionVersion: 1 },
        { address: '127.0.0.1', port },
      );
      if (!answer.ok) return;
      res = createResponse(req, 200, undefined, {
        toTag: 'bench',
        headers: [{ name: 'Contact', value: `<sip:bench@127.0.0.1:${sipPort}>` }],
        body: new TextEncoder().encode(answer.value.sdp),
        contentType: 'application/sdp',
      });
    }
    sip.send(serializeMessage(res), rinfo.port, rinfo.address);
  });
  try {
    const b = await Baresip.start({ toneHz: 440, lifetimeSec: seconds + 20 });
    await b.dial(`sip:bench@127.0.0.1:${sipPort}`);
    await b.waitEvent('CALL_ESTABLISHED', 10_000);
    await sleep(seconds * 1000);
    await b.hangup();
    await sleep(200);
    return await rx.report();
  } catch (err) {
    console.error(`baresip phase skipped: ${(err as Error).message.split('\n')[0]}`);
    await rx.report();
    return null;
  } finally {
    await stopAllBaresip();
    sip.close();
  }
}

const fmt = (x: number) => x.toFixed(3).padStart(8);

function printRun(title: string, r: RunResult): void {
  console.log(`\n${title} (load average ${r.load.toFixed(1)} on ${cpus().length} cores; ${r.receiver})`);
  console.log(
    `${'sender'.padEnd(44)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)} ${'lost'.padStart(8)} ${'packets'.padStart(9)}`,
  );
  for (const [name, x] of r.rows) {
    const lost = x.expected - x.received;
    console.log(
      `${name.padEnd(44)} ${fmt(x.p50)} ${fmt(x.p99)} ${fmt(x.max)} ${String(lost).padStart(8)} ${String(x.received).padStart(9)}`,
    );
  }
  const ours = r.rows[0][1];
  for (const [name, ref] of r.rows.filter(([n]) => n.startsWith('reference'))) {
    const who = name.replace(/^reference: /, '').replace(/, 1 stream$/, '');
    console.log(
      `ratio ours/${who}: p50 ${(ours.p50 / ref.p50).toFixed(3)}, p99 ${(ours.p99 / ref.p99).toFixed(3)}`,
    );
  }
  console.log(`goal p99 < 2 ms: ${ours.p99 < 2 ? 'met' : 'NOT met'} (${ours.p99.toFixed(3)} ms)`);
}

async function main(): Promise<void> {
  if (process.env.RTP_BENCH_CHILD) {
    console.log(`RESULT ${JSON.stringify(await runPhases())}`);
    return;
  }
  console.log(`RTP pacing on the receive side: |arrival - ideal 20 ms grid| in ms, ${SECONDS} s per phase`);
  const plain = await runChild([]);
  if (plain) printRun('default scheduling', plain);
  // A PBX's media process normally runs with real-time priority (systemd CPUSchedulingPolicy=fifo):
  // on a loaded host that, not the code, decides whether the kernel wakes us on time.
  const rt = await runChild(['chrt', '-f', '10']);
  if (rt) printRun('SCHED_FIFO 10 (chrt -f 10)', rt);
  else console.log('\nSCHED_FIFO run skipped: chrt unavailable or not permitted');
}

await main();
