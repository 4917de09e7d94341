// A flood at a gateway peer while a real call with audio is up. The peer is a real `peerpbx run`
// process with a desk-phone account (201); its own user (101) auto-answers and plays a 700 Hz tone.
// A desk phone (raw sockets, test/hostile/rtp-call.ts) calls 101 through it with digest auth and
// timestamps every RTP packet. Then: 10,000 REGISTERs with bad credentials (wrong password with a
// real nonce, unknown users, no or malformed Authorization, forged nonces) and 10,000 garbage
// datagrams at the same SIP port, while OPTIONS probes the peer every 100 ms.
// Asserted: the call keeps its audio (packets keep arriving with the tone, no gap over the bound),
// the peer answers OPTIONS during and after, memory stays bounded, nothing crashes, and the flood
// is logged in a bounded way (budgeted warnings, not 20,000 lines). storm.test.ts covers TCP,
// oversized streams and leak-per-input; this file is about the call under fire.
import dgram from 'node:dgram';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeToneWav } from '../calls/harness.ts';
import { killAll, rssBytes, start } from '../helpers/processes.ts';
import { statusOf } from '../helpers/raw-sip.ts';
import { createOffice, dataDirs, mustSucceed, type OfficePeer, runPeer } from '../office/harness.ts';
import { FLOOD, type FloodReport } from './flood-sender.ts';
import { nowMs, RawCall } from './rtp-call.ts';

const SENDER = new URL('./flood-sender.ts', import.meta.url).pathname;

/** Runs the flood in its own process; resolves with its report. */
async function flood(seed: number): Promise<FloodReport> {
  const p = start(process.execPath, ['--import', 'tsx', SENDER, String(sipPort), DOMAIN, String(seed)]);
  const done = await p.done;
  if (done.code !== 0) throw new Error(`flood sender failed (${done.code}): ${done.stderr.slice(-1000)}`);
  return JSON.parse(done.stdout.trim().split('\n').pop() ?? '{}') as FloodReport;
}
const TONE_HZ = 700;
const DOMAIN = 'acme';
const MB = 1024 * 1024;
// The call keeps its audio: no silence longer than MAX_DROPOUT_MS at any point of the flood, the
// tone in what arrives, and full delivery again right after. Measured here: on a quiet box every
// packet arrived during the flood (max gap ~50 ms); with 8 helpers loading the 2 cores (load ~15)
// the peer's event loop, which carries SIP and RTP, got too little CPU and delivered 35-60% (max
// gap 100-450 ms). The bounds below hold in both; the printed figures are the result.
const MAX_DROPOUT_MS = 1000;
const MIN_DELIVERY_DURING = 0.2;
const MIN_DELIVERY_AFTER = 0.8;
const MAX_OPTIONS_MS_AFTER = 500;

const dirs = dataDirs(['a', 'wav']);
let peer: OfficePeer;
let sipPort = 0;

