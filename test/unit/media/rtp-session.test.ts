import { describe, expect, it } from 'vitest';
import { decodeRtcp } from '../../../src/core/media/rtcp.ts';
import { decodeRtp } from '../../../src/core/media/rtp.ts';
import { RtpSession, type RtpSessionOptions } from '../../../src/core/media/rtp-session.ts';
import { decodeTelephoneEvent } from '../../../src/core/media/telephone-event.ts';
import { detectTone, ToneGenerator } from '../../../src/core/media/tones.ts';
import type { Address } from '../../../src/core/net.ts';
import { randomBytes, seededRandom } from './seeded.ts';

const A: Address = { transport: 'UDP', host: '10.0.0.1', port: 4000 };
const B: Address = { transport: 'UDP', host: '10.0.0.2', port: 5000 };

function session(seed: number, over: Partial<RtpSessionOptions> = {}): RtpSession {
  const rnd = seededRandom(seed);
  return new RtpSession({
    codec: { name: 'PCMU', pt: 0 },
    dtmfPt: 101,
    remote: B,
    randomBytes: (n) => randomBytes(rnd, n),
    ...over,
  });
}

describe('RtpSession sending', () => {
  it('numbers packets: sequence +1, timestamp +160, fixed random SSRC, marker on the first', () => {
    const s = session(1);
    const pkts = [0, 20, 40].map((t) => {
      const e = s.sendFrame(new Int16Array(160), t);
      if (!e) throw new Error('nothing sent');
      expect(e.to).toEqual(B);
      const r = decodeRtp(e.data);
      if (!r.ok) throw new Error('bad packet');
      return r.packet;
    });
    expect(pkts.map((p) => p.ssrc)).toEqual([s.ssrc, s.ssrc, s.ssrc]);
    expect(pkts[1].sequence).toBe((pkts[0].sequence + 1) & 0xffff);
    expect(pkts[2].timestamp - pkts[1].timestamp).toBe(160);
    expect(pkts.map((p) => p.marker)).toEqual([true, false, false]);
    expect(pkts[0].payload).toEqual(new Uint8Array(160).fill(0xff)); // mu-law silence
    expect(session(2).ssrc).not.toBe(s.ssrc);
  });

  it('after a pause the timestamp follows real time and the marker is set', () => {
    const s = session(3);
    const first = s.sendFrame(new Int16Array(160), 0);
    const later = s.sendFrame(new Int16Array(160), 1000);
    const a = first && decodeRtp(first.data);
    const b = later && decodeRtp(later.data);
    if (!a?.ok || !b?.ok) throw new Error('bad');
    expect((b.packet.timestamp - a.packet.timestamp) >>> 0).toBe(8000);
    expect(b.packet.marker).toBe(true);
  });

  it('sends nothing without a remote or while not sending', () => {
    expect(session(4, { remote: null }).sendFrame(new Int16Array(160), 0)).toBeNull();
    const s = session(5);
    s.setDirection(false, true);
    expect(s.sendFrame(new Int16Array(160), 0)).toBeNull();
  });

  it('DTMF: one timestamp, growing duration, 3 end packets, scheduled 20 ms apart', () => {
    const s = session(6);
    const sends = s.sendDtmf('5', 1000, 100);
    const decoded = sends.map((e) => {
      const r = decodeRtp(e.data);
      if (!r.ok) throw new Error('bad');
      const ev = decodeTelephoneEvent(r.packet.payload);
      if (!ev.ok) throw new Error('bad event');
      return { at: e.at, pt: r.packet.payloadType, ts: r.packet.timestamp, m: r.packet.marker, ...ev.value };
    });
    expect(new Set(decoded.map((d) => d.ts)).size).toBe(1);
    expect(decoded.every((d) => d.pt === 101 && d.event === 5)).toBe(true);
    expect(decoded.map((d) => d.at)).toEqual([1000, 1020, 1040, 1060, 1080, 1100, 1120]);
    expect(decoded.filter((d) => d.end)).toHaveLength(3);
    expect(decoded.map((d) => d.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(decoded[0].m).toBe(true);
    expect(session(7, { dtmfPt: undefined }).sendDtmf('5', 0)).toEqual([]);
  });

  it('DTMF continues the media clock, queues digits and holds audio back meanwhile', () => {
    const s = session(8);
    const tsOf = (data: Uint8Array) => {
      const r = decodeRtp(data);
      if (!r.ok) throw new Error('bad');
      return r.packet.timestamp;
    };
    const a0 = s.sendFrame(new Int16Array(160), 0);
    if (!a0) throw new Error('no frame');
    const first = s.sendDtmf('1', 20);
    const second = s.sendDtmf('2', 20); // pressed before the first finished: queued
    expect(tsOf(first[0].data)).toBe((tsOf(a0.data) + 160) >>> 0); // starts at the next frame's time
    expect(second[0].at).toBe(first.at(-1)!.at + 1);
    expect(s.sendFrame(new Int16Array(160), 60)).toBeNull(); // held back during the event
    const lastAt = second.at(-1)!.at;
    const resumed = s.sendFrame(new Int16Array(160), lastAt + 20);
    if (!resumed) throw new Error('no frame');
    // Audio resumes after the event's span, with no timestamp overlap.
    expect((tsOf(resumed.data) - tsOf(second[0].data)) >>> 0).toBe(140 * 8);
  });
});

describe('RtpSession receiving', () => {
  it('symmetric RTP learns the remote address from the first valid packet only', () => {
    const tx = session(8, { remote: A });
    const rx = session(9, { remote: B, symmetric: true });
    const natted: Address = { transport: 'UDP', host: '198.51.100.7', port: 61000 };
    expect(rx.receive(new Uint8Array([1, 2, 3]), { ...natted, port: 1 }, 0)).toEqual([]); // garbage does not latch
    const p = tx.sendFrame(new Int16Array(160), 0);
    if (!p) throw new Error('no packet');
    expect(rx.receive(p.data, natted, 0)).toEqual([{ type: 'remote-learned', address: natted }]);
    expect(rx.remoteAddress).toEqual(natted);
    const q = tx.sendFrame(new Int16Array(160), 20);
    if (!q) throw new Error('no packet');
    expect(rx.receive(q.data, { ...natted, port: 2 }, 20)).toEqual([]);
    expect(rx.remoteAddress).toEqual(natted);
    expect(rx.sendFrame(new Int16Array(160), 40)?.to).toEqual(natted);
    const plain = session(10, { remote: B });
    plain.receive(p.data, natted, 0);
    expect(plain.remoteAddress).toEqual(B);
  });

  it('reports each DTMF digit once and ignores unnegotiated payload types', () => {
    const tx = session(11, { remote: A });
    const rx = session(12);
    const digits: string[] = [];
    for (const d of ['1', '2', '2', '#']) {
      for (const e of tx.sendDtmf(d, 0))
        for (const ev of [...rx.receive(e.data, A, e.at), ...rx.receive(e.data, A, e.at)])
          if (ev.type === 'dtmf') digits.push(ev.digit);
    }
    expect(digits).toEqual(['1', '2', '2', '#']);
    const pcma = session(13, { codec: { name: 'PCMA', pt: 8 }, remote: A }).sendFrame(new Int16Array(160), 0);
    if (!pcma) throw new Error('no packet');
    rx.receive(pcma.data, A, 0);
    expect(rx.stats().ignoredPackets).toBe(1);
  });

  it('never throws on 10,000 hostile datagrams and counts them', () => {
    const rx = session(14, { symmetric: true });
    const rnd = seededRandom(15);
    for (let i = 0; i < 10_000; i++) {
      const b = randomBytes(rnd, Math.floor(rnd() * 300));
      if (i % 3 === 0 && b.length > 1) {
        b[0] = 0x80 | (b[0] & 0x3f);
        b[1] = [0, 101, 8, 13][i % 4] | (b[1] & 0x80);
      }
      expect(() => {
        rx.receive(b, A, i);
        if (i % 20 === 0) rx.pop(i);
      }).not.toThrow();
    }
    const st = rx.stats();
    expect(st.invalidPackets + st.ignoredPackets + st.packetsReceived).toBe(10_000);
    expect(st.invalidPackets).toBeGreaterThan(0);
    expect(st.packetsReceived).toBeGreaterThan(0);
  });

  it('RTCP report: SR after sending, with a report block for the remote source', () => {
    const tx = session(16, { remote: A });
    const rx = session(17);
    for (let k = 0; k < 10; k++) {
      const p = tx.sendFrame(new Int16Array(160), k * 20);
      if (p && k !== 4) rx.receive(p.data, A, k * 20); // lose one
    }
    const back = rx.sendFrame(new Int16Array(160), 200);
    if (back) tx.receive(back.data, B, 200);
    const r = decodeRtcp(rx.rtcpReport(200, 1_700_000_000_000));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [sr, sdes] = r.packets;
    expect(sr.type).toBe('sr');
    if (sr.type !== 'sr') return;
    expect(sr.ssrc).toBe(rx.ssrc);
    expect(sr.sender.packetCount).toBe(1);
    expect(sr.reports[0]).toMatchObject({
      ssrc: tx.ssrc,
      cumulativeLost: 1,
      fractionLost: Math.floor(256 / 10),
    });
    expect(sdes).toEqual({ type: 'sdes', chunks: [{ ssrc: rx.ssrc, cname: 'peerpbx' }] });
    // The sender hears about its own stream, and its next report echoes LSR/DLSR.
    const aboutTx = tx.receiveRtcp(rx.rtcpReport(220, 1_700_000_000_020), 230);
    expect(aboutTx).toHaveLength(1);
    expect(aboutTx[0].ssrc).toBe(tx.ssrc);
    const echo = decodeRtcp(tx.rtcpReport(730, 1_700_000_000_530));
    const block = echo.ok && echo.packets[0].type === 'sr' ? echo.packets[0].reports[0] : undefined;
    expect(block?.ssrc).toBe(rx.ssrc);
    expect(block?.lastSr).not.toBe(0);
    expect(block?.delaySinceLastSr).toBe(Math.round(0.5 * 65536));
    expect(tx.receiveRtcp(new Uint8Array([1, 2, 3]), 0)).toEqual([]);
  });
});

describe('tone through G.711 -> RTP -> network -> jitter buffer -> decode', () => {
  for (const codec of [
    { name: 'PCMU', pt: 0 },
    { name: 'PCMA', pt: 8 },
  ] as const) {
    it(`440 Hz arrives as 440 Hz over ${codec.name} despite jitter, reordering, loss and duplicates`, () => {
      const tx = session(20, { codec, remote: B });
      const rx = session(21, { codec, remote: A });
      const gen = new ToneGenerator([440], 8000, 0.5);
      const rnd = seededRandom(22);
      const inFlight: Array<{ at: number; data: Uint8Array }> = [];
      const played: Int16Array[] = [];
      const kinds: string[] = [];
      for (let t = 0; t < 3000; t++) {
        if (t % 20 === 0 && t < 2000) {
          const e = tx.sendFrame(gen.next(160), t);
          if (!e) throw new Error('no packet');
          const r = rnd();
          if (r < 0.03) continue; // 3% loss
          inFlight.push({ at: t + Math.floor(rnd() * 50), data: e.data }); // 0-50 ms delay: reorders
          if (r > 0.97) inFlight.push({ at: t + 60, data: e.data }); // duplicate
        }
        for (const p of inFlight.filter((x) => x.at === t)) rx.receive(p.data, A, t);
        if (t % 20 === 10) {
          const f = rx.pop(t);
          kinds.push(f.kind);
          if (f.kind === 'audio') played.push(f.samples);
        }
      }
      expect(played.length).toBeGreaterThan(85);
      // Loss and concealment break phase between frames, so detect per 20 ms frame: a whole-call
      // Goertzel would smear. A 160-sample window still separates 440 from 700 Hz clearly.
      const frames = played.slice(3, 90);
      const at440 = frames.filter((f) => detectTone(f, 440, 8000, 0.8)).length;
      const at700 = frames.filter((f) => detectTone(f, 700, 8000, 0.2)).length;
      expect(at440 / frames.length).toBeGreaterThan(0.95);
      expect(at700).toBe(0);
      const st = rx.stats().jitter;
      expect(st.lost).toBeGreaterThan(0);
      expect(st.reordered).toBeGreaterThan(0);
      expect(st.duplicates).toBeGreaterThan(0);
    });
  }

  it('and a 700 Hz tone is detected at 700 Hz, not 440 Hz (the detector discriminates)', () => {
    const tx = session(30, { remote: B });
    const rx = session(31, { remote: A });
    const gen = new ToneGenerator([700], 8000, 0.5);
    const played: number[] = [];
    for (let t = 0; t < 1000; t += 20) {
      const e = tx.sendFrame(gen.next(160), t);
      if (e) rx.receive(e.data, A, t);
      const f = rx.pop(t + 10);
      if (f.kind === 'audio') played.push(...f.samples);
    }
    expect(detectTone(played, 700, 8000)).toBe(true);
    expect(detectTone(played, 440, 8000)).toBe(false);
  });
});
