// A call's audio between the UI and the softphone's RTP. The UI sends microphone frames at its
// own rate (48 kHz from a browser); they are resampled to 8 kHz into a small per-call FIFO that
// the call's MediaSession pulls one 20 ms frame from per tick (the softphone's per-call `source`).
// What the far end says (the softphone's per-call `sink`, 8 kHz) is resampled to the UI's rate and
// handed to the speaker listeners (the bridges). Muting a call makes its source silent: RTP keeps
// its timing, but none of the microphone leaves this PC.
import type { EngineAudio, SpeakerListener } from '../../core/api/engine.ts';
import type { FrameKind } from '../../core/media/jitter-buffer.ts';
import { Resampler } from '../../core/media/resample.ts';
import type { Logger } from '../log.ts';
import type { AudioSink } from '../media/sinks.ts';
import { type AudioSource, MEDIA_RATE } from '../media/sources.ts';

/** The far end goes to the UI at this rate (what the renderer's AudioContext runs at). */
export const SPEAKER_RATE = 48_000;
/** Microphone audio waiting for RTP beyond this is dropped (oldest first): latency stays low. */
const MAX_QUEUED_MS = 200;
/** Ticks of silence before a starved FIFO plays again: absorbs the page's frame jitter. */
const PREFILL_SAMPLES = (40 * MEDIA_RATE) / 1000;

class MicQueue {
  private buf = new Int16Array((MAX_QUEUED_MS * MEDIA_RATE) / 1000);
  private length = 0;
  private primed = false;
  private resampler: Resampler | null = null;
  dropped = 0;
  received = 0;

  push(rate: number, samples: Int16Array): void {
    this.received += samples.length;
    if (!this.resampler || this.resampler.fromRate !== rate)
      this.resampler = rate === MEDIA_RATE ? null : new Resampler(rate, MEDIA_RATE);
    const pcm = this.resampler ? this.resampler.process(samples) : samples;
    const over = this.length + pcm.length - this.buf.length;
    if (over > 0) {
      // Drop the oldest: the freshest audio is what the far end should hear.
      const drop = Math.min(over, this.length);
      this.buf.copyWithin(0, drop, this.length);
      this.length -= drop;
      this.dropped += drop;
    }
    const take = pcm.subarray(Math.max(0, pcm.length - this.buf.length));
    this.buf.set(take, this.length);
    this.length += take.length;
  }

  read(samples: number): Int16Array {
    const out = new Int16Array(samples);
    if (!this.primed) {
      if (this.length < PREFILL_SAMPLES) return out;
      this.primed = true;
    }
    const n = Math.min(samples, this.length);
    out.set(this.buf.subarray(0, n));
    this.buf.copyWithin(0, n, this.length);
    this.length -= n;
    if (n < samples) this.primed = false;
    return out;
  }
}

interface CallState {
  mic: MicQueue;
  speaker: Resampler;
}

export class CallAudio implements EngineAudio {
  private readonly calls = new Map<string, CallState>();
  private readonly speakers = new Set<SpeakerListener>();
  /** Muted calls (set before or during media; cleared when the call's media stops or on unmute). */
  private readonly muted = new Set<string>();
  private unknownFrames = 0;

  constructor(private readonly log: Logger) {}

  private state(callId: string): CallState {
    let s = this.calls.get(callId);
    if (!s) {
      s = { mic: new MicQueue(), speaker: new Resampler(MEDIA_RATE, SPEAKER_RATE) };
      this.calls.set(callId, s);
    }
    return s;
  }

  /** The softphone's source for a call: the UI's microphone, silent while muted. */
  source(callId: string): AudioSource {
    const s = this.state(callId);
    return {
      read: (n) => {
        const pcm = s.mic.read(n);
        return this.muted.has(callId) ? new Int16Array(n) : pcm;
      },
    };
  }

  /** The softphone's sink for a call: the far end, to the UI's speaker. */
  sink(callId: string): AudioSink {
    const s = this.state(callId);
    return {
      write: (frame: Int16Array, _kind: FrameKind) => {
        if (this.speakers.size === 0) return;
        const pcm = s.speaker.process(frame);
        for (const l of [...this.speakers]) {
          try {
            l(callId, SPEAKER_RATE, pcm);
          } catch (err) {
            this.log.warn('speaker listener failed', { call: callId, err });
          }
        }
      },
      close: () => {
        const st = this.calls.get(callId);
        if (st && (st.mic.dropped > 0 || st.mic.received > 0))
          this.log.info('call audio from the UI', {
            call: callId,
            received: st.mic.received,
            dropped: st.mic.dropped,
          });
        this.calls.delete(callId);
        this.muted.delete(callId);
      },
    };
  }

  microphone(callId: string, sampleRate: number, samples: Int16Array): void {
    const s = this.calls.get(callId);
    if (!s) {
      // A frame for a call without media (ended, not answered yet): dropped, logged once in a while.
      if (this.unknownFrames++ % 500 === 0)
        this.log.info('microphone frame for no live call dropped', { call: callId });
      return;
    }
    s.mic.push(sampleRate, samples);
  }

  onSpeaker(listener: SpeakerListener): () => void {
    this.speakers.add(listener);
    return () => this.speakers.delete(listener);
  }

  /** Mutes a call's microphone; false when the call has no media yet (the mute still holds). */
  setMuted(callId: string, on: boolean): boolean {
    if (on) this.muted.add(callId);
    else this.muted.delete(callId);
    return this.calls.has(callId);
  }

  /** Calls with live media (tests, leak checks). */
  get live(): number {
    return this.calls.size;
  }
}

/** The part of SoftPhone the hook touches: its per-call source/sinks options (read at each call). */
export interface PhoneMediaHooks {
  opts: {
    source?: (callId: string) => AudioSource;
    sinks?: (callId: string) => AudioSink[];
    play?: string;
    toneHz?: number;
  };
}

/**
 * Routes the phone's calls through `audio`. A phone told to play a file or tone (`run --play`, a
 * test rig) keeps its source; the UI still hears the far end. Returns the undo.
 */
export function attachCallAudio(phone: PhoneMediaHooks, audio: CallAudio): () => void {
  const prev = { source: phone.opts.source, sinks: phone.opts.sinks };
  const ownSource = phone.opts.play !== undefined || phone.opts.toneHz !== undefined || prev.source;
  if (!ownSource) phone.opts.source = (id) => audio.source(id);
  phone.opts.sinks = (id) => [...(prev.sinks?.(id) ?? []), audio.sink(id)];
  return () => {
    phone.opts.source = prev.source;
    phone.opts.sinks = prev.sinks;
  };
}
