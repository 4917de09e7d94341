// A seeded, deterministic, coverage-unaware but format-aware mutator. Each mutation stacks 1-4
// operators: byte flips, interesting bytes, range delete/duplicate, splices with another corpus
// entry, line (header) duplication/deletion/swap, numbers replaced by boundary values, and token
// swaps from a dictionary of SIP/SDP/CBOR tokens. Same seed, same corpus: same inputs, so a
// failure replays exactly.
import { mulberry32 } from '../helpers/hostile.ts';

export type Rand = () => number;

export { mulberry32 };

/** Numbers around every boundary a parser might get wrong (sign, 8/16/31/32/53 bits, floats). */
export const BOUNDARY_NUMBERS = [
  '0',
  '-0',
  '-1',
  '1',
  '00000000000000000001',
  '127',
  '128',
  '255',
  '256',
  '65535',
  '65536',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967295',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '18446744073709551616',
  '99999999999999999999999999',
  '1e309',
  '-1e309',
  '0x10',
  '1.5',
  'NaN',
  '',
];

/** Tokens of the formats under test: swapping them in reaches branches random bytes never hit. */
export const SIP_TOKENS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'SUBSCRIBE',
  'NOTIFY',
  'SIP/2.0',
  'SIP/3.0',
  'sip:',
  'sips:',
  'tel:',
  'Via: ',
  'v: ',
  'From: ',
  'f: ',
  'To: ',
  't: ',
  'Call-ID: ',
  'i: ',
  'CSeq: ',
  'Contact: ',
  'm: ',
  'Content-Length: ',
  'l: ',
  'Content-Type: ',
  'Max-Forwards: ',
  'Authorization: Digest ',
  'WWW-Authenticate: ',
  'Route: ',
  'Record-Route: ',
  'Expires: ',
  ';branch=z9hG4bK',
  ';tag=',
  ';rport',
  ';received=',
  ';maddr=',
  ';transport=tcp',
  ';lr',
  ';expires=',
  '<',
  '>',
  '"',
  '\\',
  '\\"',
  '@',
  ':',
  ';',
  ',',
  '=',
  '%',
  '%00',
  '%zz',
  '[',
  ']',
  '[::1]',
  '\r\n',
  '\n',
  '\r',
  '\r\n ',
  '\r\n\r\n',
  '\t',
  ' ',
  '\0',
  '\u00ff',
  '\u00c3\u00a9',
  'username="',
  'realm="',
  'nonce="',
  'response="',
  'uri="',
];

export const SDP_TOKENS = [
  'v=0',
  'o=',
  's=',
  'c=IN IP4 ',
  'c=IN IP6 ',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'm=audio ',
  'm=video ',
  'm=application ',
  ' RTP/AVP ',
  ' RTP/SAVPF ',
  ' UDP/TLS/RTP/SAVPF ',
  'a=rtpmap:',
  'a=fmtp:',
  'a=ptime:',
  'a=maxptime:',
  'a=sendrecv',
  'a=sendonly',
  'a=recvonly',
  'a=inactive',
  'a=rtcp:',
  'a=rtcp-mux',
  'a=candidate:',
  'a=ice-ufrag:',
  'a=fingerprint:sha-256 ',
  'a=group:BUNDLE 0',
  'a=mid:0',
  'a=ssrc:',
  'PCMU/8000',
  'PCMA/8000',
  'telephone-event/8000',
  'opus/48000/2',
  '0-16',
  '0-15',
  '\r\n',
  '\n',
  ' ',
];

