// One live RTP audio stream: the sans-IO RtpSession (src/core/media) on a real socket pair and the
// shared 20 ms FrameClock. Every tick pulls a frame from the source and sends it, and plays one
// frame out of the jitter buffer into the sinks. RFC 4733 digits are sent on the same grid; RTCP
// SR/RR go out every ~5 s; symmetric RTP follows the address the peer really sends from.
import { randomBytes } from 'node:crypto';
import type { JitterBufferOptions, JitterStats } from '../../core/media/jitter-buffer.ts';
import type { ReportBlock } from '../../core/media/rtcp.ts';
import { type RtpCodec, RtpSession, type ScheduledSend } from '../../core/media/rtp-session.ts';
import type { Address } from '../../core/net.ts';
import { type FrameClock, hrNowMs, type PacingStats, sharedFrameClock, type Tick } from './frame-clock.ts';
import type { RtpSocketPair } from './rtp-socket.ts';
import type { AudioSink } from './sinks.ts';
import { type AudioSource, FRAME_SAMPLES, SilenceSource } from './sources.ts';

export interface MediaSessionOptions {
  socket: RtpSocketPair;
  codec: RtpCodec;
  /** Negotiated telephone-event payload type; DTMF cannot be sent without it. */
  dtmfPt?: number;
  /** Where the SDP says to send RTP (RTCP goes to port + 1 until learnt). */
  remote: Address | null;
  /** Send to the address the peer sends from, once seen (default true). */
  symmetric?: boolean;
  source?: AudioSource;
  sinks?: AudioSink[];
  clock?: FrameClock;
  rtcpIntervalMs?: number;
  cname?: string;
  jitter?: JitterBufferOptions;
  /** Wall clock for RTCP NTP timestamps. */
  wallClock?: () => number;
  onEvent?: (event: MediaEvent) => void;
}

export interface MediaStats {
  packetsSent: number;
  packetsReceived: number;
  invalidPackets: number;
  /** RFC 3550 cumulative loss of the received stream. */
  lost: number;
  jitterMs: number;
  rtcpSent: number;
  rtcpReceived: number;
  dtmfSent: number;
  /** The peer's last report about our stream (from its SR/RR). */
  remoteReport: ReportBlock | null;
  jitterBuffer: JitterStats;
  /** Lateness of our send ticks against the ideal 20 ms grid. */
  pacing: PacingStats;
  remote: Address | null;
  sending: boolean;
  receiving: boolean;
}

export type MediaEvent =
  | { type: 'dtmf'; digit: string }
  | { type: 'remote-learned'; address: Address }
  | { type: 'rtcp'; blocks: ReportBlock[] };

const DTMF_GAP_MS = 60;

export class MediaSession {
  private readonly rtp: RtpSession;
  private readonly clock: FrameClock;
  private source: AudioSource;
  private readonly sinks: AudioSink[];
  private unsubscribe: (() => void) | null = null;
  private readonly dtmfQueue: ScheduledSend[] = [];
  private dtmfFreeAt = 0;
  private lastTickMs = 0;
  private rtcpRemote: Address | null = null;
  private rtcpLearned = false;
  private nextRtcpAt = 0;
  private sending = true;
  private receiving = true;
  private stopped = false;
  private remoteReport: ReportBlock | null = null;
  private readonly counters = { rtcpSent: 0, rtcpReceived: 0, dtmfSent: 0 };
  /** Packets of the peer's stream that never reach the jitter buffer (DTMF, audio while not receiving). */
  private unbuffered = 0;
  private readonly rtcpIntervalMs: number;
  private readonly wallClock: () => number;

  constructor(private readonly opts: MediaSessionOptions) {
    this.rtp = new RtpSession({
      codec: opts.codec,
      dtmfPt: opts.dtmfPt,
      remote: opts.remote,
      symmetric: opts.symmetric ?? true,
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
      jitter: opts.jitter,
      cname: opts.cname,
    });
    this.clock = opts.clock ?? sharedFrameClock();
    this.source = opts.source ?? new SilenceSource();
    this.sinks = [...(opts.sinks ?? [])];
    this.rtcpIntervalMs = opts.rtcpIntervalMs ?? 5000;
    this.wallClock = opts.wallClock ?? Date.now;
    this.rtcpRemote = rtcpFor(opts.remote);
    opts.socket.onRtp((data, from) => this.onRtp(data, from));
    opts.socket.onRtcp((data, from) => this.onRtcp(data, from));
  }

  get localPort(): number {
    return this.opts.socket.port;
  }

