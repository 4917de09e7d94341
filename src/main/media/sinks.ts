// Where received audio goes: one 8 kHz frame per tick from the jitter buffer.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FrameKind } from '../../core/media/jitter-buffer.ts';
import { toneStrength } from '../../core/media/tones.ts';
import { encodeWav } from '../../core/media/wav.ts';
import { MEDIA_RATE } from './sources.ts';

export interface AudioSink {
  write(frame: Int16Array, kind: FrameKind): void;
  /** Called once when the session stops (flush files). */
  close?(): Promise<void> | void;
}

/** Records everything played out (silence included, so timing is kept) and writes a WAV on close. */
export class WavRecorder implements AudioSink {
  private chunks: Int16Array[] = [];
  private length = 0;
  private written = false;

  constructor(
    readonly path: string,
    private readonly maxSeconds = 3600,
  ) {}

  write(frame: Int16Array): void {
    if (this.length >= this.maxSeconds * MEDIA_RATE) return;
    this.chunks.push(frame);
    this.length += frame.length;
  }

  get samples(): Int16Array {
    const out = new Int16Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.written) return;
    this.written = true;
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(this.path, encodeWav({ sampleRate: MEDIA_RATE, samples: this.samples }));
  }
}

export class CallbackSink implements AudioSink {
  constructor(private readonly push: (frame: Int16Array, kind: FrameKind) => void) {}
  write(frame: Int16Array, kind: FrameKind): void {
    this.push(frame, kind);
  }
}

/** Keeps the last few seconds of real (not concealed) audio and measures tones in it (Goertzel). */
export class ToneProbe implements AudioSink {
  private readonly ring: Int16Array;
  private pos = 0;
  private filled = 0;
  audioFrames = 0;

  constructor(windowMs = 1000) {
    this.ring = new Int16Array(Math.round((windowMs * MEDIA_RATE) / 1000));
  }

  write(frame: Int16Array, kind: FrameKind): void {
    if (kind !== 'audio') return;
    this.audioFrames++;
    for (let i = 0; i < frame.length; i++) {
      this.ring[this.pos] = frame[i];
      this.pos = (this.pos + 1) % this.ring.length;
    }
    this.filled = Math.min(this.ring.length, this.filled + frame.length);
  }

  /** Forgets the window (e.g. to measure only what arrives after a resume). */
  reset(): void {
    this.pos = 0;
    this.filled = 0;
    this.audioFrames = 0;
  }

  /** The window, oldest sample first. */
  window(): Int16Array {
    if (this.filled < this.ring.length) return this.ring.slice(0, this.filled);
    const out = new Int16Array(this.ring.length);
    out.set(this.ring.subarray(this.pos));
    out.set(this.ring.subarray(0, this.pos), this.ring.length - this.pos);
    return out;
  }

  /** Share of the window's energy at `frequency` (1 for a pure tone there, ~0 elsewhere). */
  strength(frequency: number, blockMs = 100): number {
    return blockToneStrength(this.window(), frequency, MEDIA_RATE, blockMs);
  }
}

/**
 * Median tone strength over consecutive blocks (100 ms by default). One Goertzel over a long
 * window loses coherence at every phase jump a real stream has (a concealed or trimmed frame,
 * a resynchronised jitter buffer); short blocks keep a jump's damage to one block.
 */
export function blockToneStrength(
  samples: Int16Array,
  frequency: number,
  sampleRate: number,
  blockMs = 100,
): number {
  const n = Math.max(1, Math.round((blockMs * sampleRate) / 1000));
  if (samples.length < 2 * n) return toneStrength(samples, frequency, sampleRate);
  const values: number[] = [];
  for (let i = 0; i + n <= samples.length; i += n) {
    values.push(toneStrength(samples.subarray(i, i + n), frequency, sampleRate));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
}
