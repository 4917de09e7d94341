// Hostile input: random bytes, mutated and truncated messages, huge values. The parser must never
// throw, must answer with a known error code, must round-trip whatever it accepts, and must stay
// linear in the input size.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage, parseNameAddrList, parseUri, parseVia } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';

const CODES = new Set([
  'empty',
  'incomplete',
  'start-line',
  'version',
  'header',
  'missing-header',
  'content-length',
  'body',
  'cseq-mismatch',
  'too-many-headers',
]);

/** mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIXTURES = join(import.meta.dirname, '../../fixtures/rfc4475');
const SEEDS: Uint8Array[] = [];
for (const dir of ['valid', 'invalid', 'transaction', 'application']) {
  for (const f of readdirSync(join(FIXTURES, dir)))
    SEEDS.push(new Uint8Array(readFileSync(join(FIXTURES, dir, f))));
}
const SPECIAL = [...':;,"<>\\%[]@?=/ \t\r\n\0'].map((c) => c.charCodeAt(0)).concat([0xff, 0xc3, 0x80]);

function check(data: Uint8Array, label: string): boolean {
  let r: ReturnType<typeof parseMessage>;
  try {
    r = parseMessage(data);
  } catch (e) {
    throw new Error(`${label}: parseMessage threw ${String(e)}`);
  }
  if (!r.ok) {
    if (!CODES.has(r.error.code))
      throw new Error(`${label}: unexpected code ${r.error.code} (${r.error.reason})`);
    return false;
  }
  const again = parseMessage(serializeMessage(r.message));
  expect(again, label).toEqual(r);
  return true;
}

describe('hostile input never throws', () => {
  it('10,000 random, mutated, truncated and spliced inputs (seeded)', () => {
    const rnd = prng(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const kind = i % 4;
      let data: Uint8Array;
      if (kind === 0) {
        // Random bytes, biased towards SIP-looking ASCII so some lines and colons appear.
        data = new Uint8Array(int(1500));
        for (let j = 0; j < data.length; j++) {
          data[j] = rnd() < 0.3 ? SPECIAL[int(SPECIAL.length)] : rnd() < 0.8 ? 32 + int(95) : int(256);
        }
      } else if (kind === 1) {
        // A torture message with a few bytes replaced, inserted or deleted.
        const src = Array.from(SEEDS[int(SEEDS.length)]);
        const edits = 1 + int(8);
        for (let e = 0; e < edits; e++) {
          const at = int(src.length + 1);
          const op = int(3);
          const b = rnd() < 0.7 ? SPECIAL[int(SPECIAL.length)] : int(256);
          if (op === 0) src[at] = b;
          else if (op === 1) src.splice(at, 0, b);
          else src.splice(at, 1 + int(4));
        }
        data = new Uint8Array(src);
      } else if (kind === 2) {
        // Truncated anywhere.
        const src = SEEDS[int(SEEDS.length)];
        data = src.subarray(0, int(src.length + 1));
      } else {
        // Header lines of different messages spliced together.
        const lines: string[] = [];
        for (let k = 0; k < 3; k++) {
          const text = Buffer.from(SEEDS[int(SEEDS.length)]).toString('latin1');
          const head = text.split('\r\n\r\n')[0].split('\r\n');
          lines.push(...head.slice(k === 0 ? 0 : 1).filter(() => rnd() < 0.6));
        }
        data = new Uint8Array(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
      }
      if (check(data, `case ${i}`)) accepted++;
    }
    // Not vacuous: some mutated or spliced messages are still valid and were round-tripped.
    expect(accepted).toBeGreaterThan(100);
  });

  it('header-value parsers never throw on random strings', () => {
    const rnd = prng(42);
    const chars = 'sip:@;,<>"\\ %[]=?abc12.\t-';
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const n = Math.floor(rnd() * 60);
      for (let j = 0; j < n; j++) s += chars[Math.floor(rnd() * chars.length)];
      expect(() => [parseUri(s), parseVia(s), parseNameAddrList(s)]).not.toThrow();
    }
  });
});

describe('huge inputs stay linear', () => {
  const head =
    'OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n';
  const timed = (s: string) => {
    const t0 = performance.now();
    const r = parseMessage(s);
    return { r, ms: performance.now() - t0 };
  };

  it('a 4 MiB header value, a 100,000-entry Via list and a 1 MiB Contact list parse in linear time', () => {
    const big = timed(`${head}X-Big: ${'a'.repeat(4 << 20)}\r\n\r\n`);
    expect(big.r.ok).toBe(true);
    const vias = timed(`${head.replace('Via: ', `Via: ${'SIP/2.0/UDP h;x=1, '.repeat(100_000)}`)}\r\n`);
    expect(vias.r.ok && vias.r.message.via.length).toBe(100_001);
    const contacts = `${'<sip:h>, '.repeat(1 << 17)}<sip:h>`;
    const t0 = performance.now();
    expect(parseNameAddrList(contacts)?.length).toBe((1 << 17) + 1);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(big.ms).toBeLessThan(3000);
    expect(vias.ms).toBeLessThan(3000);
  });

  it('pathological repetitions fail fast', () => {
    for (const s of [
      `${head}From: ${'"'.repeat(1 << 20)}\r\n\r\n`,
      `${head}To: ${'<'.repeat(1 << 20)}\r\n\r\n`,
      `${head}X: ${'\r\n '.repeat(1 << 18)}\r\n\r\n`,
      `OPTIONS ${'sip:'.repeat(1 << 18)} SIP/2.0\r\n\r\n`,
      `${'%'.repeat(1 << 20)}\r\n\r\n`,
    ]) {
      const { ms } = timed(s);
      expect(ms).toBeLessThan(3000);
    }
  });
});
