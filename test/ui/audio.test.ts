// The call audio channel: the binary frame format (hostile input never throws), CallAudio between
// the UI and the softphone (resampling, bounded FIFO, mute), and the WebSocket bridge carrying
// microphone frames in and speaker frames out (only after the token; invalid and excess frames dropped).
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeAudioFrame, MAX_FRAME_SAMPLES, parseAudioFrame } from '../../src/core/api/audio-frame.ts';
import { type EngineAudio, type SpeakerListener, UnavailableEngine } from '../../src/core/api/engine.ts';
import { sine } from '../../src/core/media/tones.ts';
import { attachCallAudio, CallAudio, SPEAKER_RATE } from '../../src/main/engine/call-audio.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import {
  type AudioPortLike,
  serveAudioOverPort,
  startUiBridge,
  type UiBridge,
} from '../../src/main/ui-bridge/index.ts';
import { captureLogger, type LogLine, startBridge, TOKEN } from './harness.ts';

const quiet = () => captureLogger([]);

describe('audio frames', () => {
  it('round-trips a microphone frame', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
    const bytes = encodeAudioFrame({ kind: 'microphone', callId: 'abc-1', sampleRate: 48000, samples });
    const r = parseAudioFrame(bytes, 'microphone');
    expect(r).toEqual({
      ok: true,
      frame: { kind: 'microphone', callId: 'abc-1', sampleRate: 48000, samples },
    });
  });

  it('refuses the other kind, odd rates, oversize and truncated frames, and never throws', () => {
    const good = encodeAudioFrame({
      kind: 'speaker',
      callId: 'c',
      sampleRate: 8000,
      samples: new Int16Array(4),
    });
    expect(parseAudioFrame(good, 'microphone')).toMatchObject({ ok: false, error: /kind/ });
    const rate = good.slice();
    new DataView(rate.buffer).setUint16(2, 11025, true);
    expect(parseAudioFrame(rate, 'speaker')).toMatchObject({ ok: false, error: /sample rate/ });
    const big = encodeAudioFrame({
      kind: 'microphone',
      callId: 'c',
      sampleRate: 48000,
      samples: new Int16Array(MAX_FRAME_SAMPLES + 1),
    });
    expect(parseAudioFrame(big, 'microphone')).toMatchObject({ ok: false, error: /samples/ });
    expect(parseAudioFrame(good.subarray(0, good.length - 1), 'speaker')).toMatchObject({ ok: false });
    // Random bytes: a typed error or a frame, never an exception.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 5000; i++) {
      const b = Uint8Array.from({ length: rand() % 64 }, rand);
      if (i % 2 === 0 && b.length > 2) [b[0], b[1]] = [1, 1];
      const r = parseAudioFrame(b, 'microphone');
      expect(typeof r.ok).toBe('boolean');
    }
  });
});

describe('CallAudio', () => {
  it('feeds the UI microphone (48 kHz) to the call as 8 kHz, and the far end to the UI at 48 kHz', () => {
    const audio = new CallAudio(quiet());
    const phone: { opts: Parameters<typeof attachCallAudio>[0]['opts'] } = { opts: {} };
    attachCallAudio(phone, audio);
    const source = phone.opts.source?.('c1');
    const sinks = phone.opts.sinks?.('c1') ?? [];
    if (!source) throw new Error('no source hooked');
    const tone = sine(440, 400, 48000, 0.5);
    for (let i = 0; i + 960 <= tone.length; i += 960)
      audio.microphone('c1', 48000, tone.subarray(i, i + 960));
    const out: number[] = [];
    for (let i = 0; i < 15; i++) out.push(...source.read(160));
    const pcm = Int16Array.from(out.slice(480)); // past the prefill
    expect(blockToneStrength(pcm, 440, 8000)).toBeGreaterThan(0.8);

    const heard: Int16Array[] = [];
    audio.onSpeaker((id, rate, frame) => {
      expect([id, rate]).toEqual(['c1', SPEAKER_RATE]);
      heard.push(frame);
    });
    const far = sine(1000, 200, 8000, 0.5);
    for (let i = 0; i < far.length; i += 160)
      for (const s of sinks) s.write(far.subarray(i, i + 160), 'audio');
    const all = Int16Array.from(heard.flatMap((f) => [...f]));
    expect(all.length).toBeGreaterThan(9000);
    expect(blockToneStrength(all.subarray(2000), 1000, SPEAKER_RATE)).toBeGreaterThan(0.8);
    for (const s of sinks) void s.close?.();
    expect(audio.live).toBe(0);
  });

  it('mute makes the call silent; frames for unknown calls and a flood are bounded', () => {
    const audio = new CallAudio(quiet());
    const source = audio.source('c2');
    const loud = sine(440, 20, 8000, 0.5);
    // A flood (10 s at once) keeps at most ~200 ms queued.
    for (let i = 0; i < 500; i++) audio.microphone('c2', 8000, loud);
    let queued = 0;
    while (source.read(160).some((v) => v !== 0)) queued += 160;
    expect(queued).toBeLessThanOrEqual(1600);
    expect(queued).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) audio.microphone('c2', 8000, loud);
    audio.setMuted('c2', true);
    expect(source.read(160).every((v) => v === 0)).toBe(true);
    audio.setMuted('c2', false);
    for (let i = 0; i < 10; i++) audio.microphone('c2', 8000, loud);
    expect(source.read(160).some((v) => v !== 0)).toBe(true);
    audio.microphone('nope', 8000, loud); // no live call: dropped
    expect(audio.live).toBe(1);
  });

  it('keeps a phone that plays a file on its own source', () => {
    const phone: { opts: Parameters<typeof attachCallAudio>[0]['opts'] } = { opts: { toneHz: 440 } };
    const undo = attachCallAudio(phone, new CallAudio(quiet()));
    expect(phone.opts.source).toBeUndefined();
    expect(phone.opts.sinks?.('x')).toHaveLength(1);
    undo();
    expect(phone.opts.sinks).toBeUndefined();
  });
});