/** CBOR heads: type/length bytes that make decoders allocate, recurse or read past the end. */
export const CBOR_TOKENS: number[][] = [
  [0xff], // break
  [0x9f], // indefinite array
  [0xbf], // indefinite map
  [0x5f], // indefinite bytes
  [0x7f], // indefinite text
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // uint64 max
  [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // nint64 min
  [0x5a, 0x7f, 0xff, 0xff, 0xff], // bytes of 2 GiB
  [0x7a, 0xff, 0xff, 0xff, 0xff], // text of 4 GiB
  [0x9a, 0xff, 0xff, 0xff, 0xff], // array of 4G items
  [0xba, 0xff, 0xff, 0xff, 0xff], // map of 4G pairs
  [0xc0], // tag 0
  [0xd8, 0x40], // typed-array tag
  [0xd9, 0xd9, 0xf7], // self-describe tag
  [0xd8, 0x1c], // shared value tag (cbor-x records)
  [0xd8, 0x1d], // shared ref tag
  [0xd9, 0xdf, 0xff], // cbor-x record definition
  [0xf9, 0x7c, 0x00], // half-float infinity
  [0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
  [0xf7], // undefined
  [0xf6], // null
  [0xf5], // true
  [0x80 | 23],
  [0xa0 | 23],
];

const INTERESTING_BYTES = [
  0, 1, 0x7f, 0x80, 0xff, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x3c, 0x3e, 0x22, 0x25,
];

export interface MutatorOptions {
  /** Text tokens to swap in (latin1). */
  tokens?: readonly string[];
  /** Raw byte sequences to insert (binary formats). */
  byteTokens?: readonly number[][];
  /** Whether line operators make sense (text formats). */
  lines?: boolean;
  /** Upper bound on an output's length. */
  maxLength?: number;
}

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

type Op = (input: Uint8Array) => Uint8Array;

export class Mutator {
  private readonly ops: Op[];

  constructor(
    private readonly rand: Rand,
    private readonly corpus: readonly Uint8Array[],
    private readonly opts: MutatorOptions = {},
  ) {
    const textOps: Op[] = opts.lines
      ? [
          (b) => this.lineOp(b, 'duplicate'),
          (b) => this.lineOp(b, 'delete'),
          (b) => this.lineOp(b, 'swap'),
          (b) => this.lineOp(b, 'duplicate'),
          (b) => this.boundaryNumber(b),
          (b) => this.boundaryNumber(b),
        ]
      : [(b) => this.boundaryNumber(b)];
    const tokenOps: Op[] = opts.tokens?.length
      ? [(b) => this.tokenSwap(b), (b) => this.tokenInsert(b), (b) => this.tokenSwap(b)]
      : [];
    const byteTokenOps: Op[] = opts.byteTokens?.length ? [(b) => this.byteTokenInsert(b)] : [];
    this.ops = [
      (b) => this.flipBit(b),
      (b) => this.setByte(b),
      (b) => this.deleteRange(b),
      (b) => this.duplicateRange(b),
      (b) => this.insertRandom(b),
      (b) => this.splice(b),
      (b) => this.truncate(b),
      ...textOps,
      ...tokenOps,
      ...byteTokenOps,
    ];
  }

  /** A new input: a corpus entry with 1-4 stacked mutations. */
  next(): Uint8Array {
    let b = pick(this.rand, this.corpus);
    const n = 1 + Math.floor(this.rand() * 4);
    for (let i = 0; i < n; i++) b = pick(this.rand, this.ops)(b);
    const max = this.opts.maxLength ?? 128 * 1024;
    return b.length > max ? b.subarray(0, max) : b;
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private flipBit(b: Uint8Array): Uint8Array {
    if (!b.length) return b;
    const out = b.slice();
    out[this.int(out.length)] ^= 1 << this.int(8);
    return out;
  }

  private setByte(b: Uint8Array): Uint8Array {
    if (!b.length) return b;
    const out = b.slice();
    out[this.int(out.length)] = this.rand() < 0.5 ? pick(this.rand, INTERESTING_BYTES) : this.int(256);
    return out;
  }

  private range(b: Uint8Array): [number, number] {
    const from = this.int(b.length + 1);
    const len = Math.min(b.length - from, 1 + this.int(this.rand() < 0.8 ? 16 : 512));
    return [from, from + len];
  }

  private deleteRange(b: Uint8Array): Uint8Array {
    const [from, to] = this.range(b);
    return concat(b.subarray(0, from), b.subarray(to));
  }

  private duplicateRange(b: Uint8Array): Uint8Array {
    const [from, to] = this.range(b);
    const times = this.rand() < 0.9 ? 1 : 1 + this.int(64);
    const parts = [b.subarray(0, to)];
    for (let i = 0; i < times; i++) parts.push(b.subarray(from, to));
    parts.push(b.subarray(to));
    return concat(...parts);
  }

  private insertRandom(b: Uint8Array): Uint8Array {
    const at = this.int(b.length + 1);
    const junk = new Uint8Array(1 + this.int(32));
    for (let i = 0; i < junk.length; i++) junk[i] = this.int(256);
    return concat(b.subarray(0, at), junk, b.subarray(at));
  }

  /** The head of this input with the tail of another corpus entry. */
  private splice(b: Uint8Array): Uint8Array {
    const other = pick(this.rand, this.corpus);
    return concat(b.subarray(0, this.int(b.length + 1)), other.subarray(this.int(other.length + 1)));
  }

  private truncate(b: Uint8Array): Uint8Array {
    return b.subarray(0, this.int(b.length + 1));
  }

  private lineOp(b: Uint8Array, what: 'duplicate' | 'delete' | 'swap'): Uint8Array {
    const lines = latin1(b).split('\n');
    if (lines.length < 2) return b;
    const i = this.int(lines.length);
    if (what === 'duplicate') {
      const times = this.rand() < 0.9 ? 1 : 1 + this.int(200);
      lines.splice(i, 0, ...Array(times).fill(lines[i]));
    } else if (what === 'delete') lines.splice(i, 1);
    else {
      const j = this.int(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    }
    return bytes(lines.join('\n'));
  }

  private boundaryNumber(b: Uint8Array): Uint8Array {
    const s = latin1(b);
    const numbers = [...s.matchAll(/\d+/g)];
    if (!numbers.length) return this.tokenInsert(b);
    const m = pick(this.rand, numbers);
    const at = m.index ?? 0;
    return bytes(s.slice(0, at) + pick(this.rand, BOUNDARY_NUMBERS) + s.slice(at + m[0].length));
  }

  /** Replaces one occurrence of a dictionary token with another token. */
  private tokenSwap(b: Uint8Array): Uint8Array {
    const tokens = this.opts.tokens ?? [];
    const s = latin1(b);
    for (let tries = 0; tries < 8; tries++) {
      const t = pick(this.rand, tokens);
      const at = s.indexOf(t, this.int(s.length));
      const found = at >= 0 ? at : s.indexOf(t);
      if (found >= 0) return bytes(s.slice(0, found) + pick(this.rand, tokens) + s.slice(found + t.length));
    }
    return this.tokenInsert(b);
  }

  private tokenInsert(b: Uint8Array): Uint8Array {
    const tokens = this.opts.tokens?.length ? this.opts.tokens : BOUNDARY_NUMBERS;
    const at = this.int(b.length + 1);
    return concat(b.subarray(0, at), bytes(pick(this.rand, tokens)), b.subarray(at));
  }

  private byteTokenInsert(b: Uint8Array): Uint8Array {
    const t = Uint8Array.from(pick(this.rand, this.opts.byteTokens ?? [[0]]));
    const at = this.int(b.length + 1);
    // Overwrite or insert: overwriting keeps lengths in place, so the decoder reads the new head.
    if (this.rand() < 0.5) return concat(b.subarray(0, at), t, b.subarray(at));
    return concat(b.subarray(0, at), t, b.subarray(Math.min(b.length, at + t.length)));
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
