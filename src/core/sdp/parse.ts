// Parsing a remote SDP (RFC 4566) into typed values. sdp-transform does the line splitting; this
// module validates what it returns (it is lenient and returns partial objects for garbage) and
// never throws.

import * as sdpTransform from 'sdp-transform';
import { type Codec, STATIC_PAYLOADS, SUPPORTED_CODECS } from './codecs.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface PayloadFormat {
  pt: number;
  name: string;
  rate: number;
  channels?: number;
  fmtp?: string;
}

/** One m= line with session-level defaults (c=, direction) applied. */
export interface MediaLine {
  index: number;
  type: string;
  port: number;
  protocol: string;
  /** The raw format list of the m= line ("0 8 101"), needed to echo a rejected line. */
  rawFormats: string;
  formats: PayloadFormat[];
  address: string | null;
  direction: Direction;
  ptime?: number;
}

export interface ParsedSdp {
  origin: { username: string; sessionId: string; version: number; address: string };
  media: MediaLine[];
}

/** The negotiated view of a remote audio stream that the media layer needs. */
export interface MediaDescription {
  address: string;
  port: number;
  codec: Codec;
  dtmfPt?: number;
  direction: Direction;
  ptime: number;
  /** The remote side put us on hold (sendonly/inactive, or the RFC 2543 c=0.0.0.0 form). */
  hold: boolean;
}

export type SdpErrorCode =
  | 'not-sdp'
  | 'too-large'
  | 'no-origin'
  | 'no-audio'
  | 'no-connection'
  | 'bad-port'
  | 'unsupported-protocol'
  | 'no-common-codec';

export interface SdpError {
  code: SdpErrorCode;
  reason: string;
}

export type SdpResult<T> = { ok: true; value: T } | { ok: false; error: SdpError };

const MAX_SDP = 64 * 1024;
const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function fail<T>(code: SdpErrorCode, reason: string): SdpResult<T> {
  return { ok: false, error: { code, reason } };
}

function toText(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : new TextDecoder().decode(input);
}

function formatsOf(m: sdpTransform.MediaDescription): PayloadFormat[] {
  const out: PayloadFormat[] = [];
  for (const tok of String(m.payloads ?? '')
    .trim()
    .split(/\s+/)) {
    if (!/^\d{1,3}$/.test(tok)) continue;
    const pt = Number(tok);
    if (pt > 127) continue;
    const rtp = (m.rtp ?? []).find((r) => r.payload === pt);
    const fmtp = (m.fmtp ?? []).find((f) => f.payload === pt)?.config;
    if (rtp && typeof rtp.codec === 'string') {
      out.push({ pt, name: rtp.codec, rate: rtp.rate ?? 8000, channels: rtp.encoding, fmtp });
    } else if (STATIC_PAYLOADS[pt]) {
      out.push({ pt, ...STATIC_PAYLOADS[pt], fmtp });
    } else {
      out.push({ pt, name: '', rate: 0, fmtp });
    }
  }
  return out;
}

/** Parses the whole SDP: origin and every m= line. */
export function parseSdp(input: string | Uint8Array): SdpResult<ParsedSdp> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return fail('not-sdp', 'not text');
  if (input.length > MAX_SDP) return fail('too-large', `SDP larger than ${MAX_SDP} bytes`);
  const text = toText(input);
  if (!/^\s*v=0\s*$/m.test(text)) return fail('not-sdp', 'no v=0 line');
  let s: sdpTransform.SessionDescription;
  try {
    s = sdpTransform.parse(text);
  } catch (e) {
    return fail('not-sdp', `unparseable: ${(e as Error).message}`);
  }
  const o = s.origin;
  if (
    !o ||
    o.sessionId === undefined ||
    typeof o.sessionVersion !== 'number' ||
    !Number.isFinite(o.sessionVersion)
  ) {
    return fail('no-origin', 'missing or malformed o= line');
  }
  const sessionDir = DIRECTIONS.has(String(s.direction)) ? (s.direction as Direction) : 'sendrecv';
  const media: MediaLine[] = [];
  (s.media ?? []).forEach((m, index) => {
    if (typeof m.type !== 'string' || typeof m.protocol !== 'string') return;
    const port = typeof m.port === 'number' && Number.isInteger(m.port) ? m.port : -1;
    media.push({
      index,
      type: m.type,
      port,
      protocol: m.protocol,
      rawFormats: String(m.payloads ?? ''),
      formats: formatsOf(m),
      address: m.connection?.ip ?? s.connection?.ip ?? null,
      direction: DIRECTIONS.has(String(m.direction)) ? (m.direction as Direction) : sessionDir,
      ptime: typeof m.ptime === 'number' && m.ptime > 0 ? m.ptime : undefined,
    });
  });
  return {
    ok: true,
    value: {
      origin: {
        username: String(o.username ?? '-'),
        sessionId: String(o.sessionId),
        version: o.sessionVersion,
        address: String(o.address ?? ''),
      },
      media,
    },
  };
}

/** The telephone-event payload type at the remote's clock rate (8 kHz for G.711), if offered. */
export function findDtmfPt(formats: PayloadFormat[], rate = 8000): number | undefined {
  return formats.find((f) => f.name.toLowerCase() === 'telephone-event' && f.rate === rate)?.pt;
}

export function matchCodec(f: PayloadFormat, supported: readonly Codec[]): Codec | undefined {
  const c = supported.find((s) => s.name === f.name.toUpperCase() && s.rate === f.rate);
  // Keep the remote's payload type number: that is what it will send and expect.
  return c ? { ...c, pt: f.pt } : undefined;
}

export function isHoldAddress(address: string | null): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * The first active (port != 0) RTP/AVP audio stream of a remote SDP, with the first codec in the
 * remote's order that we support. Works for remote offers and answers alike.
 */
export function parseMediaDescription(
  input: string | Uint8Array,
  supported: readonly Codec[] = SUPPORTED_CODECS,
): SdpResult<MediaDescription> {
  const parsed = parseSdp(input);
  if (!parsed.ok) return parsed;
  const audio = parsed.value.media.filter((m) => m.type === 'audio' && m.port !== 0);
  if (audio.length === 0) return fail('no-audio', 'no active audio stream');
  const m = audio.find((a) => a.protocol.toUpperCase() === 'RTP/AVP');
  if (!m) return fail('unsupported-protocol', `audio protocol ${audio[0].protocol} is not RTP/AVP`);
  if (m.port < 1 || m.port > 65535) return fail('bad-port', `bad port ${m.port}`);
  if (m.address === null) return fail('no-connection', 'no c= line for the audio stream');
  let codec: Codec | undefined;
  for (const f of m.formats) if (!codec) codec = matchCodec(f, supported);
  if (!codec) return fail('no-common-codec', `no supported codec in "${m.rawFormats}"`);
  return {
    ok: true,
    value: {
      address: m.address,
      port: m.port,
      codec,
      dtmfPt: findDtmfPt(m.formats),
      direction: m.direction,
      ptime: m.ptime ?? 20,
      hold: m.direction === 'sendonly' || m.direction === 'inactive' || isHoldAddress(m.address),
    },
  };
}

/** Hold as seen from the receiver of this description (RFC 3264 section 8.4, RFC 2543 c=0.0.0.0). */
export function isHold(md: Pick<MediaDescription, 'direction' | 'address'>): boolean {
  return md.direction === 'sendonly' || md.direction === 'inactive' || isHoldAddress(md.address);
}
