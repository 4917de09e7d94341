// Sample-rate conversion by a rational factor (48 kHz <-> 8 kHz for browser audio, 16 kHz WAVs)
// with a Blackman-windowed sinc low-pass, so decimation does not fold energy above the new
// Nyquist frequency back into the voice band. Streaming: state carries across chunks.

export interface ResamplerOptions {
  /** Cutoff as a fraction of the lower of the two Nyquist frequencies. */
  cutoff?: number;
  /** Zero crossings of the sinc on each side: more means a sharper filter and more work. */
  zeroCrossings?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function blackman(u: number): number {
  // u in [-1, 1]
  if (u <= -1 || u >= 1) return 0;
  return 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
}

export class Resampler {
  readonly up: number; // L
  readonly down: number; // M
  private readonly half: number; // K: taps on each side of the centre, in input samples
  private readonly kernels: Float64Array[]; // one per phase, 2K taps each
  private history = new Float64Array(4096);
  private historyLength = 0;
  private historyStart = 0; // absolute input index of history[0]
  private inputCount = 0;
  private outputIndex = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    opts: ResamplerOptions = {},
  ) {
    if (!(fromRate > 0 && toRate > 0 && Number.isInteger(fromRate) && Number.isInteger(toRate))) {
      throw new RangeError(`bad rates ${fromRate} -> ${toRate}`);
    }
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    const cutoffHz = ((opts.cutoff ?? 0.85) * Math.min(fromRate, toRate)) / 2;
    const fc = (2 * cutoffHz) / fromRate; // normalized to the input rate; sinc zero spacing 1/fc
    const zc = opts.zeroCrossings ?? 16;
    const halfWidth = zc / fc; // in input samples
    this.half = Math.ceil(halfWidth);
    this.kernels = [];
    for (let p = 0; p < this.up; p++) {
      const frac = p / this.up;
      const k = new Float64Array(2 * this.half);
      let sum = 0;
      for (let j = 0; j < k.length; j++) {
        const x = frac + this.half - 1 - j; // distance from the output instant to input tap j
        k[j] = fc * sinc(fc * x) * blackman(x / halfWidth);
        sum += k[j];
      }
      // Unity gain at DC for every phase (no ripple in loudness between output samples).
      for (let j = 0; j < k.length; j++) k[j] /= sum;
      this.kernels.push(k);
    }
  }

  private sampleAt(i: number): number {
    const j = i - this.historyStart;
    return i >= 0 && j >= 0 && j < this.historyLength ? this.history[j] : 0;
  }

  private append(input: ArrayLike<number>): void {
    const need = this.historyLength + input.length;
    if (need > this.history.length) {
      const bigger = new Float64Array(Math.max(need, this.history.length * 2));
      bigger.set(this.history.subarray(0, this.historyLength));
      this.history = bigger;
    }
    for (let i = 0; i < input.length; i++) this.history[this.historyLength + i] = input[i];
    this.historyLength = need;
  }

  private produce(limitInput: number, maxOutputs: number): Int16Array {
    const out: number[] = [];
    const h = this.history;
    const taps = 2 * this.half;
    while (out.length < maxOutputs) {
      const pos = this.outputIndex * this.down;
      const k0 = Math.floor(pos / this.up);
      if (k0 + this.half >= limitInput) break;
      const kernel = this.kernels[pos - k0 * this.up];
      const first = k0 - this.half + 1;
      const base = first - this.historyStart;
      let acc = 0;
      if (first >= 0 && base >= 0 && base + taps <= this.historyLength) {
        for (let j = 0; j < taps; j++) acc += kernel[j] * h[base + j]; // the hot loop
      } else {
        for (let j = 0; j < taps; j++) acc += kernel[j] * this.sampleAt(first + j);
      }
      out.push(acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc));
      this.outputIndex++;
    }
    // Forget input no future output needs (compact in place).
    const keepFrom = Math.floor((this.outputIndex * this.down) / this.up) - this.half + 1;
    const drop = Math.max(0, Math.min(this.historyLength, keepFrom - this.historyStart));
    if (drop > 0) {
      this.history.copyWithin(0, drop, this.historyLength);
      this.historyLength -= drop;
      this.historyStart += drop;
    }
    return Int16Array.from(out);
  }

  /** Feeds a chunk; returns the output samples that are now complete (the filter looks ahead K). */
  process(input: ArrayLike<number>): Int16Array {
    this.append(input);
    this.inputCount += input.length;
    return this.produce(this.inputCount, Number.POSITIVE_INFINITY);
  }

  /** Ends the stream: returns the remaining output, treating the future as silence. */
  flush(): Int16Array {
    const total = Math.ceil((this.inputCount * this.up) / this.down);
    return this.produce(this.inputCount + this.half + 1, total - this.outputIndex);
  }
}

/** One-shot conversion; the output has ceil(len * to / from) samples and no added delay. */
export function resample(
  input: ArrayLike<number>,
  fromRate: number,
  toRate: number,
  opts?: ResamplerOptions,
): Int16Array {
  if (fromRate === toRate) return Int16Array.from(input);
  const r = new Resampler(fromRate, toRate, opts);
  const a = r.process(input);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Web Audio float samples (-1..1) to 16-bit PCM and back. */
export function floatToPcm16(input: ArrayLike<number>): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++)
    out[i] = Math.max(-32768, Math.min(32767, Math.round(input[i] * 32767)));
  return out;
}

export function pcm16ToFloat(input: ArrayLike<number>): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = input[i] / 32768;
  return out;
}
