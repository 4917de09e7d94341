// Level measurement and silence detection (voicemail stops recording after a stretch of silence).

/** Root mean square of 16-bit samples, 0..32768. */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}

/** Level relative to full scale (dBFS); -Infinity for digital silence. */
export function dbfs(samples: ArrayLike<number>): number {
  const r = rms(samples);
  return r === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(r / 32768);
}

export interface SilenceDetectorOptions {
  /** Frames quieter than this are silence. -45 dBFS sits above line noise and below speech. */
  thresholdDb?: number;
  sampleRate?: number;
}

export class SilenceDetector {
  private silentSamples = 0;
  private readonly threshold: number;
  private readonly rate: number;

  constructor(opts: SilenceDetectorOptions = {}) {
    this.threshold = opts.thresholdDb ?? -45;
    this.rate = opts.sampleRate ?? 8000;
  }

  /** Feeds one frame; returns whether it was silent and how long silence has lasted (ms). */
  push(frame: ArrayLike<number>): { silent: boolean; silentMs: number } {
    const silent = dbfs(frame) < this.threshold;
    this.silentSamples = silent ? this.silentSamples + frame.length : 0;
    return { silent, silentMs: (this.silentSamples * 1000) / this.rate };
  }

  reset(): void {
    this.silentSamples = 0;
  }
}
