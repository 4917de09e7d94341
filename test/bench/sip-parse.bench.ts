// Parse + serialize throughput of our SIP parser against SIP.js's parser, in the same process.
// Run: node --import tsx test/bench/sip-parse.bench.ts [--rounds N] [--ms N]
//
// Ours: parseMessage(bytes) then serializeMessage(message) back to bytes (the real transport path:
// UTF-8 decode, typed headers parsed eagerly, re-encode). SIP.js: Parser.parseMessage(string) then
// message.toString(). SIP.js's toString() returns the stored input text, so its "serialize" costs
// nothing: the comparison is conservative for us.
import { Parser } from 'sip.js/lib/core/messages/parser.js';
import { parseMessage } from '../../src/core/sip/parse.ts';
import { serializeMessage } from '../../src/core/sip/serialize.ts';

const SDP_OFFER = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');
const SDP_ANSWER = SDP_OFFER.replace(/alice/g, 'bob')
  .replace(/192\.0\.2\.10/g, '192.0.2.20')
  .replace('49170', '3456');

function msg(head: string[], body = ''): string {
  const lines = [...head, `Content-Length: ${Buffer.byteLength(body)}`, '', ''];
  return lines.join('\r\n') + body;
}

const DIALOG = [
  'From: "Alice Liddell" <sip:alice@office.example.com>;tag=1928301774',
  'To: "Bob" <sip:bob@office.example.com>',
  'Call-ID: a84b4c76e66710@pc33.office.example.com',
];
const DIALOG_2 = [DIALOG[0], `${DIALOG[1]};tag=a6c85cf`, DIALOG[2]];
const VIA = 'Via: SIP/2.0/UDP pc33.office.example.com:5060;branch=z9hG4bK776asdhds;rport';
const VIA_PROXY = 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.1';

const CORPUS: Record<string, string> = {
  'INVITE+SDP': msg(
    [
      'INVITE sip:bob@office.example.com SIP/2.0',
      VIA,
      'Max-Forwards: 70',
      ...DIALOG,
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@192.0.2.10:5060;transport=udp>',
      'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, INFO, UPDATE',
      'Supported: replaces, timer, 100rel',
      'User-Agent: PeerPBX/0.1',
      'Content-Type: application/sdp',
    ],
    SDP_OFFER,
  ),
  '180 Ringing': msg([
    'SIP/2.0 180 Ringing',
    VIA_PROXY,
    VIA,
    'Record-Route: <sip:192.0.2.1;lr>',
    ...DIALOG_2,
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@192.0.2.20:5060>',
  ]),
  '200 OK+SDP': msg(
    [
      'SIP/2.0 200 OK',
      VIA_PROXY,
      VIA,
      'Record-Route: <sip:192.0.2.1;lr>',
      ...DIALOG_2,
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@192.0.2.20:5060>',
      'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
      'Content-Type: application/sdp',
    ],
    SDP_ANSWER,
  ),
  ACK: msg([
    'ACK sip:bob@192.0.2.20:5060 SIP/2.0',
    'Via: SIP/2.0/UDP pc33.office.example.com:5060;branch=z9hG4bKnashds9',
    'Route: <sip:192.0.2.1;lr>',
    'Max-Forwards: 70',
    ...DIALOG_2,
    'CSeq: 314159 ACK',
  ]),
  BYE: msg([
    'BYE sip:alice@192.0.2.10:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKnashds10',
    'Max-Forwards: 70',
    'From: "Bob" <sip:bob@office.example.com>;tag=a6c85cf',
    'To: "Alice Liddell" <sip:alice@office.example.com>;tag=1928301774',
    DIALOG[2],
    'CSeq: 231 BYE',
  ]),
  'REGISTER+auth': msg([
    'REGISTER sip:office.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKnashd92;rport',
    'Max-Forwards: 70',
    'From: <sip:carol@office.example.com>;tag=456248',
    'To: <sip:carol@office.example.com>',
    'Call-ID: 843817637684230@998sdasdh09',
    'CSeq: 1827 REGISTER',
    'Contact: <sip:carol@192.0.2.30:5060>;expires=3600',
    'Authorization: Digest username="carol", realm="office.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:office.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001',
    'User-Agent: Yealink SIP-T46S 66.86.0.15',
    'Expires: 3600',
  ]),
  '401 Unauthorized': msg([
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKnashd92;rport=5060;received=192.0.2.30',
    'From: <sip:carol@office.example.com>;tag=456248',
    'To: <sip:carol@office.example.com>;tag=2493k59kd',
    'Call-ID: 843817637684230@998sdasdh09',
    'CSeq: 1826 REGISTER',
    'WWW-Authenticate: Digest realm="office.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=SHA-256',
    'WWW-Authenticate: Digest realm="office.example.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5',
  ]),
  OPTIONS: msg([
    'OPTIONS sip:192.0.2.20:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKhjhs8ass877',
    'Max-Forwards: 70',
    'From: <sip:ping@192.0.2.10>;tag=as5d5e7cb2',
    'To: <sip:192.0.2.20:5060>',
    'Call-ID: 3b8b0d5f1d0c4ae1@192.0.2.10',
    'CSeq: 102 OPTIONS',
    'Contact: <sip:ping@192.0.2.10:5060>',
    'Accept: application/sdp',
  ]),
  NOTIFY: msg(
    [
      'NOTIFY sip:alice@192.0.2.10:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK8s7d9f7',
      'Max-Forwards: 70',
      'From: <sip:bob@office.example.com>;tag=ffd2',
      'To: <sip:alice@office.example.com>;tag=1928301774',
      'Call-ID: 7a9f8sd7f@192.0.2.10',
      'CSeq: 12 NOTIFY',
      'Event: refer;id=93809824',
      'Subscription-State: active;expires=60',
      'Contact: <sip:bob@192.0.2.20:5060>',
      'Content-Type: message/sipfrag;version=2.0',
    ],
    'SIP/2.0 200 OK\r\n',
  ),
  MESSAGE: msg(
    [
      'MESSAGE sip:bob@office.example.com SIP/2.0',
      'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK776sgdkse',
      'Max-Forwards: 70',
      'From: sip:alice@office.example.com;tag=49583',
      'To: sip:bob@office.example.com',
      'Call-ID: asd88asd77a@192.0.2.10',
      'CSeq: 1 MESSAGE',
      'Content-Type: text/plain;charset=utf-8',
    ],
    'Lunch at noon? Café downstairs.',
  ),
};

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('--rounds', 5);
const MS = arg('--ms', 1000); // minimum time per contender per round

