// RTP packets (RFC 3550 section 5.1): fixed header, CSRC list, header extension, padding.
// decodeRtp never throws: hostile datagrams arrive on every open UDP port.

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers). */
  profile: number;
  /** Extension body; its length is a multiple of 4 bytes on the wire. */
  data: Uint8Array;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: RtpHeaderExtension;
  payload: Uint8Array;
  /** Number of padding bytes that followed the payload (0 when the P bit was clear). */
  paddingLength: number;
}

export type RtpErrorCode =
  | 'too-short'
  | 'bad-version'
  | 'truncated-csrc'
  | 'truncated-extension'
  | 'bad-padding';

export interface RtpError {
  code: RtpErrorCode;
  reason: string;
}

export type RtpDecodeResult = { ok: true; packet: RtpPacket } | { ok: false; error: RtpError };

const FIXED_HEADER = 12;

function fail(code: RtpErrorCode, reason: string): RtpDecodeResult {
  return { ok: false, error: { code, reason } };
}

export function decodeRtp(bytes: Uint8Array): RtpDecodeResult {
  if (!(bytes instanceof Uint8Array) || bytes.length < FIXED_HEADER)
    return fail('too-short', 'shorter than 12 bytes');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0];
  if (b0 >> 6 !== 2) return fail('bad-version', `version ${b0 >> 6}`);
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  let offset = FIXED_HEADER;
  if (bytes.length < offset + cc * 4) return fail('truncated-csrc', `${cc} CSRCs do not fit`);
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++, offset += 4) csrcs.push(dv.getUint32(offset));
  let extension: RtpHeaderExtension | undefined;
  if (hasExtension) {
    if (bytes.length < offset + 4) return fail('truncated-extension', 'extension header does not fit');
    const profile = dv.getUint16(offset);
    const words = dv.getUint16(offset + 2);
    offset += 4;
    if (bytes.length < offset + words * 4)
      return fail('truncated-extension', `${words} extension words do not fit`);
    extension = { profile, data: bytes.slice(offset, offset + words * 4) };
    offset += words * 4;
  }
  let end = bytes.length;
  let paddingLength = 0;
  if (hasPadding) {
    paddingLength = bytes[bytes.length - 1];
    // The count includes itself, so 0 is invalid (RFC 3550 section 5.1, P bit).
    if (paddingLength === 0 || offset + paddingLength > bytes.length) {
      return fail('bad-padding', `padding ${paddingLength} does not fit`);
    }
    end -= paddingLength;
  }
  return {
    ok: true,
    packet: {
      marker: (bytes[1] & 0x80) !== 0,
      payloadType: bytes[1] & 0x7f,
      sequence: dv.getUint16(2),
      timestamp: dv.getUint32(4),
      ssrc: dv.getUint32(8),
      csrcs,
      extension,
      payload: bytes.slice(offset, end),
      paddingLength,
    },
  };
}

export interface RtpEncodeInput {
  marker?: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs?: number[];
  extension?: RtpHeaderExtension;
  payload: Uint8Array;
  /** Padding bytes to append (1..255); 0 or absent for none. */
  paddingLength?: number;
}

export function encodeRtp(p: RtpEncodeInput): Uint8Array {
  const csrcs = (p.csrcs ?? []).slice(0, 15);
  const ext = p.extension;
  const extWords = ext ? Math.ceil(ext.data.length / 4) : 0;
  const pad = Math.max(0, Math.min(255, p.paddingLength ?? 0));
  const headerLen = FIXED_HEADER + csrcs.length * 4 + (ext ? 4 + extWords * 4 : 0);
  const out = new Uint8Array(headerLen + p.payload.length + pad);
  const dv = new DataView(out.buffer);
  out[0] = 0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  dv.setUint16(2, p.sequence & 0xffff);
  dv.setUint32(4, p.timestamp >>> 0);
  dv.setUint32(8, p.ssrc >>> 0);
  let offset = FIXED_HEADER;
  for (const c of csrcs) {
    dv.setUint32(offset, c >>> 0);
    offset += 4;
  }
  if (ext) {
    dv.setUint16(offset, ext.profile & 0xffff);
    dv.setUint16(offset + 2, extWords);
    out.set(ext.data, offset + 4);
    offset += 4 + extWords * 4;
  }
  out.set(p.payload, offset);
  if (pad) out[out.length - 1] = pad;
  return out;
}

/** Signed distance from sequence number a to b, modulo 2^16 (positive if b is after a). */
export function seqDelta(a: number, b: number): number {
  return ((b - a) << 16) >> 16;
}

/** Signed distance from RTP timestamp a to b, modulo 2^32. */
export function tsDelta(a: number, b: number): number {
  return (b - a) | 0;
}
