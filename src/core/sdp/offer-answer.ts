// SDP offer/answer (RFC 3264) for one audio stream over RTP/AVP with G.711 and RFC 4733 DTMF.

import * as sdpTransform from 'sdp-transform';
import { type Codec, DEFAULT_DTMF_PT, SUPPORTED_CODECS } from './codecs.ts';
import {
  type Direction,
  findDtmfPt,
  isHoldAddress,
  type MediaDescription,
  type MediaLine,
  matchCodec,
  parseSdp,
  type SdpResult,
} from './parse.ts';

export interface OriginParams {
  sessionId: string | number;
  sessionVersion: number;
  username?: string;
  /** o= address; defaults to the media address. */
  address?: string;
}

export interface LocalMediaParams {
  /** c= address and m= port where we receive RTP. */
  address: string;
  port: number;
  /** What we want: 'sendonly' to put the other side on hold. Default sendrecv. */
  direction?: Direction;
  /** Codecs in our order of preference (for offers) or the set we accept (for answers). */
  codecs?: readonly Codec[];
  /** telephone-event payload type to offer; null to not offer DTMF. Default 101. */
  dtmfPt?: number | null;
  ptime?: number;
}

const SESSION_NAME = 'PeerPBX';
const DTMF_EVENTS = '0-16';

function ipVer(address: string): number {
  return address.includes(':') ? 6 : 4;
}

function sessionSkeleton(origin: OriginParams, address: string): sdpTransform.SessionDescription {
  const oAddr = origin.address ?? address;
  return {
    version: 0,
    origin: {
      username: origin.username ?? '-',
      sessionId: String(origin.sessionId),
      sessionVersion: origin.sessionVersion,
      netType: 'IN',
      ipVer: ipVer(oAddr),
      address: oAddr,
    },
    name: SESSION_NAME,
    timing: { start: 0, stop: 0 },
    connection: { version: ipVer(address), ip: address },
    media: [],
  };
}

function audioMedia(
  port: number,
  codecs: readonly Codec[],
  dtmfPt: number | undefined,
  direction: Direction,
  ptime: number,
): sdpTransform.MediaDescription {
  const rtp: Array<{ payload: number; codec: string; rate: number }> = codecs.map((c) => ({
    payload: c.pt,
    codec: c.name,
    rate: c.rate,
  }));
  const fmtp: Array<{ payload: number; config: string }> = [];
  if (dtmfPt !== undefined) {
    rtp.push({ payload: dtmfPt, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: dtmfPt, config: DTMF_EVENTS });
  }
  return {
    type: 'audio',
    port,
    protocol: 'RTP/AVP',
    payloads: rtp.map((r) => r.payload).join(' '),
    rtp,
    fmtp,
    ptime,
    direction,
  };
}

/** Builds an SDP offer with one audio stream. */
export function createOffer(origin: OriginParams, media: LocalMediaParams): string {
  const s = sessionSkeleton(origin, media.address);
  const dtmf = media.dtmfPt === null ? undefined : (media.dtmfPt ?? DEFAULT_DTMF_PT);
  s.media.push(
    audioMedia(
      media.port,
      media.codecs ?? SUPPORTED_CODECS,
      dtmf,
      media.direction ?? 'sendrecv',
      media.ptime ?? 20,
    ),
  );
  return sdpTransform.write(s);
}

function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
function directionOf(send: boolean, recv: boolean): Direction {
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}

/**
 * RFC 3264 section 6.1: the answer mirrors the offer (sendonly <-> recvonly, inactive stays
 * inactive), further restricted by what we want locally.
 */
export function answerDirection(offered: Direction, local: Direction = 'sendrecv'): Direction {
  return directionOf(sends(local) && receives(offered), receives(local) && sends(offered));
}

export interface Answer {
  sdp: string;
  /** The offerer's stream as we will use it: where to send, chosen codec (offerer's PT), DTMF PT. */
  remote: MediaDescription;
  /** Our direction as written in the answer. */
  direction: Direction;
  /** Index of the accepted m= line in the offer. */
  mediaIndex: number;
}

