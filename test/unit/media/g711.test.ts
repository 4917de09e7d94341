import { describe, expect, it } from 'vitest';
import {
  alawToLinear,
  decodeG711,
  encodeG711,
  linearToAlaw,
  linearToUlaw,
  ulawToLinear,
} from '../../../src/core/media/g711.ts';

// Independent restatements of the G.711 decoding rules (ITU-T G.711 tables 1a/2a), in 16-bit units.
function ulawReference(code: number): number {
  const inv = ~code & 0xff;
  const seg = (inv >> 4) & 7;
  const q = inv & 0x0f;
  const magnitude = (((2 * q + 33) << seg) - 33) * 4;
  return inv & 0x80 ? -magnitude || 0 : magnitude; // no -0
}
function alawReference(code: number): number {
  const a = code ^ 0x55;
  const seg = (a >> 4) & 7;
  const q = a & 0x0f;
  const magnitude = seg === 0 ? (2 * q + 1) << 3 : (2 * q + 33) << (seg + 2);
  return a & 0x80 ? magnitude : -magnitude;
}

describe('G.711', () => {
  it('decodes all 256 codes of each law as the ITU tables say', () => {
    for (let c = 0; c < 256; c++) {
      expect(ulawToLinear(c), `u ${c}`).toBe(ulawReference(c));
      expect(alawToLinear(c), `a ${c}`).toBe(alawReference(c));
    }
  });

  it('known values', () => {
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('encode(decode(code)) is the identity (except mu-law negative zero)', () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToAlaw(alawToLinear(c))).toBe(c);
      if (c !== 0x7f) expect(linearToUlaw(ulawToLinear(c))).toBe(c);
    }
    expect(linearToUlaw(ulawToLinear(0x7f))).toBe(0xff);
  });

  it('encoding lands in the right decision interval (error within half its width)', () => {
    // Interval widths in 16-bit units: mu-law segment s is 2^(s+3) wide; A-law segments 0 and 1
    // are 16 wide and segment s >= 2 is 2^(s+3) wide.
    const uHalf = (code: number) => 2 ** ((((~code & 0xff) >> 4) & 7) + 2);
    const aHalf = (code: number) => {
      const seg = ((code ^ 0x55) >> 4) & 7;
      return seg === 0 ? 8 : 2 ** (seg + 2);
    };
    for (let x = -32768; x < 32768; x++) {
      const u = linearToUlaw(x);
      const a = linearToAlaw(x);
      // The top levels clip: +-32124 (mu) and +-32256 (A).
      const xu = Math.max(-32124, Math.min(32124, x));
      const xa = Math.max(-32256, Math.min(32256, x));
      if (Math.abs(ulawToLinear(u) - xu) > uHalf(u) + 4) throw new Error(`mu-law x=${x}`);
      if (Math.abs(alawToLinear(a) - xa) > aHalf(a) + 8) throw new Error(`A-law x=${x}`);
    }
  });

  it("follows the G.191 one's complement rule for negative mu-law input", () => {
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(-4)).toBe(0x7f);
    expect(linearToUlaw(-5)).toBe(0x7e);
    expect(linearToUlaw(3)).toBe(0xff);
    expect(linearToUlaw(4)).toBe(0xfe);
  });

  it('buffer helpers round-trip a sine with bounded SNR', () => {
    const pcm = new Int16Array(800);
    for (let i = 0; i < pcm.length; i++)
      pcm[i] = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
    for (const law of ['PCMU', 'PCMA'] as const) {
      const enc = encodeG711(law, pcm);
      expect(enc.length).toBe(800);
      const dec = decodeG711(law, enc);
      let sig = 0;
      let noise = 0;
      for (let i = 0; i < pcm.length; i++) {
        sig += pcm[i] ** 2;
        noise += (pcm[i] - dec[i]) ** 2;
      }
      expect(10 * Math.log10(sig / noise)).toBeGreaterThan(30); // G.711 gives ~38 dB
      expect(encodeG711(law, dec)).toEqual(enc);
    }
  });
});
