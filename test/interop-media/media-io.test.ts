// src/main/media on real sockets and clocks: port pairs, the drift-free frame clock, symmetric RTP
// and RTCP between two MediaSessions, WAV sources and recorders; SoftPhone codec refusal.
import dgram from 'node:dgram';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sine, toneStrength } from '../../src/core/media/tones.ts';
import { decodeWav } from '../../src/core/media/wav.ts';
import { FrameClock, hrNowMs } from '../../src/main/media/frame-clock.ts';
import { MediaSession } from '../../src/main/media/media-session.ts';
import { RtpPortAllocator, RtpSocketPair } from '../../src/main/media/rtp-socket.ts';
import { ToneProbe, WavRecorder } from '../../src/main/media/sinks.ts';
import { ToneSource, wavSource } from '../../src/main/media/sources.ts';
import { SoftPhone } from '../../src/main/phone/soft-phone.ts';
import { tempDir } from '../helpers/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('RTP ports', () => {
  it('allocates even ports round-robin and skips pairs in use', () => {
    const a = new RtpPortAllocator({ min: 5001, max: 5008 });
    const got: number[] = [];
    for (const p of a.candidates()) {
      got.push(p);
      if (got.length === 2) break;
    }
    expect(got).toEqual([5002, 5004]);
    a.release(5002);
    const next = a.candidates().next().value;
    expect(next).toBe(5006); // round-robin: the just-released port rests
    expect(a.used).toBe(2); // 5004 and 5006
  });

  it('binds RTP on an even port and RTCP on the next, skipping a pair whose RTCP port is taken', async () => {
    const blocker = dgram.createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(32001, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const pair = await RtpSocketPair.open('127.0.0.1', new RtpPortAllocator({ min: 32000, max: 32011 }));
    cleanups.push(() => pair.close());
    expect(pair.port).toBe(32002);
    // Both sockets are ours: binding either again fails.
    for (const port of [32002, 32003]) {
      const s = dgram.createSocket('udp4');
      const err = await new Promise<Error | null>((r) => {
        s.once('error', r);
        s.bind(port, '127.0.0.1', () => r(null));
      });
      s.close();
      expect(err).not.toBeNull();
    }
  });
});

describe('FrameClock', () => {
  it('keeps ticks on start + n * 20 ms even when listeners are slow (no drift), and skips a stall', async () => {
    const clock = new FrameClock();
    const ticks: { n: number; scheduledMs: number; nowMs: number }[] = [];
    let stalled = false;
    const off = clock.add((t) => {
      ticks.push(t);
      const until = t.nowMs + (t.n % 5 === 0 ? 8 : 0); // every 5th tick burns 8 ms
      while (Number(process.hrtime.bigint()) / 1e6 < until);
      if (t.n === 30 && !stalled) {
        stalled = true;
        const end = Date.now() + 250; // a stall of 12 periods
        while (Date.now() < end);
      }
    });
    await sleep(1500);
    const endMs = hrNowMs();
    off();
    const first = ticks[0].scheduledMs;
    for (const t of ticks) expect(t.scheduledMs).toBeCloseTo(first + t.n * 20, 6);
    // The grid kept up with real time: setTimeout(20) chained after slow callbacks (20 + 1 + 8/5
    // ms a tick) would be ~9 periods behind after 1.5 s.
    const last = ticks.at(-1)!;
    const periodsElapsed = (endMs - first) / 20;
    expect(periodsElapsed - last.n).toBeGreaterThan(-1);
    expect(periodsElapsed - last.n).toBeLessThan(4);
    const p = clock.pacing();
    expect(p.skipped).toBeGreaterThan(5); // the stall was skipped, not replayed as a burst
    expect(ticks.length).toBeLessThan(last.n + 1);
    expect(clock.listenerCount).toBe(0);
  });
});