  get ssrc(): number {
    return this.rtp.ssrc;
  }

  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.nextRtcpAt = hrNowMs() + this.rtcpIntervalMs;
    this.unsubscribe = this.clock.add((t) => this.onTick(t));
  }

  /** After a re-INVITE: a new remote address (null: nowhere to send) and/or direction. */
  update(change: { remote?: Address | null; send?: boolean; receive?: boolean }): void {
    if (change.remote !== undefined) {
      const old = this.rtp.remoteAddress;
      const moved =
        !old || !change.remote || old.host !== change.remote.host || old.port !== change.remote.port;
      if (moved) {
        this.rtp.setRemote(change.remote);
        this.rtcpRemote = rtcpFor(change.remote);
        this.rtcpLearned = false;
      }
    }
    if (change.send !== undefined) this.sending = change.send;
    if (change.receive !== undefined) this.receiving = change.receive;
    this.rtp.setDirection(this.sending, this.receiving);
  }

  setSource(source: AudioSource): void {
    this.source = source;
  }

  addSink(sink: AudioSink): void {
    this.sinks.push(sink);
  }

  /** Queues RFC 4733 digits; returns how many were accepted (needs a negotiated telephone-event). */
  sendDtmf(digits: string, durationMs = 100): number {
    let accepted = 0;
    for (const d of digits) {
      const at = Math.max(this.lastTickMs || hrNowMs(), this.dtmfFreeAt);
      const planned = this.rtp.sendDtmf(d, at, durationMs);
      if (planned.length === 0) continue;
      accepted++;
      this.dtmfQueue.push(...planned);
      this.dtmfFreeAt = (planned.at(-1)?.at ?? at) + DTMF_GAP_MS;
    }
    return accepted;
  }

  private onTick(t: Tick): void {
    this.lastTickMs = t.scheduledMs;
    // Audio pulled every tick even while muted or on hold, so a file source keeps real time.
    const frame = this.source.read(FRAME_SAMPLES);
    this.flushDtmf(t.scheduledMs);
    if (this.sending) {
      const out = this.rtp.sendFrame(frame, t.scheduledMs);
      if (out) this.opts.socket.sendRtp(out.to, out.data);
    }
    const played = this.rtp.pop(t.nowMs);
    for (const s of this.sinks) s.write(played.samples, played.kind);
    if (t.nowMs >= this.nextRtcpAt) {
      // RFC 3550 6.2: randomised over [0.5, 1.5] x the interval so that streams do not synchronise.
      this.nextRtcpAt = t.nowMs + this.rtcpIntervalMs * (0.5 + Math.random());
      this.sendRtcp(t.nowMs);
    }
  }

  private flushDtmf(now: number): void {
    while (this.dtmfQueue.length && this.dtmfQueue[0].at <= now + 0.5) {
      const p = this.dtmfQueue.shift() as ScheduledSend;
      this.opts.socket.sendRtp(p.to, p.data);
      this.counters.dtmfSent++;
    }
  }

  private sendRtcp(now: number): void {
    if (!this.rtcpRemote) return;
    this.opts.socket.sendRtcp(this.rtcpRemote, this.rtp.rtcpReport(now, this.wallClock()));
    this.counters.rtcpSent++;
  }

  private onRtp(data: Uint8Array, from: Address): void {
    if (this.stopped) return;
    if (data.length >= 12 && data[0] >> 6 === 2) {
      const pt = data[1] & 0x7f;
      if (pt === this.opts.dtmfPt || (!this.receiving && pt === this.opts.codec.pt)) this.unbuffered++;
    }
    for (const e of this.rtp.receive(data, from, hrNowMs())) {
      if (e.type === 'dtmf') this.emit({ type: 'dtmf', digit: e.digit });
      else if (e.type === 'remote-learned') {
        if (!this.rtcpLearned) this.rtcpRemote = rtcpFor(e.address);
        this.emit({ type: 'remote-learned', address: e.address });
      }
    }
  }

  private onRtcp(data: Uint8Array, from: Address): void {
    if (this.stopped) return;
    this.counters.rtcpReceived++;
    if ((this.opts.symmetric ?? true) && !this.rtcpLearned) {
      this.rtcpLearned = true;
      this.rtcpRemote = { ...from };
    }
    const blocks = this.rtp.receiveRtcp(data, hrNowMs());
    if (blocks.length) {
      this.remoteReport = blocks[blocks.length - 1];
      this.emit({ type: 'rtcp', blocks });
    }
  }

  private emit(e: MediaEvent): void {
    try {
      this.opts.onEvent?.(e);
    } catch {
      // The app's handler failing must not break the media path.
    }
  }

  stats(): MediaStats {
    const s = this.rtp.stats();
    return {
      packetsSent: s.packetsSent,
      packetsReceived: s.packetsReceived,
      invalidPackets: s.invalidPackets,
      // The jitter buffer sees sequence gaps where DTMF (or audio on hold) went elsewhere: not loss.
      lost: Math.max(0, s.jitter.lost - this.unbuffered),
      jitterMs: s.jitter.jitterMs,
      ...this.counters,
      remoteReport: this.remoteReport,
      jitterBuffer: s.jitter,
      pacing: this.clock.pacing(),
      remote: this.rtp.remoteAddress,
      sending: this.sending,
      receiving: this.receiving,
    };
  }

  /** Stops the stream, sends a last RTCP report, flushes the sinks and closes the sockets. */
  async stop(): Promise<MediaStats> {
    if (this.stopped) return this.stats();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.sendRtcp(hrNowMs());
    this.stopped = true;
    const stats = this.stats();
    await Promise.all(this.sinks.map((s) => s.close?.()));
    await this.opts.socket.close();
    return stats;
  }
}

function rtcpFor(rtp: Address | null): Address | null {
  return rtp ? { ...rtp, port: rtp.port + 1 } : null;
}
