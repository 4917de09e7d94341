// Seeded hostile SIP inputs: random bytes, truncated and mutated messages, oversized messages, bad
// Content-Length, header floods, binary junk. Deterministic from the seed so a failure replays.

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type HostileKind =
  | 'random-bytes'
  | 'truncated'
  | 'mutated'
  | 'oversized'
  | 'bad-content-length'
  | 'header-flood'
  | 'binary-junk';

export const KINDS: HostileKind[] = [
  'random-bytes',
  'truncated',
  'mutated',
  'oversized',
  'bad-content-length',
  'header-flood',
  'binary-junk',
];

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function validMessage(rand: () => number, port: number, i: number): string {
  const methods = ['INVITE', 'OPTIONS', 'BYE', 'CANCEL', 'REGISTER', 'ACK', 'FOO'];
  const method = methods[Math.floor(rand() * methods.length)];
  const body = method === 'INVITE' ? SDP : '';
  return [
    `${method} sip:u${i}@127.0.0.1:${port};transport=udp SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKh${i};rport`,
    'Max-Forwards: 70',
    `From: "Evil \\"quoted\\"" <sip:x@127.0.0.1>;tag=${i}`,
    `To: <sip:u${i}@127.0.0.1>`,
    `Call-ID: hostile-${i}@127.0.0.1`,
    `CSeq: ${i} ${method}`,
    'Contact: <sip:x@127.0.0.1:9>',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

function randomBytes(rand: () => number, n: number, printable = false): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = printable ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 256);
  return b;
}

/** One hostile input of the given kind. */
export function hostileInput(kind: HostileKind, rand: () => number, port: number, i: number): Buffer {
  const valid = () => validMessage(rand, port, i);
  switch (kind) {
    case 'random-bytes':
      return randomBytes(rand, 1 + Math.floor(rand() * 1400), rand() < 0.5);
    case 'truncated': {
      const m = Buffer.from(valid());
      return m.subarray(0, Math.floor(rand() * m.length));
    }
    case 'mutated': {
      const m = Buffer.from(valid());
      const flips = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < flips; k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      return m;
    }
    case 'oversized': {
      // Around and over the 64 KiB limit: UDP carries at most ~64 KiB (the sender cuts it), streams
      // get all of it (the TCP framer must close the link).
      const size = 20_000 + Math.floor(rand() * 100_000);
      return Buffer.from(
        valid().replace('Max-Forwards: 70', `X-Pad: ${'A'.repeat(size)}\r\nMax-Forwards: 70`),
      );
    }
    case 'bad-content-length': {
      const bad = ['-1', '99999999999', 'abc', '5, 7', '1e3', '', '4294967296', '100'][
        Math.floor(rand() * 8)
      ];
      return Buffer.from(valid().replace(/Content-Length: \d+/, `Content-Length: ${bad}`));
    }
    case 'header-flood': {
      const n = 100 + Math.floor(rand() * 2000);
      const extra = Array.from({ length: n }, (_, k) => `X-H${k}: ${'v'.repeat(Math.floor(rand() * 20))}`);
      return Buffer.from(valid().replace('Max-Forwards: 70', `${extra.join('\r\n')}\r\nMax-Forwards: 70`));
    }
    case 'binary-junk':
      return Buffer.concat([
        Buffer.from('INVITE '),
        randomBytes(rand, 200 + Math.floor(rand() * 800)),
        Buffer.from('\r\n\r\n'),
      ]);
  }
}
