import { describe, expect, it } from 'vitest';
import { floatToPcm16, pcm16ToFloat, Resampler, resample } from '../../../src/core/media/resample.ts';
import { rms } from '../../../src/core/media/silence.ts';
import { sine, toneStrength } from '../../../src/core/media/tones.ts';
import { decodeWav, encodeWav, WAV_SAMPLE_RATES } from '../../../src/core/media/wav.ts';
import { randomBytes, seededRandom } from './seeded.ts';

describe('WAV', () => {
  it('round-trips mono 16-bit PCM at 8, 16 and 48 kHz', () => {
    for (const rate of WAV_SAMPLE_RATES) {
      const samples = sine(440, 250, rate, 0.6);
      samples[0] = -32768;
      samples[1] = 32767;
      const bytes = encodeWav({ sampleRate: rate, samples });
      expect(bytes.length).toBe(44 + samples.length * 2);
      expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      expect(view.getUint32(24, true)).toBe(rate);
      expect(view.getUint16(22, true)).toBe(1); // mono
      expect(view.getUint16(34, true)).toBe(16);
      const back = decodeWav(bytes);
      expect(back).toEqual({ ok: true, value: { sampleRate: rate, samples } });
    }
  });

  it('decodes a hand-built header (independent of the encoder)', () => {
    const data = new Int16Array([0, 1000, -1000, 32767]);
    const b = new Uint8Array(44 + 8);
    const v = new DataView(b.buffer);
    const ascii = (o: number, s: string) => b.set(new TextEncoder().encode(s), o);
    ascii(0, 'RIFF');
    v.setUint32(4, 36 + 8, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    v.setUint32(16, 16, true);
    v.setUint16(20, 1, true);
    v.setUint16(22, 1, true);
    v.setUint32(24, 16000, true);
    v.setUint32(28, 32000, true);
    v.setUint16(32, 2, true);
    v.setUint16(34, 16, true);
    ascii(36, 'data');
    v.setUint32(40, 8, true);
    for (let i = 0; i < 4; i++) v.setInt16(44 + i * 2, data[i], true);
    expect(decodeWav(b)).toEqual({ ok: true, value: { sampleRate: 16000, samples: data } });
  });

  it('returns typed errors and never throws on garbage', () => {
    expect(decodeWav(new Uint8Array(3))).toMatchObject({ ok: false, error: { code: 'not-wav' } });
    const rnd = seededRandom(9);
    const good = encodeWav({ sampleRate: 8000, samples: sine(440, 20) });
    for (let i = 0; i < 10_000; i++) {
      const junk =
        i % 2 ? randomBytes(rnd, Math.floor(rnd() * 100)) : good.slice(0, Math.floor(rnd() * good.length));
      if (i % 4 === 0 && junk.length > 30) junk[20 + Math.floor(rnd() * 10)] = Math.floor(rnd() * 256);
      expect(() => decodeWav(junk)).not.toThrow();
    }
  });
});

describe('resampler', () => {
  it('48 kHz -> 8 kHz keeps a 440 Hz tone and removes a 6 kHz one (no aliasing to 2 kHz)', () => {
    const tone = sine(440, 200, 48000, 0.5);
    const down = resample(tone, 48000, 8000);
    expect(down.length).toBe(1600);
    const mid = down.subarray(200, 1400);
    expect(toneStrength(mid, 440, 8000)).toBeGreaterThan(0.95);
    expect(rms(mid) / rms(tone)).toBeGreaterThan(0.95);
    expect(rms(mid) / rms(tone)).toBeLessThan(1.05);
    // 6 kHz folds onto 2 kHz if decimated without a low-pass; require > 60 dB attenuation.
    const high = resample(sine(6000, 200, 48000, 0.5), 48000, 8000).subarray(200, 1400);
    expect(20 * Math.log10(rms(high) / rms(tone) + 1e-12)).toBeLessThan(-60);
  });

  it('8 kHz -> 48 kHz interpolates without images', () => {
    const up = resample(sine(1000, 100, 8000, 0.5), 8000, 48000);
    expect(up.length).toBe(4800);
    const mid = up.subarray(600, 4200);
    expect(toneStrength(mid, 1000, 48000)).toBeGreaterThan(0.99);
    // Images of 1 kHz at 7 and 9 kHz would appear with a naive sample-and-hold.
    expect(toneStrength(mid, 7000, 48000)).toBeLessThan(1e-4);
    expect(toneStrength(mid, 9000, 48000)).toBeLessThan(1e-4);
  });

  it('streaming in odd chunks equals one-shot', () => {
    const input = sine(300, 100, 48000, 0.4);
    const oneShot = resample(input, 48000, 8000);
    const r = new Resampler(48000, 8000);
    const parts: number[] = [];
    for (let i = 0; i < input.length; i += 77) parts.push(...r.process(input.subarray(i, i + 77)));
    parts.push(...r.flush());
    expect(Int16Array.from(parts)).toEqual(oneShot);
  });

  it('round trip 8k -> 48k -> 8k preserves speech-band audio', () => {
    const x = sine(700, 200, 8000, 0.5);
    const y = resample(resample(x, 8000, 48000), 48000, 8000);
    expect(y.length).toBe(x.length);
    let err = 0;
    let sig = 0;
    for (let i = 200; i < 1400; i++) {
      err += (x[i] - y[i]) ** 2;
      sig += x[i] ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(30);
  });

  it('16 kHz <-> 8 kHz and float conversion', () => {
    expect(resample(sine(440, 100, 16000), 16000, 8000).length).toBe(800);
    expect(resample(sine(440, 100, 8000), 8000, 16000).length).toBe(1600);
    expect(floatToPcm16([0, 1, -1, 2])).toEqual(new Int16Array([0, 32767, -32767, 32767]));
    expect(pcm16ToFloat([16384])[0]).toBe(0.5);
  });
});
