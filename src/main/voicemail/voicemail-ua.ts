// The voicemail's own SIP user agent: takes incoming calls only (the proxy forks voicemail and *97
// calls to it), answers when the service says so, plays a per-call AudioSource, hands received
// audio to per-call sinks and reports RFC 4733 digits (and SIP INFO dtmf-relay from phones that use
// it). Unlike SoftPhone it reports each call's Request-URI user: that names the box and the service.
// A late offer (INVITE without SDP, RFC 3261 13.2.1) gets our offer in the 200; media starts with
// the answer in the ACK.
import { randomBytes } from 'node:crypto';
import type { Codec } from '../../core/sdp/codecs.ts';
import { SUPPORTED_CODECS } from '../../core/sdp/codecs.ts';
import { LocalSdpSession } from '../../core/sdp/offer-answer.ts';
import { type MediaDescription, parseMediaDescription } from '../../core/sdp/parse.ts';
import { bodyText, type SipRequest, textBody } from '../../core/sip/message.ts';
import { UserAgentCore } from '../../core/sip/ua/core.ts';
import type { CallEndReason, UaEffect, UaEvent } from '../../core/sip/ua/types.ts';
import type { Logger } from '../log.ts';
import { MediaSession } from '../media/media-session.ts';
import { type PortRange, RtpPortAllocator, RtpSocketPair } from '../media/rtp-socket.ts';
import type { AudioSink } from '../media/sinks.ts';
import type { AudioSource } from '../media/sources.ts';
import { randomToken, SipHost } from '../sip/endpoint.ts';
import { SipTransports } from '../transport/sip-transports.ts';

export type VoicemailUaEvent =
  | { type: 'incoming'; call: string; target: string; request: SipRequest }
  | { type: 'dtmf'; call: string; digit: string }
  | { type: 'ended'; call: string; reason: CallEndReason };

interface UaCall {
  id: string;
  socket: RtpSocketPair;
  sdp: LocalSdpSession;
  answerSdp: string;
  /** Null until the ACK brings the answer to a late offer. */
  remote: MediaDescription | null;
  answered: { source: AudioSource; sinks: AudioSink[] } | null;
  media: MediaSession | null;
  ended: boolean;
}

const SDP = 'application/sdp';
type UaAppEvent = Exclude<UaEffect, { type: 'transmit' | 'set-timer' | 'cancel-timer' }>;

export class VoicemailUa {
  private readonly calls = new Map<string, UaCall>();
  private readonly endedEarly = new Set<string>();
  private readonly listeners = new Set<(e: VoicemailUaEvent) => void>();
  private readonly ports: RtpPortAllocator;
  private readonly codecs: Codec[] = [...SUPPORTED_CODECS];
  private closed = false;

  private constructor(
    private readonly bind: string,
    readonly advertise: string,
    private readonly transports: SipTransports,
    private readonly ua: UserAgentCore,
    private readonly host: SipHost<UaEffect>,
    private readonly log: Logger,
    rtpPorts?: PortRange,
  ) {
    this.ports = new RtpPortAllocator(rtpPorts);
    host.onEvent((e) => this.onUaEvent(e as UaAppEvent));
  }

  static async start(opts: {
    bind: string;
    advertise: string;
    log: Logger;
    port?: number;
    rtpPorts?: PortRange;
  }): Promise<VoicemailUa> {
    let host: SipHost<UaEffect> | null = null;
    const transports = await SipTransports.start({
      bind: opts.bind,
      port: opts.port ?? 0,
      onMessage: (m) => host?.receive(m),
      log: opts.log,
    });
    const ua = new UserAgentCore(
      {
        host: opts.advertise,
        port: transports.port,
        transport: 'UDP',
        user: 'voicemail',
        displayName: 'Voicemail',
        userAgentName: 'PeerPBX-voicemail',
      },
      randomToken,
    );
    host = new SipHost<UaEffect>(ua, { sender: transports, log: opts.log });
    return new VoicemailUa(opts.bind, opts.advertise, transports, ua, host, opts.log, opts.rtpPorts);
  }

  get port(): number {
    return this.transports.port;
  }

