// Media hot paths, expressed as how many concurrent calls one core could carry (a call = 50 frames
// of 20 ms per second in each direction). Run: node --import tsx test/bench/media.bench.ts
import { decodeG711, encodeG711 } from '../../src/core/media/g711.ts';
import { Resampler } from '../../src/core/media/resample.ts';
import { RtpSession } from '../../src/core/media/rtp-session.ts';
import { sine } from '../../src/core/media/tones.ts';
import type { Address } from '../../src/core/net.ts';

const A: Address = { transport: 'UDP', host: '10.0.0.1', port: 4000 };
const B: Address = { transport: 'UDP', host: '10.0.0.2', port: 5000 };

function time(label: string, frames: number, fn: () => void): void {
  fn(); // warm up
  const t0 = process.hrtime.bigint();
  fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const perSec = (frames / ms) * 1000;
  console.log(
    `${label.padEnd(44)} ${((ms / frames) * 1000).toFixed(2).padStart(8)} us/frame  ~${Math.floor(perSec / 50)} call-directions/core`,
  );
}

const frame8k = sine(440, 20, 8000);
const frame48k = sine(440, 20, 48000);
const N = 20_000;

time('G.711 mu-law encode + decode (160 samples)', N, () => {
  for (let i = 0; i < N; i++) decodeG711('PCMU', encodeG711('PCMU', frame8k));
});

time('RtpSession send -> receive -> playout', N, () => {
  let n = 0;
  const rnd = () => new Uint8Array(10).map(() => n++ & 0xff);
  const tx = new RtpSession({ codec: { name: 'PCMU', pt: 0 }, remote: B, randomBytes: rnd });
  const rx = new RtpSession({ codec: { name: 'PCMU', pt: 0 }, remote: A, randomBytes: rnd });
  for (let i = 0; i < N; i++) {
    const e = tx.sendFrame(frame8k, i * 20);
    if (e) rx.receive(e.data, A, i * 20 + 5);
    rx.pop(i * 20 + 10);
  }
});

time('Resampler 48 kHz -> 8 kHz (960 -> 160 samples)', 2000, () => {
  const r = new Resampler(48000, 8000);
  for (let i = 0; i < 2000; i++) r.process(frame48k);
});

time('Resampler 8 kHz -> 48 kHz (160 -> 960 samples)', 2000, () => {
  const r = new Resampler(8000, 48000);
  for (let i = 0; i < 2000; i++) r.process(frame8k);
});