const texts = Object.values(CORPUS);
const bytes = texts.map((t) => new TextEncoder().encode(t));
const silent = { log() {}, warn() {}, error() {}, debug() {} };
let sink = 0;

// Sanity: both parsers must accept every message, and ours must round-trip.
for (const [name, text] of Object.entries(CORPUS)) {
  const r = parseMessage(text);
  if (!r.ok) throw new Error(`ours rejects ${name}: ${r.error.reason}`);
  const again = parseMessage(serializeMessage(r.message));
  if (!again.ok || JSON.stringify(again.message) !== JSON.stringify(r.message)) {
    throw new Error(`ours does not round-trip ${name}`);
  }
  // biome-ignore lint/suspicious/noExplicitAny: SIP.js wants its Logger class; any object with these methods works
  if (!Parser.parseMessage(text, silent as any)) throw new Error(`SIP.js rejects ${name}`);
}

function oursBytes(): void {
  for (let i = 0; i < bytes.length; i++) {
    const r = parseMessage(bytes[i]);
    if (r.ok) sink += serializeMessage(r.message).length;
  }
}
function oursString(): void {
  for (let i = 0; i < texts.length; i++) {
    const r = parseMessage(texts[i]);
    if (r.ok) sink += serializeMessage(r.message).length;
  }
}
function sipjs(): void {
  for (let i = 0; i < texts.length; i++) {
    // biome-ignore lint/suspicious/noExplicitAny: see above
    const m = Parser.parseMessage(texts[i], silent as any);
    if (m) sink += m.toString().length;
  }
}

/** Messages per second of one timed run: whole passes over the corpus for at least `ms`. */
function measure(fn: () => void, ms: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  const t0 = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let passes = 0;
  let elapsed = 0n;
  do {
    fn();
    passes++;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < limit);
  return (passes * texts.length) / (Number(elapsed) / 1e9);
}

const contenders = { 'ours (bytes in/out)': oursBytes, 'ours (string in)': oursString, 'SIP.js': sipjs };
const results: Record<string, number[]> = {};
for (const [name, fn] of Object.entries(contenders)) {
  results[name] = [];
  measure(fn, MS / 2); // warmup: let the JIT settle
}
for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order each round so neither side always runs on a warmer/colder heap.
  const order = Object.entries(contenders);
  if (round % 2) order.reverse();
  for (const [name, fn] of order) results[name].push(measure(fn, MS));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results['SIP.js']);
console.log(
  `SIP parse + serialize, corpus of ${texts.length} messages, median of ${ROUNDS} rounds of ${MS} ms`,
);
console.log('parser                 msgs/s        vs SIP.js');
for (const [name, xs] of Object.entries(results)) {
  const mps = median(xs);
  console.log(
    `${name.padEnd(22)} ${Math.round(mps).toLocaleString('en').padStart(11)}   ${(mps / base).toFixed(2)}x`,
  );
}
if (sink === 42) console.log(''); // keep the work observable
