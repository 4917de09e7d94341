// One RTP audio stream, sans-IO: PCM frames in -> RTP datagrams out; datagrams in -> decoded
// audio into a jitter buffer and DTMF events out. src/main owns the socket and the 20 ms clock.

import type { Address, Millis } from '../net.ts';
import { decodeG711, encodeG711, type G711Law } from './g711.ts';
import {
  JitterBuffer,
  type JitterBufferOptions,
  type JitterFrame,
  type JitterStats,
} from './jitter-buffer.ts';
import {
  decodeRtcp,
  encodeReceiverReport,
  encodeSdesCname,
  encodeSenderReport,
  msToNtp,
  type ReportBlock,
} from './rtcp.ts';
import { decodeRtp, encodeRtp } from './rtp.ts';
import { digitToEvent, planTelephoneEvent, TelephoneEventReceiver } from './telephone-event.ts';

export interface RtpCodec {
  name: G711Law;
  pt: number;
}

export interface RtpSessionOptions {
  codec: RtpCodec;
  /** telephone-event payload type negotiated in SDP, if any. */
  dtmfPt?: number;
  remote: Address | null;
  /** Symmetric RTP (RFC 4961): send to wherever the first valid packet came from (NAT, phones). */
  symmetric?: boolean;
  /** Randomness for SSRC, initial sequence number and timestamp (RFC 3550 section 5.1). */
  randomBytes: (n: number) => Uint8Array;
  jitter?: JitterBufferOptions;
  clockRate?: number;
  cname?: string;
}

export interface SendDatagram {
  type: 'send';
  to: Address;
  data: Uint8Array;
}

export interface ScheduledSend extends SendDatagram {
  at: Millis;
}

export type RtpSessionEvent =
  | { type: 'dtmf'; digit: string }
  | { type: 'remote-learned'; address: Address }
  | { type: 'ssrc-changed'; ssrc: number };

export interface RtpSessionStats {
  packetsSent: number;
  octetsSent: number;
  packetsReceived: number;
  invalidPackets: number;
  ignoredPackets: number;
  remoteSsrc: number | null;
  jitter: JitterStats;
}

