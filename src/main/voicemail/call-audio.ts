// The audio side of a voicemail call: a playlist played to the caller clip after clip (each clip's
// end resolves its promise, so a script reads "play greeting, then beep, then record"), and the
// recorder that keeps the caller's audio once recording starts.
import type { FrameKind } from '../../core/media/jitter-buffer.ts';
import { SilenceDetector } from '../../core/media/silence.ts';
import type { AudioSink } from '../media/sinks.ts';
import { type AudioSource, MEDIA_RATE } from '../media/sources.ts';

interface Clip {
  pcm: Int16Array;
  pos: number;
  done: (finished: boolean) => void;
}

export class Playlist implements AudioSource {
  private readonly queue: Clip[] = [];

  /** Queues a clip; resolves true when it was played to its end, false when stopped first. */
  play(pcm: Int16Array): Promise<boolean> {
    return new Promise((done) => this.queue.push({ pcm, pos: 0, done }));
  }

  /** Drops everything queued or playing (a digit interrupts a prompt). */
  stop(): void {
    for (const c of this.queue.splice(0)) c.done(false);
  }

  get playing(): boolean {
    return this.queue.length > 0;
  }

  read(samples: number): Int16Array {
    const out = new Int16Array(samples);
    let filled = 0;
    while (filled < samples && this.queue.length > 0) {
      const clip = this.queue[0];
      const n = Math.min(samples - filled, clip.pcm.length - clip.pos);
      out.set(clip.pcm.subarray(clip.pos, clip.pos + n), filled);
      clip.pos += n;
      filled += n;
      if (clip.pos >= clip.pcm.length) {
        this.queue.shift();
        clip.done(true);
      }
    }
    return out;
  }
}

export interface RecorderOptions {
  maxMs: number;
  /** Frames quieter than this (dBFS) count as silence. */
  silenceDb?: number;
}

/** Keeps received frames while armed (timing kept: lost frames are concealment or silence). */
export class MessageRecorder implements AudioSink {
  /** Grows by doubling up to the limit (a 3-minute message is 2.9 MB of PCM). */
  private buffer = new Int16Array(MEDIA_RATE * 10);
  private length = 0;
  private armed = false;
  private voicedSamples = 0;
  private readonly detector: SilenceDetector;
  private readonly maxSamples: number;

  constructor(opts: RecorderOptions) {
    this.detector = new SilenceDetector({ thresholdDb: opts.silenceDb ?? -45, sampleRate: MEDIA_RATE });
    this.maxSamples = Math.round((opts.maxMs * MEDIA_RATE) / 1000);
  }

  start(): void {
    this.armed = true;
  }

  /** Stops recording for good (hang-up, #, limit). */
  stop(): void {
    this.armed = false;
  }

  get recording(): boolean {
    return this.armed;
  }

  write(frame: Int16Array, _kind: FrameKind): void {
    if (!this.armed || this.length >= this.maxSamples) return;
    const part = frame.subarray(0, this.maxSamples - this.length);
    if (this.length + part.length > this.buffer.length) {
      const grown = new Int16Array(Math.min(this.maxSamples, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(part, this.length);
    this.length += part.length;
    if (!this.detector.push(part).silent) this.voicedSamples += part.length;
  }

  get durationMs(): number {
    return Math.round((this.length * 1000) / MEDIA_RATE);
  }

  /** How much of the recording is not silence (ms): silence-only messages are dropped. */
  get voicedMs(): number {
    return Math.round((this.voicedSamples * 1000) / MEDIA_RATE);
  }

  get samples(): Int16Array {
    return this.buffer.slice(0, this.length);
  }
}