function acceptable(m: MediaLine, supported: readonly Codec[]): Codec | undefined {
  if (m.type !== 'audio' || m.port <= 0 || m.port > 65535) return undefined;
  if (m.protocol.toUpperCase() !== 'RTP/AVP' || m.address === null) return undefined;
  for (const f of m.formats) {
    const c = matchCodec(f, supported);
    if (c) return c;
  }
  return undefined;
}

/**
 * Answers an offer: accepts the first audio stream with a common codec (first in the offerer's
 * order), keeps telephone-event with the offerer's payload type, and rejects every other m= line
 * with port 0. Fails with 'no-common-codec' when nothing is acceptable (the caller sends 488).
 */
export function createAnswer(
  offer: string | Uint8Array,
  origin: OriginParams,
  media: LocalMediaParams,
): SdpResult<Answer> {
  const parsed = parseSdp(offer);
  if (!parsed.ok) return parsed;
  const supported = media.codecs ?? SUPPORTED_CODECS;
  let chosen: { line: MediaLine; codec: Codec } | undefined;
  for (const line of parsed.value.media) {
    const codec = acceptable(line, supported);
    if (codec) {
      chosen = { line, codec };
      break;
    }
  }
  if (!chosen) {
    const hasAudio = parsed.value.media.some((m) => m.type === 'audio');
    return {
      ok: false,
      error: hasAudio
        ? { code: 'no-common-codec', reason: 'no acceptable audio stream in the offer' }
        : { code: 'no-audio', reason: 'offer has no audio stream' },
    };
  }
  const { line, codec } = chosen;
  // Only offer DTMF back if they offered it and we have not disabled it.
  const dtmfPt = media.dtmfPt === null ? undefined : findDtmfPt(line.formats);
  const direction = answerDirection(line.direction, media.direction);
  const s = sessionSkeleton(origin, media.address);
  for (const m of parsed.value.media) {
    if (m === line) {
      s.media.push(audioMedia(media.port, [codec], dtmfPt, direction, media.ptime ?? line.ptime ?? 20));
    } else {
      // RFC 3264 section 6: same number of m= lines; a rejected one has port 0.
      s.media.push({
        type: m.type,
        port: 0,
        protocol: m.protocol,
        payloads: m.rawFormats.trim() || '0',
        rtp: [],
        fmtp: [],
      });
    }
  }
  const address = line.address as string;
  return {
    ok: true,
    value: {
      sdp: sdpTransform.write(s),
      remote: {
        address,
        port: line.port,
        codec,
        dtmfPt,
        direction: line.direction,
        ptime: line.ptime ?? 20,
        hold: line.direction === 'sendonly' || line.direction === 'inactive' || isHoldAddress(address),
      },
      direction,
      mediaIndex: line.index,
    },
  };
}

/**
 * Our side of one SDP session: keeps o= session id and increments the version for every new
 * offer or answer after the first (RFC 3264 section 8: a changed description needs a higher
 * version). The session id and first version come from the caller (random/time passed in).
 */
export class LocalSdpSession {
  private version: number;
  private used = false;

  constructor(
    readonly sessionId: string | number,
    initialVersion: number,
    private readonly username = '-',
  ) {
    this.version = initialVersion;
  }

  get currentVersion(): number {
    return this.version;
  }

  private nextOrigin(address: string): OriginParams {
    if (this.used) this.version++;
    this.used = true;
    return { sessionId: this.sessionId, sessionVersion: this.version, username: this.username, address };
  }

  offer(media: LocalMediaParams): string {
    return createOffer(this.nextOrigin(media.address), media);
  }

  answer(offer: string | Uint8Array, media: LocalMediaParams): SdpResult<Answer> {
    // Validate first so a rejected offer does not burn a version number.
    const probe = createAnswer(offer, { sessionId: this.sessionId, sessionVersion: this.version }, media);
    if (!probe.ok) return probe;
    return createAnswer(offer, this.nextOrigin(media.address), media);
  }
}
