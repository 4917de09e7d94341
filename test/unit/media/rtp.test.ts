import { describe, expect, it } from 'vitest';
import {
  decodeRtcp,
  encodeReceiverReport,
  encodeSdesCname,
  encodeSenderReport,
  msToNtp,
} from '../../../src/core/media/rtcp.ts';
import { decodeRtp, encodeRtp, seqDelta, tsDelta } from '../../../src/core/media/rtp.ts';
import { randomBytes, seededRandom } from './seeded.ts';

describe('RTP', () => {
  it('decodes a hand-made packet byte by byte', () => {
    // V=2 P=0 X=0 CC=0, M=1 PT=0, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, payload ff ff
    const bytes = new Uint8Array([0x80, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 0xff, 0xff]);
    const r = decodeRtp(bytes);
    expect(r).toEqual({
      ok: true,
      packet: {
        marker: true,
        payloadType: 0,
        sequence: 0x1234,
        timestamp: 0xdeadbeef,
        ssrc: 0x01020304,
        csrcs: [],
        extension: undefined,
        payload: new Uint8Array([0xff, 0xff]),
        paddingLength: 0,
      },
    });
    expect(
      encodeRtp({
        marker: true,
        payloadType: 0,
        sequence: 0x1234,
        timestamp: 0xdeadbeef,
        ssrc: 0x01020304,
        payload: new Uint8Array([0xff, 0xff]),
      }),
    ).toEqual(bytes);
  });

  it('round-trips CSRCs, extension and padding', () => {
    const input = {
      marker: false,
      payloadType: 101,
      sequence: 65535,
      timestamp: 4294967295,
      ssrc: 0xcafebabe,
      csrcs: [1, 0xffffffff],
      extension: { profile: 0xbede, data: new Uint8Array([0x10, 0xaa, 0, 0]) },
      payload: new Uint8Array([1, 2, 3]),
      paddingLength: 5,
    };
    const bytes = encodeRtp(input);
    expect(bytes[0]).toBe(0x80 | 0x20 | 0x10 | 2);
    expect(bytes.length).toBe(12 + 8 + 8 + 3 + 5);
    const r = decodeRtp(bytes);
    expect(r).toEqual({ ok: true, packet: input });
  });

  it('typed errors', () => {
    const ok = encodeRtp({ payloadType: 0, sequence: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(4) });
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(11), 'too-short'],
      [Uint8Array.from([0x40, ...ok.subarray(1)]), 'bad-version'],
      [Uint8Array.from([0x8f, ...ok.subarray(1)]), 'truncated-csrc'],
      [Uint8Array.from([0x90, ...ok.subarray(1, 12), 0xbe, 0xde, 0, 9]), 'truncated-extension'],
      [Uint8Array.from([0xa0, ...ok.subarray(1, 15), 0]), 'bad-padding'],
      [Uint8Array.from([0xa0, ...ok.subarray(1, 15), 200]), 'bad-padding'],
    ];
    for (const [b, code] of cases) {
      const r = decodeRtp(b);
      expect(r.ok === false && r.error.code).toBe(code);
    }
  });

  it('never throws on 10,000 random datagrams', () => {
    const rnd = seededRandom(1);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const b = randomBytes(rnd, Math.floor(rnd() * 200));
      if (i % 2 === 0 && b.length > 0) b[0] = (b[0] & 0x3f) | 0x80; // half look like RTP v2
      const sub = b.subarray(Math.min(b.length, 3)); // also exercise non-zero byteOffset
      expect(() => {
        if (decodeRtp(b).ok) decoded++;
        decodeRtp(sub);
        decodeRtcp(b);
      }).not.toThrow();
    }
    expect(decoded).toBeGreaterThan(100);
  });

  it('wrap-around arithmetic', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 90)).toBe(-10);
    expect(tsDelta(4294967200, 64)).toBe(160);
    expect(tsDelta(64, 4294967200)).toBe(-160);
  });
});

describe('RTCP', () => {
  const block = {
    ssrc: 7,
    fractionLost: 25,
    cumulativeLost: -3,
    highestSeq: 0x10005,
    jitter: 42,
    lastSr: 0x12345678,
    delaySinceLastSr: 65536,
  };

  it('SR + RR + SDES compound round trip', () => {
    const sr = encodeSenderReport(
      0xaabbccdd,
      { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 },
      [block],
    );
    const rr = encodeReceiverReport(9, [block, { ...block, ssrc: 8, cumulativeLost: 1000 }]);
    const sdes = encodeSdesCname(0xaabbccdd, 'peer@office');
    expect(sr.length).toBe(52);
    expect(sdes.length % 4).toBe(0);
    const compound = new Uint8Array([...sr, ...rr, ...sdes]);
    const r = decodeRtcp(compound);
    expect(r).toEqual({
      ok: true,
      packets: [
        {
          type: 'sr',
          ssrc: 0xaabbccdd,
          sender: { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 },
          reports: [block],
        },
        { type: 'rr', ssrc: 9, reports: [block, { ...block, ssrc: 8, cumulativeLost: 1000 }] },
        { type: 'sdes', chunks: [{ ssrc: 0xaabbccdd, cname: 'peer@office' }] },
      ],
    });
  });

  it('rejects truncation and stray bytes, passes unknown types through', () => {
    const rr = encodeReceiverReport(9, [block]);
    expect(decodeRtcp(rr.subarray(0, rr.length - 4)).ok).toBe(false);
    expect(decodeRtcp(new Uint8Array([...rr, 1, 2])).ok).toBe(false);
    const app = new Uint8Array([0x80, 204, 0, 1, 1, 2, 3, 4]);
    expect(decodeRtcp(app)).toEqual({
      ok: true,
      packets: [{ type: 'other', packetType: 204, body: new Uint8Array([1, 2, 3, 4]) }],
    });
    const bye = new Uint8Array([0x81, 203, 0, 1, 0, 0, 0, 5]);
    expect(decodeRtcp(bye)).toEqual({ ok: true, packets: [{ type: 'bye', ssrcs: [5] }] });
  });

  it('NTP conversion', () => {
    expect(msToNtp(0)).toEqual({ ntpSec: 2208988800, ntpFrac: 0 });
    expect(msToNtp(1500).ntpFrac).toBe(2 ** 31);
  });
});
