// A voicemail's waveform with playback progress: the WAV is decoded by the browser (decodeAudioData),
// reduced to one peak per bar, and drawn as SVG; bars already played are shaded (seeking stays with the audio element's
// keyboard-usable controls).
import { type RefObject, useEffect, useState } from 'react';

const BARS = 120;

/** Peak amplitude (0..1) of each of `bars` equal slices of the samples. */
export function peaks(samples: Float32Array, bars = BARS): number[] {
  const out: number[] = [];
  const step = samples.length / bars;
  for (let b = 0; b < bars; b++) {
    let peak = 0;
    const end = Math.min(samples.length, Math.floor((b + 1) * step));
    for (let i = Math.floor(b * step); i < end; i++) peak = Math.max(peak, Math.abs(samples[i]));
    out.push(peak);
  }
  return out;
}

export function Waveform({ blob, audio }: { blob: Blob; audio: RefObject<HTMLAudioElement | null> }) {
  const [bars, setBars] = useState<number[] | null>(null);
  const [position, setPosition] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const ctx = new OfflineAudioContext(1, 1, 8000);
    blob
      .arrayBuffer()
      .then((buf) => ctx.decodeAudioData(buf))
      .then((decoded) => {
        if (!cancelled) setBars(peaks(decoded.getChannelData(0)));
      })
      .catch((err) => console.warn('waveform: cannot decode', err));
    return () => {
      cancelled = true;
    };
  }, [blob]);

  useEffect(() => {
    const a = audio.current;
    if (!a) return;
    const update = () => setPosition(a.duration > 0 ? a.currentTime / a.duration : 0);
    a.addEventListener('timeupdate', update);
    a.addEventListener('ended', update);
    return () => {
      a.removeEventListener('timeupdate', update);
      a.removeEventListener('ended', update);
    };
  }, [audio]);

  if (!bars) return null;
  const max = Math.max(0.01, ...bars);
  const played = Math.round(position * bars.length);

  return (
    <svg
      className="waveform"
      viewBox={`0 0 ${bars.length * 3} 40`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Waveform, ${Math.round(position * 100)}% played`}
      data-played={played}
    >
      {bars
        .map((p, i) => ({ x: i * 3, h: Math.max(1, (p / max) * 38), done: i < played }))
        .map((bar) => (
          // Keyed by position: bars never reorder.
          <rect
            key={bar.x}
            x={bar.x}
            y={20 - bar.h / 2}
            width={2}
            height={bar.h}
            className={bar.done ? 'played' : undefined}
          />
        ))}
    </svg>
  );
}