  on(listener: (e: VoicemailUaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Answers a ringing call: media starts at once (late offer: with the ACK), `source` out, `sinks` in. */
  answer(callId: string, source: AudioSource, sinks: AudioSink[]): boolean {
    const call = this.calls.get(callId);
    if (!call || call.ended || call.answered) return false;
    call.answered = { source, sinks };
    this.host.act((now) => this.ua.accept(callId, { body: textBody(call.answerSdp), contentType: SDP }, now));
    this.startMedia(call);
    return true;
  }

  private startMedia(call: UaCall): void {
    const r = call.remote;
    if (!r || !call.answered || call.media || call.ended) return;
    call.media = new MediaSession({
      socket: call.socket,
      codec: { name: r.codec.name, pt: r.codec.pt },
      dtmfPt: r.dtmfPt,
      remote: r.hold ? null : { transport: 'UDP', host: r.address, port: r.port },
      source: call.answered.source,
      sinks: call.answered.sinks,
      cname: `voicemail@${this.advertise}`,
      onEvent: (ev) => {
        if (ev.type === 'dtmf') this.emit({ type: 'dtmf', call: call.id, digit: ev.digit });
      },
    });
    call.media.start();
  }

  /** Ends a call in whatever state it is (BYE once answered, else a final error response). */
  hangup(callId: string, status = 480): void {
    const call = this.calls.get(callId);
    if (!call || call.ended) return;
    if (call.answered) this.host.act((now) => this.ua.hangup(callId, now));
    else this.host.act((now) => this.ua.reject(callId, status, now));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const id of [...this.calls.keys()]) this.hangup(id);
    if (this.calls.size) await new Promise((r) => setTimeout(r, 50));
    this.closed = true;
    await Promise.all([...this.calls.values()].map((c) => this.finish(c, 'local-bye')));
    this.host.close();
    await this.transports.close();
  }

  private onUaEvent(e: UaAppEvent): void {
    switch (e.type) {
      case 'incoming-call':
        void this.onIncoming(e);
        return;
      case 'reinvite':
        this.onReinvite(e);
        return;
      case 'call-answered':
        this.onAck(e.call, e.message.body);
        return;
      case 'call-ended': {
        const call = this.calls.get(e.call);
        if (call) void this.finish(call, e.reason);
        else this.endedEarly.add(e.call);
        return;
      }
      case 'request': {
        // SIP INFO dtmf-relay (some desk phones send digits this way instead of RFC 4733).
        const signal = /Signal\s*=\s*([0-9*#A-D])/i.exec(bodyText(e.request));
        const ok = e.request.method === 'INFO';
        if (ok && signal && e.call) this.emit({ type: 'dtmf', call: e.call, digit: signal[1].toUpperCase() });
        this.host.act((now) => this.ua.respond(e.requestId, ok ? 200 : 501, now));
        return;
      }
      default:
        return;
    }
  }

  private async onIncoming(e: Extract<UaEvent, { type: 'incoming-call' }>): Promise<void> {
    let socket: RtpSocketPair;
    try {
      socket = await RtpSocketPair.open(this.bind, this.ports);
    } catch (err) {
      this.log.warn('no RTP port for a voicemail call', { err: String(err) });
      this.host.act((now) => this.ua.reject(e.call, 503, now));
      return;
    }
    if (this.endedEarly.delete(e.call) || this.closed) {
      await socket.close();
      return;
    }
    const sdp = new LocalSdpSession(randomBytes(6).readUIntBE(0, 6), 1);
    const local = this.localMedia(socket.port);
    let answerSdp: string;
    let remote: MediaDescription | null = null;
    if (e.request.body.length === 0) answerSdp = sdp.offer(local);
    else {
      const answer = sdp.answer(e.request.body, local);
      if (!answer.ok) {
        this.log.info('voicemail call refused: SDP', { error: answer.error });
        await socket.close();
        this.host.act((now) => this.ua.reject(e.call, 488, now));
        return;
      }
      answerSdp = answer.value.sdp;
      remote = answer.value.remote;
    }
    this.calls.set(e.call, {
      id: e.call,
      socket,
      sdp,
      answerSdp,
      remote,
      answered: null,
      media: null,
      ended: false,
    });
    this.host.act((now) => this.ua.ringing(e.call, now));
    this.emit({ type: 'incoming', call: e.call, target: e.request.uri.user ?? '', request: e.request });
  }

  /** The ACK of our 200: for a late offer it carries the caller's answer, and media can start. */
  private onAck(callId: string, body: Uint8Array): void {
    const call = this.calls.get(callId);
    if (!call || call.remote) return;
    const md = parseMediaDescription(body, this.codecs);
    if (!md.ok) {
      this.log.warn('voicemail: no usable answer in the ACK; hanging up', { call: callId, error: md.error });
      this.hangup(callId);
      return;
    }
    call.remote = md.value;
    this.startMedia(call);
  }

  /** A re-INVITE (session refresh, a phone's hold): answer it and follow the new address. */
  private onReinvite(e: Extract<UaEvent, { type: 'reinvite' }>): void {
    const call = this.calls.get(e.call);
    const answer = call?.sdp.answer(e.request.body, this.localMedia(call.socket.port));
    if (!call || !answer?.ok) {
      this.host.act((now) => this.ua.answerReinvite(e.call, 488, null, now));
      return;
    }
    this.host.act((now) =>
      this.ua.answerReinvite(e.call, 200, { body: textBody(answer.value.sdp), contentType: SDP }, now),
    );
    call.remote = answer.value.remote;
    const r = call.remote;
    call.media?.update({ remote: r.hold ? null : { transport: 'UDP', host: r.address, port: r.port } });
  }

  private localMedia(port: number) {
    return { address: this.advertise, port, direction: 'sendrecv' as const, codecs: this.codecs };
  }

  private async finish(call: UaCall, reason: CallEndReason): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    this.calls.delete(call.id);
    try {
      if (call.media) await call.media.stop();
      else await call.socket.close();
    } catch (err) {
      this.log.warn('voicemail media stop failed', { call: call.id, err: String(err) });
    }
    this.emit({ type: 'ended', call: call.id, reason });
  }

  private emit(e: VoicemailUaEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log.error('voicemail UA listener failed', { event: e.type, err: String(err) });
      }
    }
  }
}
