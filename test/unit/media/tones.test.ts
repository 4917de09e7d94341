import { describe, expect, it } from 'vitest';
import { dbfs, rms, SilenceDetector } from '../../../src/core/media/silence.ts';
import {
  beep,
  DTMF_FREQUENCIES,
  detectTone,
  dtmfTone,
  goertzelPower,
  sine,
  ToneGenerator,
  toneStrength,
} from '../../../src/core/media/tones.ts';

describe('tones and Goertzel', () => {
  it('sine has the requested length, level and frequency', () => {
    const s = sine(440, 100, 8000, 0.5);
    expect(s.length).toBe(800);
    expect(Math.max(...s)).toBeGreaterThan(16000);
    expect(Math.max(...s)).toBeLessThanOrEqual(16384);
    expect(rms(s)).toBeCloseTo(16383.5 / Math.SQRT2, -2);
    expect(toneStrength(s, 440, 8000)).toBeGreaterThan(0.9);
    expect(toneStrength(s, 700, 8000)).toBeLessThan(0.05);
    expect(detectTone(s, 440, 8000)).toBe(true);
    expect(detectTone(s, 700, 8000)).toBe(false);
  });

  it('Goertzel power matches a direct DFT bin', () => {
    const s = sine(1000, 20, 8000, 0.3);
    let re = 0;
    let im = 0;
    for (let n = 0; n < s.length; n++) {
      re += s[n] * Math.cos((2 * Math.PI * 1000 * n) / 8000);
      im -= s[n] * Math.sin((2 * Math.PI * 1000 * n) / 8000);
    }
    expect(goertzelPower(s, 1000, 8000) / (re * re + im * im)).toBeCloseTo(1, 6);
  });

  it('generator is phase-continuous across frames', () => {
    const g = new ToneGenerator([440], 8000, 0.5);
    const frames = [g.next(160), g.next(160), g.next(160)];
    const joined = Int16Array.from(frames.flatMap((f) => [...f]));
    expect(joined).toEqual(sine(440, 60, 8000, 0.5));
  });

  it('DTMF tones contain exactly their two frequencies', () => {
    for (const [digit, [lo, hi]] of Object.entries(DTMF_FREQUENCIES)) {
      const t = dtmfTone(digit, 100);
      if (!t) throw new Error('no tone');
      expect(toneStrength(t, lo, 8000) + toneStrength(t, hi, 8000), digit).toBeGreaterThan(0.9);
      expect(toneStrength(t, lo, 8000), digit).toBeGreaterThan(0.4);
      const others = [697, 770, 852, 941, 1209, 1336, 1477, 1633].filter((f) => f !== lo && f !== hi);
      for (const f of others) expect(toneStrength(t, f, 8000), `${digit} @${f}`).toBeLessThan(0.05);
    }
    expect(dtmfTone('x')).toBeNull();
  });

  it('beep ramps in and out', () => {
    const b = beep(400, 16000);
    expect(b.length).toBe(6400);
    expect(Math.abs(b[0])).toBe(0);
    expect(Math.abs(b[b.length - 1])).toBeLessThan(200);
    expect(detectTone(b, 1000, 16000)).toBe(true);
  });
});

describe('silence detection', () => {
  it('measures levels', () => {
    expect(dbfs(new Int16Array(160))).toBe(Number.NEGATIVE_INFINITY);
    expect(dbfs(new Int16Array(160).fill(32767))).toBeCloseTo(0, 2);
    expect(dbfs(sine(440, 20, 8000, 0.5))).toBeCloseTo(-9.03, 1);
  });

  it('reports how long silence has lasted and resets on sound', () => {
    const d = new SilenceDetector({ thresholdDb: -45 });
    const loud = sine(440, 20, 8000, 0.1);
    const quiet = sine(440, 20, 8000, 0.001); // -63 dBFS: line noise level
    expect(d.push(loud)).toEqual({ silent: false, silentMs: 0 });
    for (let i = 1; i <= 50; i++) expect(d.push(quiet).silentMs).toBe(i * 20);
    expect(d.push(loud).silentMs).toBe(0);
    expect(d.push(new Int16Array(160))).toEqual({ silent: true, silentMs: 20 });
  });
});
