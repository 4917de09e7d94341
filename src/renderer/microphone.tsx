// A live call's audio in the page: the chosen microphone (getUserMedia) through the 'mic-capture'
// AudioWorklet in 20 ms frames to the engine (main resamples them for RTP), and the far end's
// frames from the engine through the 'speaker-out' worklet to the speakers, with a level meter on
// each side. Errors (no device, permission refused) are shown, never thrown: the call goes on and
// the far end is still heard.
import { useEffect, useId, useState } from 'react';
import { AUDIO_RATES } from '../core/api/audio-frame.ts';
import { floatToPcm16, pcm16ToFloat } from '../core/media/resample.ts';
import { useApp } from './app-context.tsx';

/** The rate main's far-end audio arrives at, and the one the page asks its AudioContext for. */
const RATE = 48_000;
const FRAME_MS = 20;

interface CallAudioView {
  level: number;
  speakerLevel: number;
  /** The strongest frequency the speaker plays now (Hz), 0 in silence. */
  speakerHz: number;
  error: string | null;
  devices: MediaDeviceInfo[];
}

/** Linear interpolation for the rare page whose AudioContext refused 48 kHz. */
function toRate(pcm: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return pcm;
  const out = new Float32Array(Math.round((pcm.length * to) / from));
  for (let i = 0; i < out.length; i++) {
    const x = (i * from) / to;
    const j = Math.floor(x);
    const f = x - j;
    out[i] = (pcm[j] ?? 0) * (1 - f) + (pcm[j + 1] ?? pcm[j] ?? 0) * f;
  }
  return out;
}

function useCallAudio(callId: string, deviceId: string): CallAudioView {
  const { engine } = useApp();
  const [level, setLevel] = useState(0);
  const [speaker, setSpeaker] = useState({ level: 0, hz: 0 });
  const [error, setError] = useState<string | null>(null);
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let ctx: AudioContext | null = null;
    let offSpeaker: (() => void) | null = null;
    let meterTimer: ReturnType<typeof setInterval> | undefined;
    (async () => {
      try {
        ctx = new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
        await ctx.audioWorklet.addModule(new URL('./call-audio-worklet.js', document.baseURI).href);
        if (stopped) return;
        const rate = ctx.sampleRate;
        // The far end: engine frames -> worklet FIFO -> analyser (meter) -> speakers.
        const out = new AudioWorkletNode(ctx, 'speaker-out', { numberOfInputs: 0, outputChannelCount: [1] });
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 4096;
        out.connect(analyser).connect(ctx.destination);
        offSpeaker = engine.audio.onSpeaker((id, from, pcm) => {
          if (id !== callId) return;
          const f = toRate(pcm16ToFloat(pcm), from, rate);
          out.port.postMessage(f, [f.buffer]);
        });
        const bins = new Float32Array(analyser.frequencyBinCount);
        const wave = new Float32Array(analyser.fftSize);
        meterTimer = setInterval(() => {
          analyser.getFloatTimeDomainData(wave);
          let sum = 0;
          for (const v of wave) sum += v * v;
          const rms = Math.sqrt(sum / wave.length);
          analyser.getFloatFrequencyData(bins);
          let best = 0;
          for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
          const hz = rms > 0.005 ? Math.round((best * rate) / analyser.fftSize) : 0;
          setSpeaker({ level: Math.min(1, rms * 2), hz });
        }, 100);
        // The microphone: worklet blocks -> 20 ms frames -> the engine.
        stream = await navigator.mediaDevices.getUserMedia({
          audio: deviceId
            ? { deviceId: { exact: deviceId }, echoCancellation: true }
            : { echoCancellation: true },
        });
        if (stopped) return;
        setDevices((await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput'));
        if (!(AUDIO_RATES as readonly number[]).includes(rate))
          throw new Error(`the audio device runs at ${rate} Hz, which calls do not take`);
        const capture = new AudioWorkletNode(ctx, 'mic-capture');
        const frame = new Float32Array(Math.round((rate * FRAME_MS) / 1000));
        let filled = 0;
        capture.port.onmessage = (e: MessageEvent<{ level?: number; samples?: Float32Array }>) => {
          if (e.data.level !== undefined) setLevel(e.data.level);
          const s = e.data.samples;
          if (!s) return;
          for (let i = 0; i < s.length; i++) {
            frame[filled++] = s[i];
            if (filled === frame.length) {
              engine.audio.microphone(callId, rate, floatToPcm16(frame));
              filled = 0;
            }
          }
        };
        // A silent path to the destination keeps the capture worklet pulled by the graph.
        const sink = ctx.createGain();
        sink.gain.value = 0;
        ctx.createMediaStreamSource(stream).connect(capture).connect(sink).connect(ctx.destination);
        setError(null);
      } catch (err) {
        if (!stopped) setError((err as Error).message || String(err));
      }
    })();
    return () => {
      stopped = true;
      offSpeaker?.();
      clearInterval(meterTimer);
      for (const t of stream?.getTracks() ?? []) t.stop();
      void ctx?.close();
    };
  }, [engine, callId, deviceId]);
  return { level, speakerLevel: speaker.level, speakerHz: speaker.hz, error, devices };
}

export function CallAudio({ callId, muted }: { callId: string; muted: boolean }) {
  const [deviceId, setDeviceId] = useState('');
  const { level, speakerLevel, speakerHz, error, devices } = useCallAudio(callId, deviceId);
  const id = useId();
  return (
    <div className="mic row">
      {devices.length > 1 ? (
        <label className="search" htmlFor={id}>
          <span>Microphone</span>
          <select id={id} value={deviceId} onChange={(e) => setDeviceId(e.target.value)}>
            <option value="">Default</option>
            {devices.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Microphone ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {error ? (
        <span className="warning">Microphone unavailable: {error}</span>
      ) : (
        <label className="meter">
          <span>{muted ? 'Microphone (muted)' : 'Microphone level'}</span>
          <meter min={0} max={1} value={muted ? 0 : level} />
        </label>
      )}
      <label className="meter">
        <span>Speaker level</span>
        <meter min={0} max={1} value={speakerLevel} data-peak-hz={speakerHz} />
      </label>
    </div>
  );
}
