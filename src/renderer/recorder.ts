// Records a greeting from the microphone in the page: getUserMedia -> the 'mic-capture' worklet ->
// 8 kHz 16-bit mono WAV (the voicemail's own format; 30 s is ~480 KB, under the 512 KiB a
// GREETING record holds). No MediaRecorder: it gives Opus in WebM, which the voicemail cannot play.
import { floatToPcm16, resample } from '../core/media/resample.ts';

const RATE = 8000;
/** The longest greeting that fits a GREETING record (512 KiB) at 8 kHz 16-bit. */
export const MAX_GREETING_SECONDS = 30;

/** A RIFF/WAVE file: PCM, mono, 16-bit. */
export function encodeWavMono16(samples: Int16Array, sampleRate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i));
  };
  text(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + i * 2, samples[i], true);
  return out;
}

export interface Recording {
  /** Stops and returns the WAV file. */
  stop(): Promise<Uint8Array>;
  /** Drops the recording. */
  cancel(): void;
}

export async function startRecording(onLevel: (level: number) => void): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const ctx = new AudioContext();
  const chunks: Float32Array[] = [];
  let length = 0;
  const max = MAX_GREETING_SECONDS * ctx.sampleRate;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const t of stream.getTracks()) t.stop();
    void ctx.close();
  };
  try {
    await ctx.audioWorklet.addModule(new URL('./call-audio-worklet.js', document.baseURI).href);
    const node = new AudioWorkletNode(ctx, 'mic-capture');
    node.port.onmessage = (e: MessageEvent<{ level?: number; samples?: Float32Array }>) => {
      if (e.data.level !== undefined) onLevel(e.data.level);
      if (e.data.samples && length < max) {
        chunks.push(e.data.samples);
        length += e.data.samples.length;
      }
    };
    const mute = ctx.createGain();
    mute.gain.value = 0;
    ctx.createMediaStreamSource(stream).connect(node).connect(mute).connect(ctx.destination);
  } catch (err) {
    close();
    throw err;
  }
  return {
    async stop() {
      close();
      const all = new Float32Array(length);
      let at = 0;
      for (const c of chunks) {
        all.set(c.subarray(0, Math.min(c.length, length - at)), at);
        at += c.length;
        if (at >= length) break;
      }
      return encodeWavMono16(resample(floatToPcm16(all), ctx.sampleRate, RATE), RATE);
    },
    cancel: close,
  };
}