function options(i: number): string {
  return [
    `OPTIONS sip:127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKprobe${i}x${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@127.0.0.1>;tag=p${i}`,
    `To: <sip:127.0.0.1:${sipPort}>`,
    `Call-ID: probe-${i}-${Date.now()}@127.0.0.1`,
    `CSeq: ${i} OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** OPTIONS every `everyMs` on its own socket; records each probe's latency (or a loss). */
class Prober {
  readonly results: { sentAt: number; ms: number | null }[] = [];
  private readonly sock = dgram.createSocket('udp4');
  private readonly pending = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private n = 0;

  async start(everyMs = 100): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.sock.on('message', (m) => {
      const i = Number(/CSeq: (\d+) OPTIONS/.exec(m.toString('latin1'))?.[1]);
      const sent = this.pending.get(i);
      if (sent === undefined || statusOf(m.toString('latin1')) !== 200) return;
      this.pending.delete(i);
      this.results.push({ sentAt: sent, ms: nowMs() - sent });
    });
    this.timer = setInterval(() => {
      const i = ++this.n;
      this.pending.set(i, nowMs());
      this.sock.send(Buffer.from(options(i), 'latin1'), sipPort, '127.0.0.1');
    }, everyMs);
  }

  /** Stops probing; probes unanswered after `graceMs` count as lost. */
  async stop(graceMs = 2000): Promise<void> {
    clearInterval(this.timer);
    await new Promise((r) => setTimeout(r, graceMs));
    for (const sent of this.pending.values()) this.results.push({ sentAt: sent, ms: null });
    this.sock.close();
  }

  between(from: number, to: number) {
    const r = this.results.filter((x) => x.sentAt >= from && x.sentAt < to);
    const ms = r.flatMap((x) => (x.ms === null ? [] : [x.ms])).sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? Number.NaN;
    return {
      sent: r.length,
      answered: ms.length,
      p50: q(0.5),
      p99: q(0.99),
      max: ms[ms.length - 1] ?? Number.NaN,
    };
  }
}

function audioBetween(call: RawCall, from: number, to: number) {
  const a = call.arrivals.filter((x) => x.at >= from && x.at < to);
  let maxGap = 0;
  let prev = from;
  for (const x of a) {
    maxGap = Math.max(maxGap, x.at - prev);
    prev = x.at;
  }
  maxGap = Math.max(maxGap, to - prev);
  const tones = a.map((x) => x.tone).sort((p, q) => p - q);
  return {
    packets: a.length,
    expected: Math.floor((to - from) / 20),
    maxGapMs: maxGap,
    medianTone: tones[tones.length >> 1] ?? 0,
  };
}

describe('flood at a gateway peer during a call', () => {
  beforeAll(async () => {
    await createOffice(dirs.a, DOMAIN, '101');
    await mustSucceed(['phone', 'add', '--data', dirs.a, '--extension', '201', '--password', 'pw-201-flood']);
    mkdirSync(dirs.wav, { recursive: true });
    const tone = writeToneWav(join(dirs.wav, 'tone.wav'), TONE_HZ, 2);
    peer = await runPeer(dirs.a, { extra: ['--auto-answer', '--play', tone] });
    sipPort = Number(/peerpbx listening: sip udp:\/\/[^:]+:(\d+)/.exec(peer.run.stdout())?.[1]);
  }, 90_000);
  afterAll(async () => {
    await killAll();
    rmSync(dirname(dirs.a), { recursive: true, force: true });
  });

  it('keeps the call audio and answers OPTIONS through 10,000 bad REGISTERs and 10,000 garbage datagrams', {
    timeout: 90_000,
  }, async () => {
    const call = new RawCall({
      proxyPort: sipPort,
      domain: DOMAIN,
      from: '201',
      password: 'pw-201-flood',
      to: '101',
      toneHz: TONE_HZ,
    });
    const prober = new Prober();
    try {
      await call.dial();
      await prober.start(100);
      // Media settles before the baseline.
      await new Promise((r) => setTimeout(r, 2000));
      const rssBefore = rssBytes(peer.run.child.pid as number);
      const logBefore = peer.run.stderr().length;
      const calm = audioBetween(call, nowMs() - 1500, nowMs());

      const f = await flood(1);
      const rssPeak = rssBytes(peer.run.child.pid as number);
      const floodLog = peer.run.stderr().slice(logBefore);
      // After the flood: the call and the peer go on.
      await new Promise((r) => setTimeout(r, 3000));
      const afterAt = nowMs();
      await new Promise((r) => setTimeout(r, 1500));
      const during = audioBetween(call, f.startedAt, f.endedAt);
      const after = audioBetween(call, afterAt, nowMs());
      await prober.stop();
      const pDuring = prober.between(f.startedAt, f.endedAt);
      const pAfter = prober.between(f.endedAt + 1000, afterAt + 1500);
      const lines = floodLog.split('\n').filter((l) => l.trim());
      const levels = (lvl: string) => lines.filter((l) => l.includes(`"level":"${lvl}"`)).length;

      console.log(
        `flood: ${f.registers} REGISTERs + ${f.garbage} garbage in ${((f.endedAt - f.startedAt) / 1000).toFixed(1)} s; responses ${JSON.stringify(f.statuses)}\n` +
          `audio calm ${JSON.stringify(calm)}\naudio during ${JSON.stringify(during)}\naudio after ${JSON.stringify(after)}\n` +
          `OPTIONS during ${JSON.stringify(pDuring)}; after ${JSON.stringify(pAfter)}\n` +
          `rss ${(rssBefore / 1e6).toFixed(1)} -> ${(rssPeak / 1e6).toFixed(1)} MB; log lines during flood ${lines.length} (warn ${levels('warn')}, error ${levels('error')})`,
      );

      expect(f.registers + f.garbage).toBe(2 * FLOOD);
      // Nothing crashed, and the call is still up (audio after the flood) with the tone.
      expect(peer.run.child.exitCode).toBeNull();
      expect(after.packets).toBeGreaterThan(after.expected * MIN_DELIVERY_AFTER);
      expect(after.medianTone).toBeGreaterThan(0.5);
      // The call kept its audio through the flood: packets kept coming, with the tone, no dropout.
      expect(during.packets).toBeGreaterThan(during.expected * MIN_DELIVERY_DURING);
      expect(during.medianTone).toBeGreaterThan(0.5);
      expect(during.maxGapMs).toBeLessThan(MAX_DROPOUT_MS);
      // The flood was answered (challenges, 403s, 400s), never with a registration.
      expect(f.statuses['200'] ?? 0).toBe(0);
      // (What the peer could not read in time the kernel dropped: a fraction is answered here.)
      expect(f.statuses['403']).toBeGreaterThan(100);
      expect(f.statuses['401']).toBeGreaterThan(100);
      // Responsive: OPTIONS answered during the flood (UDP may drop a few in the kernel) and after.
      // During: probes share the flooded socket queue, so the kernel drops them at the flood's rate
      // (~40% answered here); what the peer reads it answers promptly.
      expect(pDuring.answered).toBeGreaterThan(pDuring.sent * 0.25);
      expect(pDuring.p99).toBeLessThan(MAX_DROPOUT_MS);
      expect(pAfter.answered).toBe(pAfter.sent);
      expect(pAfter.max).toBeLessThan(MAX_OPTIONS_MS_AFTER);
      // Memory bounded: no per-request state survives a refused REGISTER.
      expect(rssPeak).toBeLessThan(2 * rssBefore + 60 * MB);
      // Logged, in a bounded way: the failures and malformed messages show, 20,000 lines do not.
      expect(floodLog).toMatch(/authentication failed/);
      expect(floodLog).toMatch(/malformed|similar warnings suppressed/);
      expect(lines.length).toBeLessThan(300);
      expect(levels('error')).toBe(0);
    } finally {
      await call.hangup().catch(() => call.close());
    }
  });
});
