// A headless softphone: the sans-IO UserAgentCore hosted by SipHost on real UDP/TCP transports,
// SDP offer/answer from src/core/sdp, and one MediaSession per call. It answers automatically if
// asked, plays a WAV file or a tone, records what it hears, holds/resumes with re-INVITE and sends
// and reports RFC 4733 digits. `peerpbx run --auto-answer --play FILE --record DIR` runs one.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Address } from '../../core/net.ts';
import type { Codec, CodecName } from '../../core/sdp/codecs.ts';
import { codecByName, SUPPORTED_CODECS } from '../../core/sdp/codecs.ts';
import { answerDirection, LocalSdpSession } from '../../core/sdp/offer-answer.ts';
import { type Direction, type MediaDescription, parseMediaDescription } from '../../core/sdp/parse.ts';
import { type Header, textBody } from '../../core/sip/message.ts';
import { serializeNameAddr, serializeUri } from '../../core/sip/serialize.ts';
import { UserAgentCore } from '../../core/sip/ua/core.ts';
import { referToWithReplaces } from '../../core/sip/ua/replaces.ts';
import type { CallEndReason, UaEffect, UaEvent } from '../../core/sip/ua/types.ts';
import { parseUri } from '../../core/sip/uri.ts';
import { createLogger, type Logger } from '../log.ts';
import type { FrameClock } from '../media/frame-clock.ts';
import { MediaSession, type MediaStats } from '../media/media-session.ts';
import { type PortRange, RtpPortAllocator, RtpSocketPair } from '../media/rtp-socket.ts';
import { type AudioSink, WavRecorder } from '../media/sinks.ts';
import { type AudioSource, loadWav8k, PcmSource, SilenceSource, ToneSource } from '../media/sources.ts';
import { randomToken, SipHost } from '../sip/endpoint.ts';
import { SipTransports } from '../transport/sip-transports.ts';

/** Options of a SoftPhone; also the flags of `peerpbx run` that turn a peer into a phone. */
export interface SoftPhoneOptions {
  /** Address to bind SIP and RTP to (default 127.0.0.1). */
  bind?: string;
  /** Address written in Via, Contact and SDP when it differs from `bind` (e.g. bind 0.0.0.0). */
  advertise?: string;
  /** SIP port, UDP and TCP (0 = any free port). */
  sipPort?: number;
  /** User part of our Contact and From (default "peerpbx"). */
  user?: string;
  displayName?: string;
  /** Answer incoming calls by themselves (after `answerDelayMs` of ringing). */
  autoAnswer?: boolean;
  answerDelayMs?: number;
  /** WAV file played to every call (any rate/format; resampled to 8 kHz), looping. */
  play?: string;
  /** A tone (Hz) played to every call instead of a file. */
  toneHz?: number;
  /** Directory where each call's received audio is written as a WAV when it ends. */
  record?: string;
  /** Codecs in order of preference (default PCMU, PCMA). */
  codecs?: CodecName[];
  rtpPorts?: PortRange;
  /** How often a `media-stats` event is emitted per call (0: never). Default 5000. */
  statsIntervalMs?: number;
  /** Extra sinks per call (tests: a ToneProbe; the UI: its speaker). */
  sinks?: (callId: string) => AudioSink[];
  /** A source per call, overriding play/toneHz (the UI: its microphone). */
  source?: (callId: string) => AudioSource;
  clock?: FrameClock;
  log?: Logger;
}