function u32(b: Uint8Array): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export class RtpSession {
  readonly ssrc: number;
  private seq: number;
  private timestamp: number;
  private lastSendAt: Millis | null = null;
  private dtmfBusyUntil: Millis = Number.NEGATIVE_INFINITY;
  private remote: Address | null;
  private learned = false;
  private remoteSsrc: number | null = null;
  private jb: JitterBuffer;
  private readonly dtmfRx = new TelephoneEventReceiver();
  private readonly rate: number;
  private sending = true;
  private receiving = true;
  private lastRemoteSr: { middle: number; at: Millis } | null = null;
  private readonly s = {
    packetsSent: 0,
    octetsSent: 0,
    packetsReceived: 0,
    invalidPackets: 0,
    ignoredPackets: 0,
  };
  private lastReport = { expected: 0, received: 0 };

  constructor(private readonly opts: RtpSessionOptions) {
    const r = opts.randomBytes(10);
    this.ssrc = u32(r.subarray(0, 4));
    this.seq = ((r[4] << 8) | r[5]) & 0x7fff; // below 2^15 leaves room before the first wrap (RFC 3550)
    this.timestamp = u32(r.subarray(6, 10));
    this.remote = opts.remote;
    this.rate = opts.clockRate ?? 8000;
    this.jb = new JitterBuffer({ clockRate: this.rate, ...opts.jitter });
  }

  get remoteAddress(): Address | null {
    return this.remote;
  }

  /** After a re-INVITE: new remote address, or hold (send false) / resume. */
  setRemote(remote: Address | null): void {
    this.remote = remote;
    this.learned = false;
  }

  setDirection(send: boolean, receive: boolean): void {
    this.sending = send;
    this.receiving = receive;
  }

  private advanceClock(samples: number, now: Millis): boolean {
    // After a pause (hold, no audio) the timestamp must still follow real time, and the first
    // packet after the gap carries the marker bit (RFC 3551 section 4.1).
    let marker = this.lastSendAt === null;
    if (this.lastSendAt !== null) {
      const gapMs = now - this.lastSendAt;
      const frameMs = (samples * 1000) / this.rate;
      if (gapMs > 2 * frameMs) {
        this.timestamp = (this.timestamp + Math.round(((gapMs - frameMs) * this.rate) / 1000)) >>> 0;
        marker = true;
      }
    }
    this.lastSendAt = now;
    return marker;
  }

  private packet(payloadType: number, payload: Uint8Array, marker: boolean, timestamp: number): Uint8Array {
    const bytes = encodeRtp({ marker, payloadType, sequence: this.seq, timestamp, ssrc: this.ssrc, payload });
    this.seq = (this.seq + 1) & 0xffff;
    this.s.packetsSent++;
    this.s.octetsSent += payload.length;
    return bytes;
  }

  /** Encodes one frame (normally 160 samples = 20 ms). Null when there is nowhere to send. */
  sendFrame(pcm: Int16Array, now: Millis): SendDatagram | null {
    if (!this.remote || !this.sending || pcm.length === 0 || now < this.dtmfBusyUntil) return null;
    const marker = this.advanceClock(pcm.length, now);
    const data = this.packet(
      this.opts.codec.pt,
      encodeG711(this.opts.codec.name, pcm),
      marker,
      this.timestamp,
    );
    this.timestamp = (this.timestamp + pcm.length) >>> 0;
    return { type: 'send', to: this.remote, data };
  }

  /**
   * Sends a digit as RFC 4733 events: every packet of the event carries the same timestamp and is
   * to be sent at its `at` time. Digits queue behind each other, and audio frames offered while
   * an event is being sent are dropped (they would interleave with the event in the sequence and
   * timestamp spaces).
   */
  sendDtmf(digit: string, now: Millis, durationMs = 100): ScheduledSend[] {
    const event = digitToEvent(digit);
    if (event === null || this.opts.dtmfPt === undefined || !this.remote || !this.sending) return [];
    const start = Math.max(now, this.dtmfBusyUntil);
    const plan = planTelephoneEvent(event, { durationMs, clockRate: this.rate });
    this.advanceClock(Math.round((20 * this.rate) / 1000), start);
    const ts = this.timestamp;
    const out = plan.map((p) => ({
      type: 'send' as const,
      at: start + p.offsetMs,
      to: this.remote as Address,
      data: this.packet(this.opts.dtmfPt as number, p.payload, p.marker, ts),
    }));
    const last = plan.at(-1)?.offsetMs ?? 0;
    // The event occupies the media clock from its start to its last packet plus one frame.
    this.timestamp = (ts + Math.round(((last + 20) * this.rate) / 1000)) >>> 0;
    this.lastSendAt = start + last;
    this.dtmfBusyUntil = start + last + 1;
    return out;
  }

  /** Handles one datagram from the RTP socket. Audio goes into the jitter buffer. */
  receive(bytes: Uint8Array, from: Address, now: Millis): RtpSessionEvent[] {
    const r = decodeRtp(bytes);
    if (!r.ok) {
      this.s.invalidPackets++;
      return [];
    }
    const p = r.packet;
    const isAudio = p.payloadType === this.opts.codec.pt;
    const isDtmf = this.opts.dtmfPt !== undefined && p.payloadType === this.opts.dtmfPt;
    if (!isAudio && !isDtmf) {
      this.s.ignoredPackets++; // comfort noise, unnegotiated codecs, stray traffic
      return [];
    }
    const events: RtpSessionEvent[] = [];
    if (this.opts.symmetric && !this.learned) {
      this.learned = true;
      if (!this.remote || this.remote.host !== from.host || this.remote.port !== from.port) {
        this.remote = { ...from };
        events.push({ type: 'remote-learned', address: { ...from } });
      }
    }
    if (this.remoteSsrc !== p.ssrc) {
      if (this.remoteSsrc !== null) {
        // A new source (e.g. after a transfer): its sequence and timestamps are unrelated.
        this.jb = new JitterBuffer({ clockRate: this.rate, ...this.opts.jitter });
        this.lastReport = { expected: 0, received: 0 };
        events.push({ type: 'ssrc-changed', ssrc: p.ssrc });
      }
      this.remoteSsrc = p.ssrc;
    }
    this.s.packetsReceived++;
    if (!this.receiving) return events;
    if (isDtmf) {
      const d = this.dtmfRx.receive(p.timestamp, p.payload);
      if (d) events.push({ type: 'dtmf', digit: d.digit });
      return events;
    }
    this.jb.push(
      { sequence: p.sequence, timestamp: p.timestamp, samples: decodeG711(this.opts.codec.name, p.payload) },
      now,
    );
    return events;
  }

  /** One playout frame; call every 20 ms. */
  pop(now: Millis): JitterFrame {
    return this.jb.pop(now);
  }

  /** Handles a datagram from the RTCP socket; returns the peer's reports about our stream. */
  receiveRtcp(bytes: Uint8Array, now: Millis): ReportBlock[] {
    const r = decodeRtcp(bytes);
    if (!r.ok) {
      this.s.invalidPackets++;
      return [];
    }
    const aboutUs: ReportBlock[] = [];
    for (const p of r.packets) {
      if (p.type === 'sr' && (this.remoteSsrc === null || p.ssrc === this.remoteSsrc)) {
        this.noteSenderReport(p.sender.ntpSec, p.sender.ntpFrac, now);
      }
      if (p.type === 'sr' || p.type === 'rr') aboutUs.push(...p.reports.filter((b) => b.ssrc === this.ssrc));
    }
    return aboutUs;
  }

  /** Remember a received SR so our reports can carry LSR/DLSR (RFC 3550 section 6.4.1). */
  noteSenderReport(ntpSec: number, ntpFrac: number, now: Millis): void {
    this.lastRemoteSr = { middle: ((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16), at: now };
  }

  /** A compound RTCP packet (SR if we have sent, else RR; plus SDES CNAME). */
  rtcpReport(now: Millis, wallClockMs: number): Uint8Array {
    const blocks: ReportBlock[] = [];
    if (this.remoteSsrc !== null) {
      const js = this.jb.stats();
      const expected = js.received + js.lost;
      const expectedInterval = expected - this.lastReport.expected;
      const lostInterval = expectedInterval - (js.received - this.lastReport.received);
      this.lastReport = { expected, received: js.received };
      blocks.push({
        ssrc: this.remoteSsrc,
        fractionLost:
          expectedInterval > 0 && lostInterval > 0
            ? Math.min(255, Math.floor((lostInterval * 256) / expectedInterval))
            : 0,
        cumulativeLost: Math.min(0x7fffff, js.lost),
        highestSeq: js.highestSeq,
        jitter: Math.round((js.jitterMs * this.rate) / 1000),
        lastSr: this.lastRemoteSr ? this.lastRemoteSr.middle >>> 0 : 0,
        delaySinceLastSr: this.lastRemoteSr ? Math.round(((now - this.lastRemoteSr.at) / 1000) * 65536) : 0,
      });
    }
    const report =
      this.s.packetsSent > 0
        ? encodeSenderReport(
            this.ssrc,
            {
              ...msToNtp(wallClockMs),
              rtpTimestamp: this.timestamp,
              packetCount: this.s.packetsSent,
              octetCount: this.s.octetsSent,
            },
            blocks,
          )
        : encodeReceiverReport(this.ssrc, blocks);
    const sdes = encodeSdesCname(this.ssrc, this.opts.cname ?? 'peerpbx');
    const out = new Uint8Array(report.length + sdes.length);
    out.set(report);
    out.set(sdes, report.length);
    return out;
  }

  stats(): RtpSessionStats {
    return { ...this.s, remoteSsrc: this.remoteSsrc, jitter: this.jb.stats() };
  }
}
