// Where outgoing audio comes from: 8 kHz mono 16-bit frames pulled once per tick.
import { readFile } from 'node:fs/promises';
import { resample } from '../../core/media/resample.ts';
import { ToneGenerator } from '../../core/media/tones.ts';
import { decodeWav } from '../../core/media/wav.ts';

export const MEDIA_RATE = 8000;
export const FRAME_SAMPLES = 160;

export interface AudioSource {
  /** Exactly `samples` samples of 8 kHz audio; silence when the source has nothing. */
  read(samples: number): Int16Array;
}

export class SilenceSource implements AudioSource {
  read(samples: number): Int16Array {
    return new Int16Array(samples);
  }
}

export class ToneSource implements AudioSource {
  private readonly gen: ToneGenerator;
  constructor(frequencies: number | number[], amplitude = 0.3) {
    this.gen = new ToneGenerator(
      Array.isArray(frequencies) ? frequencies : [frequencies],
      MEDIA_RATE,
      amplitude,
    );
  }
  read(samples: number): Int16Array {
    return this.gen.next(samples);
  }
}

/** Plays decoded PCM (already at 8 kHz), looping or followed by silence. */
export class PcmSource implements AudioSource {
  private pos = 0;
  constructor(
    private readonly pcm: Int16Array,
    private readonly loop = true,
  ) {}

  get finished(): boolean {
    return !this.loop && this.pos >= this.pcm.length;
  }

  read(samples: number): Int16Array {
    const out = new Int16Array(samples);
    if (this.pcm.length === 0) return out;
    let filled = 0;
    while (filled < samples) {
      if (this.pos >= this.pcm.length) {
        if (!this.loop) break;
        this.pos = 0;
      }
      const n = Math.min(samples - filled, this.pcm.length - this.pos);
      out.set(this.pcm.subarray(this.pos, this.pos + n), filled);
      this.pos += n;
      filled += n;
    }
    return out;
  }
}

/** A WAV file as 8 kHz PCM (any rate, channels and sample format decodeWav accepts). */
export async function loadWav8k(path: string): Promise<Int16Array> {
  const decoded = decodeWav(new Uint8Array(await readFile(path)));
  if (!decoded.ok) throw new Error(`${path}: ${decoded.error.code}: ${decoded.error.reason}`);
  const { sampleRate, samples } = decoded.value;
  return sampleRate === MEDIA_RATE ? samples : resample(samples, sampleRate, MEDIA_RATE);
}

export async function wavSource(path: string, loop = true): Promise<PcmSource> {
  return new PcmSource(await loadWav8k(path), loop);
}

/** Pulls audio from the app (later: the renderer's microphone); short or missing frames are padded. */
export class CallbackSource implements AudioSource {
  constructor(private readonly pull: (samples: number) => Int16Array | null) {}
  read(samples: number): Int16Array {
    const got = this.pull(samples);
    if (got && got.length === samples) return got;
    const out = new Int16Array(samples);
    if (got) out.set(got.subarray(0, samples));
    return out;
  }
}
