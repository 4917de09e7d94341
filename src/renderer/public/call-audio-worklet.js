// AudioWorklets of a call (they run on the audio thread, so neither capture nor playback stalls
// with the page):
// - 'mic-capture': copies each 128-sample block of the microphone to the page (which batches
//   20 ms frames for main's RTP) and posts a peak-held level about 20 times a second.
// - 'speaker-out': plays the far end's samples posted by the page from a small FIFO; it starts
//   once 60 ms are queued and drops the oldest audio past 300 ms, so latency stays bounded.
class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.peak = 0;
    this.blocks = 0;
  }
  process(inputs) {
    const channel = inputs[0]?.[0];
    if (channel) {
      let sum = 0;
      for (let i = 0; i < channel.length; i++) sum += channel[i] * channel[i];
      this.peak = Math.max(this.peak, Math.sqrt(sum / channel.length));
      this.port.postMessage({ samples: channel.slice() });
    }
    // 128 samples per block: every 18 blocks is ~50 ms at 48 kHz.
    if (++this.blocks >= 18) {
      this.port.postMessage({ level: Math.min(1, this.peak * 2) });
      this.peak = 0;
      this.blocks = 0;
    }
    return true;
  }
}

class SpeakerOut extends AudioWorkletProcessor {
  constructor() {
    super();
    this.fifo = new Float32Array(sampleRate * 0.3);
    this.length = 0;
    this.playing = false;
    this.port.onmessage = (e) => this.push(e.data);
  }
  push(samples) {
    if (!(samples instanceof Float32Array)) return;
    const over = this.length + samples.length - this.fifo.length;
    if (over > 0) {
      const drop = Math.min(over, this.length);
      this.fifo.copyWithin(0, drop, this.length);
      this.length -= drop;
    }
    const take = samples.subarray(Math.max(0, samples.length - this.fifo.length));
    this.fifo.set(take, this.length);
    this.length += take.length;
  }
  process(_inputs, outputs) {
    const out = outputs[0]?.[0];
    if (!out) return true;
    if (!this.playing && this.length >= sampleRate * 0.06) this.playing = true;
    if (!this.playing) return true;
    const n = Math.min(out.length, this.length);
    out.set(this.fifo.subarray(0, n));
    this.fifo.copyWithin(0, n, this.length);
    this.length -= n;
    if (n < out.length) this.playing = false;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor('mic-capture', MicCapture);
registerProcessor('speaker-out', SpeakerOut);
