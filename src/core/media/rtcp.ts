// Minimal RTCP (RFC 3550 section 6.4): sender and receiver reports, SDES CNAME for compound
// packets, and a never-throwing decoder that skips packet types it does not know.

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0..255 (fixed point /256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  highestSeq: number;
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface SenderInfo {
  /** NTP timestamp as two 32-bit words. */
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: Array<{ ssrc: number; cname?: string }> }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; packetType: number; body: Uint8Array };

export type RtcpDecodeResult =
  | { ok: true; packets: RtcpPacket[] }
  | { ok: false; error: { code: string; reason: string } };

const PT_SR = 200;
const PT_RR = 201;
const PT_SDES = 202;
const PT_BYE = 203;

function writeReport(dv: DataView, off: number, r: ReportBlock): void {
  dv.setUint32(off, r.ssrc >>> 0);
  dv.setUint32(off + 4, ((r.fractionLost & 0xff) << 24) | (r.cumulativeLost & 0xffffff));
  dv.setUint32(off + 8, r.highestSeq >>> 0);
  dv.setUint32(off + 12, r.jitter >>> 0);
  dv.setUint32(off + 16, r.lastSr >>> 0);
  dv.setUint32(off + 20, r.delaySinceLastSr >>> 0);
}

function readReport(dv: DataView, off: number): ReportBlock {
  const w = dv.getUint32(off + 4);
  return {
    ssrc: dv.getUint32(off),
    fractionLost: w >>> 24,
    cumulativeLost: ((w & 0xffffff) << 8) >> 8,
    highestSeq: dv.getUint32(off + 8),
    jitter: dv.getUint32(off + 12),
    lastSr: dv.getUint32(off + 16),
    delaySinceLastSr: dv.getUint32(off + 20),
  };
}

function header(dv: DataView, count: number, pt: number, totalBytes: number): void {
  dv.setUint8(0, 0x80 | (count & 0x1f));
  dv.setUint8(1, pt);
  dv.setUint16(2, totalBytes / 4 - 1);
}

export function encodeSenderReport(
  ssrc: number,
  sender: SenderInfo,
  reports: ReportBlock[] = [],
): Uint8Array {
  const blocks = reports.slice(0, 31);
  const out = new Uint8Array(28 + blocks.length * 24);
  const dv = new DataView(out.buffer);
  header(dv, blocks.length, PT_SR, out.length);
  dv.setUint32(4, ssrc >>> 0);
  dv.setUint32(8, sender.ntpSec >>> 0);
  dv.setUint32(12, sender.ntpFrac >>> 0);
  dv.setUint32(16, sender.rtpTimestamp >>> 0);
  dv.setUint32(20, sender.packetCount >>> 0);
  dv.setUint32(24, sender.octetCount >>> 0);
  for (const [i, r] of blocks.entries()) writeReport(dv, 28 + i * 24, r);
  return out;
}

export function encodeReceiverReport(ssrc: number, reports: ReportBlock[]): Uint8Array {
  const blocks = reports.slice(0, 31);
  const out = new Uint8Array(8 + blocks.length * 24);
  const dv = new DataView(out.buffer);
  header(dv, blocks.length, PT_RR, out.length);
  dv.setUint32(4, ssrc >>> 0);
  for (const [i, r] of blocks.entries()) writeReport(dv, 8 + i * 24, r);
  return out;
}

export function encodeSdesCname(ssrc: number, cname: string): Uint8Array {
  const text = new TextEncoder().encode(cname).slice(0, 255);
  // chunk: ssrc, CNAME item (type 1, length, text), END item, padded to 32 bits.
  const chunkLen = Math.ceil((4 + 2 + text.length + 1) / 4) * 4;
  const out = new Uint8Array(4 + chunkLen);
  const dv = new DataView(out.buffer);
  header(dv, 1, PT_SDES, out.length);
  dv.setUint32(4, ssrc >>> 0);
  out[8] = 1;
  out[9] = text.length;
  out.set(text, 10);
  return out;
}

