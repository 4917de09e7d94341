// The binary audio channel of a UI connection (WebSocket or Electron MessagePort): microphone
// frames from the page are validated (audio-frame.ts), rate-limited and handed to the engine;
// the engine's speaker frames go back, dropped rather than queued when the page lags.
import { encodeAudioFrame, parseAudioFrame } from '../../core/api/audio-frame.ts';
import type { Engine } from '../../core/api/engine.ts';
import type { Logger } from '../log.ts';

export interface AudioChannelOptions {
  engine: Engine;
  log: Logger;
  /** Sends one speaker frame; returns false when the connection is too backed up to take it. */
  send: (bytes: Uint8Array) => boolean;
  /** Microphone frames accepted per second (a page sends 50); default 200. */
  maxFramesPerSecond?: number;
  clock?: () => number;
}

export interface AudioChannel {
  /** One binary message from the page. */
  receive(bytes: Uint8Array): void;
  close(): void;
}

/** Binds a connection's binary messages to the engine's audio (a no-op for an engine without). */
export function openAudioChannel(opts: AudioChannelOptions): AudioChannel {
  const { engine, log } = opts;
  const clock = opts.clock ?? Date.now;
  const max = opts.maxFramesPerSecond ?? 200;
  const window = { start: 0, frames: 0, dropped: 0, invalid: 0 };
  const stop =
    engine.audio?.onSpeaker((callId, sampleRate, samples) => {
      opts.send(encodeAudioFrame({ kind: 'speaker', callId, sampleRate, samples }));
    }) ?? null;
  return {
    receive(bytes) {
      const now = clock();
      if (now - window.start >= 1000) {
        if (window.dropped > 0)
          log.warn('ui microphone frames over the rate limit dropped', { dropped: window.dropped });
        window.start = now;
        window.frames = 0;
        window.dropped = 0;
      }
      if (++window.frames > max) {
        window.dropped++;
        return;
      }
      const f = parseAudioFrame(bytes, 'microphone');
      if (!f.ok) {
        // Only the first few are logged: a broken page would flood the log at 50 frames a second.
        if (window.invalid++ < 5) log.warn('invalid ui audio frame dropped', { error: f.error });
        return;
      }
      engine.audio?.microphone(f.frame.callId, f.frame.sampleRate, f.frame.samples);
    },
    close() {
      stop?.();
    },
  };
}
