// Tone generators (sine, DTMF dual tones, beeps) and a Goertzel detector. Generators keep their
// phase between calls so a tone can be produced frame by frame without clicks.

export class ToneGenerator {
  private readonly phases: number[];
  private readonly steps: number[];

  /** `amplitude` is a fraction of full scale shared by all frequencies (0..1). */
  constructor(
    frequencies: number[],
    readonly sampleRate = 8000,
    private readonly amplitude = 0.5,
  ) {
    this.phases = frequencies.map(() => 0);
    this.steps = frequencies.map((f) => (2 * Math.PI * f) / sampleRate);
  }

  next(count: number): Int16Array {
    const out = new Int16Array(count);
    const scale = (32767 * this.amplitude) / Math.max(1, this.steps.length);
    for (let i = 0; i < count; i++) {
      let v = 0;
      for (let k = 0; k < this.steps.length; k++) {
        v += Math.sin(this.phases[k]);
        this.phases[k] += this.steps[k];
        if (this.phases[k] > 2 * Math.PI) this.phases[k] -= 2 * Math.PI;
      }
      out[i] = Math.round(v * scale);
    }
    return out;
  }
}

function samplesFor(durationMs: number, sampleRate: number): number {
  return Math.max(0, Math.round((durationMs * sampleRate) / 1000));
}

export function sine(frequency: number, durationMs: number, sampleRate = 8000, amplitude = 0.5): Int16Array {
  return new ToneGenerator([frequency], sampleRate, amplitude).next(samplesFor(durationMs, sampleRate));
}

/** DTMF frequency pairs (ITU-T Q.23): [low, high] per key. */
export const DTMF_FREQUENCIES: Record<string, [number, number]> = {
  '1': [697, 1209],
  '2': [697, 1336],
  '3': [697, 1477],
  A: [697, 1633],
  '4': [770, 1209],
  '5': [770, 1336],
  '6': [770, 1477],
  B: [770, 1633],
  '7': [852, 1209],
  '8': [852, 1336],
  '9': [852, 1477],
  C: [852, 1633],
  '*': [941, 1209],
  '0': [941, 1336],
  '#': [941, 1477],
  D: [941, 1633],
};

export function dtmfTone(
  digit: string,
  durationMs = 100,
  sampleRate = 8000,
  amplitude = 0.5,
): Int16Array | null {
  const pair = DTMF_FREQUENCIES[digit.toUpperCase()];
  if (!pair) return null;
  return new ToneGenerator(pair, sampleRate, amplitude).next(samplesFor(durationMs, sampleRate));
}

/** The voicemail "record after the tone" beep: 1 kHz with 5 ms ramps so it does not click. */
export function beep(durationMs = 400, sampleRate = 8000, frequency = 1000, amplitude = 0.4): Int16Array {
  const out = sine(frequency, durationMs, sampleRate, amplitude);
  const ramp = Math.min(Math.floor(out.length / 2), samplesFor(5, sampleRate));
  for (let i = 0; i < ramp; i++) {
    const g = i / ramp;
    out[i] = Math.round(out[i] * g);
    out[out.length - 1 - i] = Math.round(out[out.length - 1 - i] * g);
  }
  return out;
}

export function silence(durationMs: number, sampleRate = 8000): Int16Array {
  return new Int16Array(samplesFor(durationMs, sampleRate));
}

/** Squared magnitude of the DFT of `samples` at `frequency` (Goertzel algorithm). */
export function goertzelPower(samples: ArrayLike<number>, frequency: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/**
 * Share of the signal's energy at `frequency`: about 1 for a pure tone at that frequency, near 0
 * for silence or other frequencies. Independent of level, so thresholds need no calibration.
 */
export function toneStrength(samples: ArrayLike<number>, frequency: number, sampleRate: number): number {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += samples[i] * samples[i];
  if (energy === 0 || samples.length === 0) return 0;
  return goertzelPower(samples, frequency, sampleRate) / ((samples.length * energy) / 2);
}

export function detectTone(
  samples: ArrayLike<number>,
  frequency: number,
  sampleRate: number,
  threshold = 0.5,
): boolean {
  return toneStrength(samples, frequency, sampleRate) >= threshold;
}
