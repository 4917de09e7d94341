// G.711 mu-law (PCMU) and A-law (PCMA), bit-exact with ITU-T G.711 as implemented by the
// ITU-T G.191 reference code. Linear samples are 16-bit signed PCM. Encoding goes through 64 KiB lookup
// tables built once at load, since every 20 ms frame encodes 160 samples.

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159; // in 14-bit units
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, ends: number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]) return i;
  return ends.length;
}

function linearToUlawSlow(pcm: number): number {
  // ITU-T G.191 reference: negative samples use the one's complement (~pcm), which differs from
  // the Sun code (-pcm) by one 14-bit LSB on some inputs.
  const mask = pcm < 0 ? 0x7f : 0xff;
  let v = (pcm < 0 ? ~pcm : pcm) >> 2; // 14-bit magnitude domain
  if (v > ULAW_CLIP) v = ULAW_CLIP;
  v += ULAW_BIAS >> 2;
  const seg = segment(v, ULAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

function ulawToLinearSlow(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + ULAW_BIAS;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function linearToAlawSlow(pcm: number): number {
  let v = pcm >> 3; // 13-bit domain
  let mask: number;
  if (v >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segment(v, ALAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  let a = seg << 4;
  a |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return a ^ mask;
}

function alawToLinearSlow(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
const ULAW_ENCODE = new Uint8Array(65536);
const ALAW_ENCODE = new Uint8Array(65536);
for (let i = 0; i < 256; i++) {
  ULAW_DECODE[i] = ulawToLinearSlow(i);
  ALAW_DECODE[i] = alawToLinearSlow(i);
}
for (let i = 0; i < 65536; i++) {
  const pcm = (i << 16) >> 16; // index is the sample's 16-bit two's complement pattern
  ULAW_ENCODE[i] = linearToUlawSlow(pcm);
  ALAW_ENCODE[i] = linearToAlawSlow(pcm);
}

export function linearToUlaw(pcm: number): number {
  return ULAW_ENCODE[pcm & 0xffff];
}
export function ulawToLinear(code: number): number {
  return ULAW_DECODE[code & 0xff];
}
export function linearToAlaw(pcm: number): number {
  return ALAW_ENCODE[pcm & 0xffff];
}
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff];
}

export type G711Law = 'PCMU' | 'PCMA';

export function encodeG711(law: G711Law, pcm: Int16Array): Uint8Array {
  const table = law === 'PCMU' ? ULAW_ENCODE : ALAW_ENCODE;
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i] & 0xffff];
  return out;
}

export function decodeG711(law: G711Law, bytes: Uint8Array): Int16Array {
  const table = law === 'PCMU' ? ULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]];
  return out;
}
