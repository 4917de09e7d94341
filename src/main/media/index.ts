// Media I/O on real sockets and clocks; the codecs, RTP and jitter buffer live in src/core/media.
export {
  FrameClock,
  hrNowMs,
  type PacingStats,
  percentile,
  sharedFrameClock,
  type Tick,
} from './frame-clock.ts';
export { type MediaEvent, MediaSession, type MediaSessionOptions, type MediaStats } from './media-session.ts';
export { DEFAULT_RTP_PORTS, type PortRange, RtpPortAllocator, RtpSocketPair } from './rtp-socket.ts';
export { type AudioSink, blockToneStrength, CallbackSink, ToneProbe, WavRecorder } from './sinks.ts';
export {
  type AudioSource,
  CallbackSource,
  FRAME_SAMPLES,
  loadWav8k,
  MEDIA_RATE,
  PcmSource,
  SilenceSource,
  ToneSource,
  wavSource,
} from './sources.ts';
