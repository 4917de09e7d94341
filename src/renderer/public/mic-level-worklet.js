// AudioWorklet: measures the microphone's level (RMS of each 128-sample block, peak-held and
// posted about 20 times a second) for the call panel's meter. Runs on the audio thread, so the
// meter never stalls the page. The same worklet is where frames will go to main's RTP (issue 5).
class MicLevel extends AudioWorkletProcessor {
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
    }
    // 128 samples per block: every 18 blocks is ~50 ms at 48 kHz.
    if (++this.blocks >= 18) {
      this.port.postMessage(Math.min(1, this.peak * 2));
      this.peak = 0;
      this.blocks = 0;
    }
    return true;
  }
}
registerProcessor('mic-level', MicLevel);