/** Wall-clock ms since the Unix epoch to the NTP 64-bit format (RFC 3550 section 4). */
export function msToNtp(ms: number): { ntpSec: number; ntpFrac: number } {
  const NTP_EPOCH_OFFSET = 2_208_988_800;
  const sec = Math.floor(ms / 1000);
  return {
    ntpSec: (sec + NTP_EPOCH_OFFSET) >>> 0,
    ntpFrac: Math.floor(((ms - sec * 1000) / 1000) * 2 ** 32) >>> 0,
  };
}

/** Decodes a compound RTCP packet. Unknown packet types are returned as 'other'. */
export function decodeRtcp(bytes: Uint8Array): RtcpDecodeResult {
  if (!(bytes instanceof Uint8Array) || bytes.length < 4) {
    return { ok: false, error: { code: 'too-short', reason: 'shorter than 4 bytes' } };
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: RtcpPacket[] = [];
  let off = 0;
  while (off + 4 <= bytes.length) {
    const b0 = dv.getUint8(off);
    if (b0 >> 6 !== 2)
      return { ok: false, error: { code: 'bad-version', reason: `version ${b0 >> 6} at ${off}` } };
    const count = b0 & 0x1f;
    const pt = dv.getUint8(off + 1);
    const len = (dv.getUint16(off + 2) + 1) * 4;
    if (off + len > bytes.length)
      return { ok: false, error: { code: 'truncated', reason: `packet at ${off} overruns` } };
    const body = new DataView(bytes.buffer, bytes.byteOffset + off, len);
    if ((pt === PT_SR && len < 28 + count * 24) || (pt === PT_RR && len < 8 + count * 24)) {
      return { ok: false, error: { code: 'truncated', reason: `report blocks do not fit at ${off}` } };
    }
    if (pt === PT_SR) {
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readReport(body, 28 + i * 24));
      packets.push({
        type: 'sr',
        ssrc: body.getUint32(4),
        sender: {
          ntpSec: body.getUint32(8),
          ntpFrac: body.getUint32(12),
          rtpTimestamp: body.getUint32(16),
          packetCount: body.getUint32(20),
          octetCount: body.getUint32(24),
        },
        reports,
      });
    } else if (pt === PT_RR) {
      const reports: ReportBlock[] = [];
      for (let i = 0; i < count; i++) reports.push(readReport(body, 8 + i * 24));
      packets.push({ type: 'rr', ssrc: body.getUint32(4), reports });
    } else if (pt === PT_SDES) {
      packets.push({ type: 'sdes', chunks: decodeSdesChunks(bytes.subarray(off + 4, off + len), count) });
    } else if (pt === PT_BYE) {
      const ssrcs: number[] = [];
      for (let i = 0; i < count && 4 + i * 4 + 4 <= len; i++) ssrcs.push(body.getUint32(4 + i * 4));
      packets.push({ type: 'bye', ssrcs });
    } else {
      packets.push({ type: 'other', packetType: pt, body: bytes.slice(off + 4, off + len) });
    }
    off += len;
  }
  if (off !== bytes.length)
    return { ok: false, error: { code: 'trailing', reason: `${bytes.length - off} stray bytes` } };
  return { ok: true, packets };
}

function decodeSdesChunks(b: Uint8Array, count: number): Array<{ ssrc: number; cname?: string }> {
  const chunks: Array<{ ssrc: number; cname?: string }> = [];
  let off = 0;
  for (let c = 0; c < count && off + 4 <= b.length; c++) {
    const ssrc = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    off += 4;
    let cname: string | undefined;
    while (off < b.length && b[off] !== 0) {
      const type = b[off];
      const len = off + 1 < b.length ? b[off + 1] : 0;
      if (off + 2 + len > b.length) break;
      if (type === 1) cname = new TextDecoder().decode(b.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    off = (Math.floor(off / 4) + 1) * 4; // skip END and padding to the next 32-bit boundary
    chunks.push({ ssrc, cname });
  }
  return chunks;
}
