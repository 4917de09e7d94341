// WAV files as bytes (no fs: src/main reads and writes the files). Encoding is always mono 16-bit
// PCM; decoding accepts what phones and editors commonly produce (8/16/24/32-bit, float, G.711,
// stereo) and returns mono 16-bit PCM at the file's rate.

import wavefile from 'wavefile';

export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

export type WavErrorCode = 'not-wav' | 'unsupported-format' | 'empty';

export type WavResult =
  | { ok: true; value: PcmAudio }
  | { ok: false; error: { code: WavErrorCode; reason: string } };

export const WAV_SAMPLE_RATES = [8000, 16000, 48000] as const;

export function encodeWav(audio: PcmAudio): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, audio.sampleRate, '16', audio.samples);
  return wav.toBuffer();
}

interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
}

const MAX_WAV_BYTES = 512 * 1024 * 1024;
/**
 * Rates real files use. A greeting is any member's WAV, resampled to 8 kHz by the caller's peer:
 * a header's 1 Hz would make that 8000x the samples, 268 MHz a filter that runs for a minute.
 */
export const MIN_WAV_RATE = 8000;
export const MAX_WAV_RATE = 192_000;

export function decodeWav(bytes: Uint8Array): WavResult {
  if (!(bytes instanceof Uint8Array) || bytes.length < 12)
    return { ok: false, error: { code: 'not-wav', reason: 'too short' } };
  if (bytes.length > MAX_WAV_BYTES)
    return { ok: false, error: { code: 'unsupported-format', reason: 'file too large' } };
  // wavefile throws on malformed input; this boundary turns that into a typed error.
  try {
    const wav = new wavefile.WaveFile(bytes);
    const fmt = wav.fmt as FmtChunk;
    if (fmt.audioFormat === 7) wav.fromMuLaw();
    else if (fmt.audioFormat === 6) wav.fromALaw();
    else if (wav.bitDepth !== '16') wav.toBitDepth('16');
    const channels = Math.max(1, fmt.numChannels);
    const raw = wav.getSamples(true, Int16Array) as unknown as Int16Array;
    if (raw.length === 0) return { ok: false, error: { code: 'empty', reason: 'no samples' } };
    const frames = Math.floor(raw.length / channels);
    const samples = new Int16Array(frames);
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += raw[i * channels + c];
      samples[i] = Math.round(sum / channels);
    }
    if (!Number.isInteger(fmt.sampleRate) || fmt.sampleRate < MIN_WAV_RATE || fmt.sampleRate > MAX_WAV_RATE) {
      return { ok: false, error: { code: 'unsupported-format', reason: `sample rate ${fmt.sampleRate}` } };
    }
    return { ok: true, value: { sampleRate: fmt.sampleRate, samples } };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const code: WavErrorCode = /bit depth|format|compression/i.test(reason)
      ? 'unsupported-format'
      : 'not-wav';
    return { ok: false, error: { code, reason } };
  }
}