export type PhoneEvent =
  /** `replaces`: this call takes over that live call of ours (INVITE with Replaces, RFC 3891). */
  | { type: 'incoming'; call: string; from: string; replaces?: string }
  | { type: 'ringing'; call: string; status: number }
  | { type: 'answered'; call: string; remote: MediaDescription }
  /** Media direction changed by a re-INVITE (ours: held; theirs: remoteHold). */
  | {
      type: 'media-updated';
      call: string;
      sending: boolean;
      receiving: boolean;
      held: boolean;
      remoteHold: boolean;
    }
  | { type: 'dtmf'; call: string; digit: string }
  | { type: 'media-stats'; call: string; stats: MediaStats }
  | {
      type: 'ended';
      call: string;
      reason: CallEndReason;
      status?: number;
      stats: MediaStats | null;
      recording: string | null;
      /** The call that replaced this one (attended transfer); we sent its BYE. */
      replacedBy?: string;
    };

export type PhoneEventListener = (event: PhoneEvent) => void;

/** UA events about requests other than calls (see SoftPhone.onRequest). */
export type PhoneRequestEvent = Extract<UaEffect, { type: 'request' | 'response' | 'request-failed' }>;

type UaAppEvent = Exclude<UaEffect, { type: 'transmit' | 'set-timer' | 'cancel-timer' }>;

interface PhoneCall {
  id: string;
  direction: 'incoming' | 'outgoing';
  peer: string;
  sdp: LocalSdpSession;
  socket: RtpSocketPair | null;
  media: MediaSession | null;
  remote: MediaDescription | null;
  /** Our wanted direction: sendrecv, or sendonly/inactive while we hold the peer. */
  localDirection: Direction;
  remoteHold: boolean;
  recorder: WavRecorder | null;
  statsTimer: NodeJS.Timeout | null;
  answerTimer: NodeJS.Timeout | null;
  /** Resolves a pending hold()/resume(). */
  reinviteDone: ((ok: boolean) => void) | null;
  /** Incoming INVITE without an offer: our 200 carried the offer, the ACK carries the answer. */
  offerInAnswer: boolean;
  /** Incoming: the SDP our 200 will carry. */
  answerSdp: string | null;
  ended: boolean;
}

const SDP = 'application/sdp';

const SENDING: ReadonlySet<Direction> = new Set(['sendrecv', 'sendonly']);
const RECEIVING: ReadonlySet<Direction> = new Set(['sendrecv', 'recvonly']);

export class SoftPhone {
  private readonly calls = new Map<string, PhoneCall>();
  private readonly listeners = new Set<PhoneEventListener>();
  private readonly ports: RtpPortAllocator;
  private readonly codecs: Codec[];
  private readonly address: string;
  private playPcm: Int16Array | null = null;
  /** Incoming calls that ended (CANCEL) while we were still opening their RTP sockets. */
  private readonly endedEarly = new Set<string>();
  private closed = false;

  private constructor(
    readonly opts: SoftPhoneOptions,
    readonly transports: SipTransports,
    readonly ua: UserAgentCore,
    readonly host: SipHost<UaEffect>,
    private readonly log: Logger,
  ) {
    this.ports = new RtpPortAllocator(opts.rtpPorts);
    this.codecs = (opts.codecs ?? ['PCMU', 'PCMA'])
      .map((n) => codecByName(n))
      .filter((c): c is Codec => c !== undefined);
    if (this.codecs.length === 0) this.codecs = [...SUPPORTED_CODECS];
    this.address = opts.advertise ?? opts.bind ?? '127.0.0.1';
    host.onEvent((e) => this.onUaEvent(e as UaAppEvent));
  }

  static async start(opts: SoftPhoneOptions = {}): Promise<SoftPhone> {
    const log = opts.log ?? createLogger({ component: 'phone' });
    const bind = opts.bind ?? '127.0.0.1';
    let host: SipHost<UaEffect> | null = null;
    const transports = await SipTransports.start({
      bind,
      port: opts.sipPort ?? 0,
      onMessage: (m) => host?.receive(m),
      log,
    });
    const ua = new UserAgentCore(
      {
        host: opts.advertise ?? bind,
        port: transports.port,
        transport: 'UDP',
        user: opts.user ?? 'peerpbx',
        displayName: opts.displayName,
        userAgentName: 'PeerPBX-softphone',
      },
      randomToken,
    );
    host = new SipHost<UaEffect>(ua, { sender: transports, log });
    const phone = new SoftPhone(opts, transports, ua, host, log);
    if (opts.play) phone.playPcm = await loadWav8k(opts.play);
    return phone;
  }