class AudioEngine extends UnavailableEngine {
  readonly got: Array<[string, number, number]> = [];
  private readonly speakers = new Set<SpeakerListener>();
  readonly audio: EngineAudio = {
    microphone: (id, rate, s) => this.got.push([id, rate, s.length]),
    onSpeaker: (l) => {
      this.speakers.add(l);
      return () => this.speakers.delete(l);
    },
  };
  speak(id: string, s: Int16Array): void {
    for (const l of this.speakers) l(id, 48000, s);
  }
  get listeners(): number {
    return this.speakers.size;
  }
}

describe('the WebSocket bridge carries call audio', () => {
  let bridge: UiBridge | null = null;
  afterEach(async () => {
    await bridge?.close();
    bridge = null;
  });

  const open = async (port: number) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`);
    const binary: Buffer[] = [];
    const text: string[] = [];
    ws.on('message', (d, isBinary) => (isBinary ? binary.push(d as Buffer) : text.push(d.toString())));
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    return { ws, binary, text, closed };
  };
  const until = async (f: () => boolean) => {
    for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  const mic = (n = 960) =>
    encodeAudioFrame({ kind: 'microphone', callId: 'call-1', sampleRate: 48000, samples: new Int16Array(n) });

  it('refuses audio before the token, then carries microphone in and speaker out', async () => {
    const engine = new AudioEngine();
    let log: LogLine[];
    ({ bridge, log } = await startBridge(engine, '/nonexistent'));
    const early = await open(bridge.port);
    early.ws.send(mic());
    expect(await early.closed).toBe(4401);
    expect(engine.got).toEqual([]);

    const s = await open(bridge.port);
    s.ws.send(JSON.stringify({ kind: 'auth', token: TOKEN }));
    await until(() => s.text.length > 0);
    s.ws.send(mic());
    s.ws.send(Uint8Array.from([1, 2, 3])); // invalid: dropped and logged
    s.ws.send(
      encodeAudioFrame({ kind: 'speaker', callId: 'x', sampleRate: 8000, samples: new Int16Array(2) }),
    );
    await until(() => engine.got.length > 0);
    expect(engine.got).toEqual([['call-1', 48000, 960]]);
    await until(() => log.filter((l) => l.msg === 'invalid ui audio frame dropped').length === 2);
    expect(log.filter((l) => l.msg === 'invalid ui audio frame dropped')).toHaveLength(2);

    engine.speak('call-1', Int16Array.from([5, -5]));
    await until(() => s.binary.length > 0);
    const f = parseAudioFrame(new Uint8Array(s.binary[0]), 'speaker');
    expect(f).toMatchObject({ ok: true, frame: { callId: 'call-1', sampleRate: 48000 } });
    expect(f.ok && [...f.frame.samples]).toEqual([5, -5]);
    s.ws.close();
    await s.closed;
    await until(() => engine.listeners === 0);
    expect(engine.listeners).toBe(0);
  });

  it('drops microphone frames over the per-second limit', async () => {
    const engine = new AudioEngine();
    bridge = await startUiBridge({
      engine,
      port: 0,
      token: TOKEN,
      staticDir: '/nonexistent',
      log: quiet(),
      maxAudioFramesPerSecond: 10,
    });
    const s = await open(bridge.port);
    s.ws.send(JSON.stringify({ kind: 'auth', token: TOKEN }));
    await until(() => s.text.length > 0);
    for (let i = 0; i < 40; i++) s.ws.send(mic(160));
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.got.length).toBe(10);
    s.ws.close();
  });
});

describe('the Electron MessagePort carries call audio', () => {
  it('validates microphone frames and posts speaker frames as ArrayBuffers', () => {
    const engine = new AudioEngine();
    const handlers: { message?: (e: { data: unknown }) => void; close?: () => void } = {};
    const posted: unknown[] = [];
    let closed = false;
    const port = {
      on: (ev: 'message' | 'close', l: never) => {
        handlers[ev] = l;
      },
      postMessage: (m: unknown) => posted.push(m),
      start: () => {},
      close: () => {
        closed = true;
      },
    } as unknown as AudioPortLike;
    const log: LogLine[] = [];
    const stop = serveAudioOverPort(port, engine, captureLogger(log));
    const frame = encodeAudioFrame({
      kind: 'microphone',
      callId: 'k',
      sampleRate: 16000,
      samples: new Int16Array(320),
    });
    handlers.message?.({ data: frame.buffer });
    handlers.message?.({ data: 'not audio' });
    handlers.message?.({ data: new Uint8Array([9, 9, 9]) });
    expect(engine.got).toEqual([['k', 16000, 320]]);
    expect(log.map((l) => l.msg)).toEqual([
      'non-binary message on the audio port dropped',
      'invalid ui audio frame dropped',
    ]);
    engine.speak('k', Int16Array.from([1, 2, 3]));
    expect(posted).toHaveLength(1);
    const back = parseAudioFrame(new Uint8Array(posted[0] as ArrayBuffer), 'speaker');
    expect(back.ok && [...back.frame.samples]).toEqual([1, 2, 3]);
    stop();
    expect(closed).toBe(true);
    expect(engine.listeners).toBe(0);
  });
});
