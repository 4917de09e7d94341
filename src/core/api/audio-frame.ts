// The binary audio channel between the UI and the engine: a call's microphone (UI -> engine) and
// its far end (engine -> UI) as 16-bit PCM frames with a small header. Carried as binary WebSocket
// messages (headless) or MessagePort messages (Electron); JSON stays for commands and events.
//
// Layout (little-endian):
//   0     u8   version (1)
//   1     u8   kind: 1 microphone (UI -> engine), 2 speaker (engine -> UI)
//   2..3  u16  sample rate (one of AUDIO_RATES)
//   4     u8   N, length of the call id (1..200)
//   5..   N    call id (ASCII, as in the contract)
//   ...        int16 samples (1..MAX_FRAME_SAMPLES)
// Parsing never throws: a hostile frame is a typed error the bridge logs and drops.

export const AUDIO_FRAME_VERSION = 1;
export const AUDIO_RATES = [8000, 16000, 24000, 32000, 44100, 48000] as const;
/** 100 ms at 48 kHz: a page sends 20 ms frames; more in one frame is a bug or an attack. */
export const MAX_FRAME_SAMPLES = 4800;
const HEADER = 5;
const MAX_ID = 200;
const ID_PATTERN = /^[\x21-\x7e]+$/;

export type AudioFrameKind = 'microphone' | 'speaker';
const KIND_CODE: Record<AudioFrameKind, number> = { microphone: 1, speaker: 2 };

export interface AudioFrame {
  kind: AudioFrameKind;
  callId: string;
  sampleRate: number;
  samples: Int16Array;
}

export type AudioFrameResult = { ok: true; frame: AudioFrame } | { ok: false; error: string };

export function encodeAudioFrame(f: AudioFrame): Uint8Array {
  const id = new TextEncoder().encode(f.callId);
  if (id.length < 1 || id.length > MAX_ID) throw new RangeError('audio frame: call id length');
  const out = new Uint8Array(HEADER + id.length + f.samples.length * 2);
  const view = new DataView(out.buffer);
  view.setUint8(0, AUDIO_FRAME_VERSION);
  view.setUint8(1, KIND_CODE[f.kind]);
  view.setUint16(2, f.sampleRate, true);
  view.setUint8(4, id.length);
  out.set(id, HEADER);
  let off = HEADER + id.length;
  for (let i = 0; i < f.samples.length; i++, off += 2) view.setInt16(off, f.samples[i], true);
  return out;
}

/** Reads one frame; `expect` is the kind this side may receive (the other is refused). */
export function parseAudioFrame(bytes: Uint8Array, expect: AudioFrameKind): AudioFrameResult {
  if (bytes.length < HEADER + 1 + 2) return { ok: false, error: 'audio frame: too short' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(0) !== AUDIO_FRAME_VERSION) return { ok: false, error: 'audio frame: version' };
  if (view.getUint8(1) !== KIND_CODE[expect]) return { ok: false, error: 'audio frame: kind' };
  const sampleRate = view.getUint16(2, true);
  if (!(AUDIO_RATES as readonly number[]).includes(sampleRate))
    return { ok: false, error: `audio frame: sample rate ${sampleRate}` };
  const n = view.getUint8(4);
  if (n < 1 || n > MAX_ID) return { ok: false, error: 'audio frame: call id length' };
  if (bytes.length < HEADER + n) return { ok: false, error: 'audio frame: truncated id' };
  let callId = '';
  for (let i = 0; i < n; i++) callId += String.fromCharCode(bytes[HEADER + i]);
  if (!ID_PATTERN.test(callId)) return { ok: false, error: 'audio frame: call id characters' };
  const body = bytes.length - HEADER - n;
  if (body < 2 || body % 2 !== 0) return { ok: false, error: 'audio frame: odd or empty samples' };
  const count = body / 2;
  if (count > MAX_FRAME_SAMPLES) return { ok: false, error: `audio frame: ${count} samples` };
  const samples = new Int16Array(count);
  const start = HEADER + n;
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(start + i * 2, true);
  return { ok: true, frame: { kind: expect, callId, sampleRate, samples } };
}