  get sipPort(): number {
    return this.transports.port;
  }

  /** Our SIP URI, e.g. sip:peerpbx@127.0.0.1:5060. */
  get uri(): string {
    return `sip:${this.opts.user ?? 'peerpbx'}@${this.address}:${this.sipPort}`;
  }

  private requestHandler: ((e: PhoneRequestEvent) => void) | null = null;

  /**
   * Takes the UA's non-call traffic: incoming requests (answer them with ua.respond) and the
   * answers to requests sent with ua.sendRequest/sendInDialog. Without a handler they are ignored.
   */
  onRequest(handler: ((e: PhoneRequestEvent) => void) | null): void {
    this.requestHandler = handler;
  }

  on(listener: PhoneEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next event of a type (matching `filter`), or a rejection after `timeoutMs`. */
  next<T extends PhoneEvent['type']>(
    type: T,
    filter: (e: Extract<PhoneEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 15_000,
  ): Promise<Extract<PhoneEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${type} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((e) => {
        if (e.type !== type) return;
        const ev = e as Extract<PhoneEvent, { type: T }>;
        if (!filter(ev)) return;
        clearTimeout(timer);
        off();
        resolve(ev);
      });
    });
  }

  /** RTP port pairs held by live calls (leak checks). */
  get rtpPortsInUse(): number {
    return this.ports.used;
  }

  /** Live calls' ids. */
  get activeCalls(): string[] {
    return [...this.calls.keys()];
  }

  mediaStats(callId: string): MediaStats | null {
    return this.calls.get(callId)?.media?.stats() ?? null;
  }

  // --- commands -------------------------------------------------------------------------------

  /**
   * Places a call to a SIP URI (sent straight to its host:port, or to `destination`, e.g. our
   * proxy); `headers` go into the INVITE (a transfer's Replaces). Returns the call id.
   */
  async call(target: string, opts: { headers?: Header[]; destination?: Address } = {}): Promise<string> {
    const uri = parseUri(target);
    if (!uri) throw new Error(`not a SIP URI: ${target}`);
    const sdp = newSdpSession();
    const socket = await RtpSocketPair.open(this.opts.bind ?? '127.0.0.1', this.ports);
    const offer = sdp.offer(this.localMedia(socket.port, 'sendrecv'));
    const id = this.host.act((now) =>
      this.ua.call(uri, { body: textBody(offer), contentType: SDP }, now, {
        headers: opts.headers,
        destination: opts.destination,
      }),
    );
    this.calls.set(id, this.newCall(id, 'outgoing', target, sdp, socket));
    return id;
  }

  /** Answers a ringing incoming call. */
  answer(callId: string): void {
    const call = this.calls.get(callId);
    if (call?.direction !== 'incoming' || call.ended) return;
    if (call.answerTimer) clearTimeout(call.answerTimer);
    call.answerTimer = null;
    const answerSdp = call.answerSdp;
    if (!answerSdp) return;
    this.host.act((now) => this.ua.accept(callId, { body: textBody(answerSdp), contentType: SDP }, now));
    // Media starts with our 200: the caller may send as soon as it has it.
    if (call.remote) this.startMedia(call);
  }

  /**
   * The Refer-To value of an attended transfer to the other party of `consultationCallId`: its
   * Contact with our dialog in an embedded Replaces (RFC 5589 7.1); null unless that call is up.
   */
  replacesReferTo(consultationCallId: string): string | null {
    const info = this.ua.dialogInfo(consultationCallId);
    if (info?.state !== 'confirmed') return null;
    return `<${serializeUri(referToWithReplaces(info.remoteTarget, info))}>`;
  }

  /** Ends a call in whatever state it is (CANCEL, BYE or 603). */
  hangup(callId: string): void {
    if (!this.calls.has(callId)) return;
    this.host.act((now) => this.ua.hangup(callId, now));
  }

  /** Puts the peer on hold (re-INVITE with sendonly, or inactive). Resolves with the outcome. */
  hold(callId: string, mode: 'sendonly' | 'inactive' = 'sendonly'): Promise<boolean> {
    return this.reinvite(callId, mode);
  }

  resume(callId: string): Promise<boolean> {
    return this.reinvite(callId, 'sendrecv');
  }

  /** Sends RFC 4733 digits; returns how many were queued (0 if DTMF was not negotiated). */
  sendDtmf(callId: string, digits: string, durationMs = 100): number {
    return this.calls.get(callId)?.media?.sendDtmf(digits, durationMs) ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const id of [...this.calls.keys()]) this.hangup(id);
    // Give our BYEs a moment on the wire before the socket goes.
    if (this.calls.size) await new Promise((r) => setTimeout(r, 50));
    this.closed = true;
    await Promise.all([...this.calls.values()].map((c) => this.finish(c, 'local-bye')));
    this.host.close();
    await this.transports.close();
  }

  // --- SIP events -----------------------------------------------------------------------------

  private onUaEvent(e: UaAppEvent): void {
    switch (e.type) {
      case 'incoming-call':
        void this.onIncoming(e);
        return;
      case 'call-progress':
        if (this.calls.has(e.call)) this.emit({ type: 'ringing', call: e.call, status: e.status });
        return;
      case 'call-answered':
        this.onAnswered(e);
        return;
      case 'reinvite':
        this.onRemoteReinvite(e);
        return;
      case 'reinvite-result':
        this.onReinviteResult(e);
        return;
      case 'call-ended': {
        const call = this.calls.get(e.call);
        if (call) void this.finish(call, e.reason, e.status, e.replacedBy);
        else this.endedEarly.add(e.call);
        return;
      }
      case 'request':
      case 'response':
      case 'request-failed':
        // Requests other than calls (REFER, NOTIFY, MESSAGE...) and their answers: the owner's.
        this.requestHandler?.(e);
        return;
      default:
        return;
    }
  }

  private async onIncoming(e: Extract<UaEvent, { type: 'incoming-call' }>): Promise<void> {
    const sdp = newSdpSession();
    const from = serializeNameAddr(e.request.from);
    let socket: RtpSocketPair;
    try {
      socket = await RtpSocketPair.open(this.opts.bind ?? '127.0.0.1', this.ports);
    } catch (err) {
      this.log.warn('no RTP port for incoming call', { err });
      this.host.act((now) => this.ua.reject(e.call, 503, now));
      return;
    }
    if (this.endedEarly.delete(e.call) || this.closed) {
      await socket.close();
      return;
    }
    const call = this.newCall(e.call, 'incoming', from, sdp, socket);
    const media = this.localMedia(socket.port, 'sendrecv');
    let answerSdp: string;
    if (e.request.body.length === 0) {
      call.offerInAnswer = true;
      answerSdp = sdp.offer(media);
    } else {
      const answer = sdp.answer(e.request.body, media);
      if (!answer.ok) {
        this.log.info('incoming call refused: SDP', { error: answer.error });
        await socket.close();
        this.host.act((now) => this.ua.reject(e.call, 488, now));
        return;
      }
      answerSdp = answer.value.sdp;
      call.remote = answer.value.remote;
    }
    this.calls.set(e.call, call);
    call.answerSdp = answerSdp;
    const replaced = e.replaces ? this.calls.get(e.replaces) : undefined;
    if (replaced && !replaced.ended) {
      // RFC 3891: the user is already talking in the replaced call, so the new one is answered at
      // once without ringing; the core ends the old dialog (and its media) once the new one is
      // confirmed. The new call's media starts with our 200 from the same source and sinks.
      this.emit({ type: 'incoming', call: e.call, from, replaces: replaced.id });
      this.answer(e.call);
      return;
    }
    this.host.act((now) => this.ua.ringing(e.call, now));
    this.emit({ type: 'incoming', call: e.call, from });
    if (this.opts.autoAnswer) {
      call.answerTimer = setTimeout(() => this.answer(e.call), this.opts.answerDelayMs ?? 0);
    }
  }

  private onAnswered(e: Extract<UaEvent, { type: 'call-answered' }>): void {
    const call = this.calls.get(e.call);
    if (!call) return;
    if (call.direction === 'outgoing' || call.offerInAnswer) {
      const md = parseMediaDescription(e.message.body, this.codecs);
      if (!md.ok) {
        this.log.warn('answer SDP unusable; hanging up', { error: md.error });
        this.hangup(e.call);
        return;
      }
      call.remote = md.value;
      this.startMedia(call);
    }
    if (call.remote) this.emit({ type: 'answered', call: e.call, remote: call.remote });
  }

  private onRemoteReinvite(e: Extract<UaEvent, { type: 'reinvite' }>): void {
    const call = this.calls.get(e.call);
    if (!call?.socket) {
      this.host.act((now) => this.ua.answerReinvite(e.call, 488, null, now));
      return;
    }
    const local = this.localMedia(call.socket.port, call.localDirection);
    if (e.request.body.length === 0) {
      // An offerless re-INVITE asks for our current offer; the answer comes in the ACK.
      const offer = call.sdp.offer(local);
      this.host.act((now) =>
        this.ua.answerReinvite(e.call, 200, { body: textBody(offer), contentType: SDP }, now),
      );
      return;
    }
    const answer = call.sdp.answer(e.request.body, local);
    if (!answer.ok) {
      this.host.act((now) => this.ua.answerReinvite(e.call, 488, null, now));
      return;
    }
    this.host.act((now) =>
      this.ua.answerReinvite(e.call, 200, { body: textBody(answer.value.sdp), contentType: SDP }, now),
    );
    call.remote = answer.value.remote;
    call.remoteHold = answer.value.remote.hold;
    this.applyDirection(call, answer.value.direction);
  }

  private onReinviteResult(e: Extract<UaEvent, { type: 'reinvite-result' }>): void {
    const call = this.calls.get(e.call);
    if (!call) return;
    const done = call.reinviteDone;
    call.reinviteDone = null;
    const ok = e.status >= 200 && e.status < 300 && e.response !== null;
    if (ok && e.response) {
      const md = parseMediaDescription(e.response.body, this.codecs);
      if (md.ok) {
        call.remote = md.value;
        // Our direction is what we asked for, narrowed by what the answer allows (RFC 3264 6.1).
        this.applyDirection(call, answerDirection(md.value.direction, call.localDirection));
      }
    }
    done?.(ok);
  }

  private reinvite(callId: string, direction: Direction): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call?.socket || call.reinviteDone) return Promise.resolve(false);
    const previous = call.localDirection;
    call.localDirection = direction;
    const offer = call.sdp.offer(this.localMedia(call.socket.port, direction));
    const started = this.host.act((now) =>
      this.ua.reinvite(callId, { body: textBody(offer), contentType: SDP }, now),
    );
    if (!started) {
      call.localDirection = previous;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      call.reinviteDone = (ok) => {
        if (!ok) call.localDirection = previous;
        resolve(ok);
      };
    });
  }

  // --- media ----------------------------------------------------------------------------------

  private localMedia(port: number, direction: Direction) {
    return { address: this.address, port, direction, codecs: this.codecs };
  }

  private newCall(
    id: string,
    direction: PhoneCall['direction'],
    peer: string,
    sdp: LocalSdpSession,
    socket: RtpSocketPair,
  ): PhoneCall {
    return {
      id,
      direction,
      peer,
      sdp,
      socket,
      media: null,
      remote: null,
      localDirection: 'sendrecv',
      remoteHold: false,
      recorder: null,
      statsTimer: null,
      answerTimer: null,
      reinviteDone: null,
      offerInAnswer: false,
      answerSdp: null,
      ended: false,
    };
  }

  private sourceFor(callId: string): AudioSource {
    if (this.opts.source) return this.opts.source(callId);
    if (this.playPcm) return new PcmSource(this.playPcm, true);
    if (this.opts.toneHz) return new ToneSource(this.opts.toneHz);
    return new SilenceSource();
  }

  private startMedia(call: PhoneCall): void {
    if (call.media || !call.socket || !call.remote || call.ended) return;
    const r = call.remote;
    const sinks: AudioSink[] = [...(this.opts.sinks?.(call.id) ?? [])];
    if (this.opts.record) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      call.recorder = new WavRecorder(join(this.opts.record, `${stamp}-${call.id}.wav`));
      sinks.push(call.recorder);
    }
    call.media = new MediaSession({
      socket: call.socket,
      codec: { name: r.codec.name, pt: r.codec.pt },
      dtmfPt: r.dtmfPt,
      remote: r.hold ? null : { transport: 'UDP', host: r.address, port: r.port },
      source: this.sourceFor(call.id),
      sinks,
      clock: this.opts.clock,
      cname: `${this.opts.user ?? 'peerpbx'}@${this.address}`,
      onEvent: (ev) => {
        if (ev.type === 'dtmf') this.emit({ type: 'dtmf', call: call.id, digit: ev.digit });
      },
    });
    call.media.start();
    const every = this.opts.statsIntervalMs ?? 5000;
    if (every > 0) {
      call.statsTimer = setInterval(() => {
        if (call.media) this.emit({ type: 'media-stats', call: call.id, stats: call.media.stats() });
      }, every);
      call.statsTimer.unref();
    }
  }

  private applyDirection(call: PhoneCall, ours: Direction): void {
    const r = call.remote;
    if (!call.media) this.startMedia(call);
    const remote = r && !r.hold ? { transport: 'UDP' as const, host: r.address, port: r.port } : null;
    const sending = SENDING.has(ours) && remote !== null;
    const receiving = RECEIVING.has(ours);
    call.media?.update({ remote: remote ?? undefined, send: sending, receive: receiving });
    this.emit({
      type: 'media-updated',
      call: call.id,
      sending,
      receiving,
      held: call.localDirection !== 'sendrecv',
      remoteHold: call.remoteHold,
    });
  }

  private async finish(
    call: PhoneCall,
    reason: CallEndReason,
    status?: number,
    replacedBy?: string,
  ): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    this.calls.delete(call.id);
    if (call.answerTimer) clearTimeout(call.answerTimer);
    if (call.statsTimer) clearInterval(call.statsTimer);
    call.reinviteDone?.(false);
    let stats: MediaStats | null = null;
    try {
      if (call.media) stats = await call.media.stop();
      else await call.socket?.close();
    } catch (err) {
      this.log.warn('media stop failed', { call: call.id, err });
    }
    const event: PhoneEvent = {
      type: 'ended',
      call: call.id,
      reason,
      stats,
      recording: call.recorder?.path ?? null,
    };
    if (status !== undefined) event.status = status;
    if (replacedBy !== undefined) event.replacedBy = replacedBy;
    this.emit(event);
  }

  private emit(e: PhoneEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.log.error('phone event listener failed', { event: e.type, err });
      }
    }
  }
}

function newSdpSession(): LocalSdpSession {
  // o= session id: random 48 bits keeps it a safe integer; the version starts low (RFC 4566 5.2).
  return new LocalSdpSession(randomBytes(6).readUIntBE(0, 6), 1);
}