describe('MediaSession', () => {
  it('learns the peer address from its packets (symmetric RTP) and exchanges RTCP reports', async () => {
    const alloc = new RtpPortAllocator({ min: 32100, max: 32199 });
    const sa = await RtpSocketPair.open('127.0.0.1', alloc);
    const sb = await RtpSocketPair.open('127.0.0.1', alloc);
    const probeA = new ToneProbe(400);
    // A was told a wrong port for B (as behind a NAT): only symmetric RTP can reach B.
    const a = new MediaSession({
      socket: sa,
      codec: { name: 'PCMU', pt: 0 },
      remote: { transport: 'UDP', host: '127.0.0.1', port: sb.port + 40 },
      source: new ToneSource(600),
      sinks: [probeA],
      rtcpIntervalMs: 300,
    });
    const probeB = new ToneProbe(400);
    const b = new MediaSession({
      socket: sb,
      codec: { name: 'PCMU', pt: 0 },
      remote: { transport: 'UDP', host: '127.0.0.1', port: sa.port },
      source: new ToneSource(1200),
      sinks: [probeB],
      rtcpIntervalMs: 300,
    });
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    a.start();
    b.start();
    await sleep(1200);
    expect(a.stats().remote).toEqual({ transport: 'UDP', host: '127.0.0.1', port: sb.port });
    expect(probeA.strength(1200)).toBeGreaterThan(0.9);
    expect(probeB.strength(600)).toBeGreaterThan(0.9);
    const sA = a.stats();
    const sB = b.stats();
    expect(sA.rtcpReceived).toBeGreaterThan(0);
    expect(sB.rtcpReceived).toBeGreaterThan(0);
    // B's report is about A's stream: A's SSRC, no loss.
    expect(sA.remoteReport?.ssrc).toBe(a.ssrc);
    expect(sA.remoteReport?.cumulativeLost).toBe(0);
    expect(sB.lost).toBe(0);
    // Pausing the send direction stops the packets the other side gets.
    a.update({ send: false });
    await sleep(100);
    const before = b.stats().packetsReceived;
    await sleep(300);
    expect(b.stats().packetsReceived).toBe(before);
  });
});

describe('WAV sources and recorders', () => {
  it('plays a 48 kHz stereo WAV as 8 kHz frames and records what it is given', async () => {
    const dir = tempDir('media-wav-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const stereo = sine(1000, 500, 48000, 0.5);
    const interleaved = new Int16Array(stereo.length * 2);
    for (let i = 0; i < stereo.length; i++) interleaved[2 * i] = interleaved[2 * i + 1] = stereo[i];
    const path = join(dir, 'in.wav');
    // encodeWav is mono: build a stereo file through the same library by hand.
    const { default: wavefile } = await import('wavefile');
    const w = new wavefile.WaveFile();
    w.fromScratch(2, 48000, '16', interleaved);
    writeFileSync(path, w.toBuffer());
    const src = await wavSource(path, false);
    const frames: Int16Array[] = [];
    for (let i = 0; i < 30; i++) frames.push(src.read(160));
    const joined = new Int16Array(frames.length * 160);
    for (const [i, f] of frames.entries()) joined.set(f, i * 160);
    expect(toneStrength(joined.subarray(400, 3600), 1000, 8000)).toBeGreaterThan(0.95);
    expect(src.finished).toBe(true);
    expect(Math.max(...joined.subarray(4100))).toBe(0); // silence after a non-looping file ends

    const rec = new WavRecorder(join(dir, 'out', 'rec.wav'));
    rec.write(joined.subarray(0, 1600));
    rec.write(joined.subarray(1600, 3200));
    await rec.close();
    const back = decodeWav(new Uint8Array(readFileSync(rec.path)));
    expect(back.ok && back.value.sampleRate).toBe(8000);
    expect(back.ok && Array.from(back.value.samples)).toEqual(Array.from(joined.subarray(0, 3200)));
  });
});

describe('SoftPhone refusals', () => {
  it('answers an offer without a common codec with 488, and the caller sees it', async () => {
    const a = await SoftPhone.start({ codecs: ['PCMU'], rtpPorts: { min: 32200, max: 32299 } });
    const b = await SoftPhone.start({
      codecs: ['PCMA'],
      autoAnswer: true,
      rtpPorts: { min: 32200, max: 32299 },
    });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const ended = a.next('ended');
    await a.call(b.uri);
    const e = await ended;
    expect(e.reason).toBe('rejected');
    expect(e.status).toBe(488);
    expect(b.activeCalls).toEqual([]);
  });
});
