// Seed corpora for the fuzzer: real inputs, so mutations start from the shapes the parsers are
// built for. SIP: the RFC 4475 torture messages plus the messages our own tests and UAs produce;
// SDP: baresip-, sipp- and Chromium-style offers; overlay: frames of real messages that a small
// office of OverlayNodes exchanged (join, store of signed values, fetch, replicate, ping...); API:
// client frames of real commands.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { encodeReceiverReport, encodeSdesCname, encodeSenderReport } from '../../src/core/media/rtcp.ts';
import { encodeRtp } from '../../src/core/media/rtp.ts';
import { encodeTelephoneEvent } from '../../src/core/media/telephone-event.ts';
import { encodeWav } from '../../src/core/media/wav.ts';
import { encodeFrame } from '../../src/core/overlay/frame.ts';
import type { OverlayMessage } from '../../src/core/overlay/messages.ts';
import { OverlayNode } from '../../src/core/overlay/node.ts';
import { MemoryRecordStore } from '../../src/core/records/memory-store.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import { createOffer } from '../../src/core/sdp/offer-answer.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../src/core/security/value-signing.ts';
import { OfficeValueValidator } from '../../src/core/security/value-validator.ts';
import { createRequest, createResponse } from '../../src/core/sip/build.ts';
import { createChallenge } from '../../src/core/sip/digest.ts';
import { serializeMessage } from '../../src/core/sip/serialize.ts';
import { issuePeerCert, makeCa, type TestCa, type TestPeerCert } from '../helpers/certs.ts';
import { hostileInput, mulberry32 } from '../helpers/hostile.ts';
import { request } from '../helpers/raw-sip.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

export function sipCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const rfc = join(ROOT, 'test/fixtures/rfc4475');
  for (const dir of readdirSync(rfc, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of readdirSync(join(rfc, dir.name))) {
      if (f.endsWith('.dat')) out.push(new Uint8Array(readFileSync(join(rfc, dir.name, f))));
    }
  }
  // What the tests send (raw-sip, the storm's valid messages) and what our UA builds.
  for (const m of ['OPTIONS', 'REGISTER', 'INVITE', 'BYE', 'SUBSCRIBE', 'NOTIFY'])
    out.push(text(request(m, '101', 5060, m === 'INVITE' ? 'TCP' : 'UDP', 'Expires: 3600')));
  const rand = mulberry32(4475);
  for (let i = 0; i < 6; i++) out.push(new Uint8Array(hostileInput('mutated', () => 0.99, 5060, i)));
  out.push(new Uint8Array(hostileInput('bad-content-length', rand, 5060, 7)));
  const invite = createRequest({
    method: 'INVITE',
    uri: {
      scheme: 'sip',
      user: '102',
      password: null,
      host: '10.0.0.2',
      port: 5062,
      params: {},
      headers: {},
    },
    from: {
      display: 'Alice "A"',
      uri: {
        scheme: 'sip',
        user: '101',
        password: null,
        host: 'office',
        port: null,
        params: {},
        headers: {},
      },
      params: { tag: 'a1b2' },
    },
    to: {
      display: null,
      uri: {
        scheme: 'sip',
        user: '102',
        password: null,
        host: 'office',
        port: null,
        params: {},
        headers: {},
      },
      params: {},
    },
    callId: 'c0ffee@10.0.0.1',
    cseq: { seq: 1, method: 'INVITE' },
    via: {
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '10.0.0.1',
      port: 5060,
      params: { branch: 'z9hG4bK776asdhds', rport: null },
    },
    headers: [
      { name: 'Contact', value: '<sip:101@10.0.0.1:5060;transport=udp>;expires=60' },
      { name: 'Route', value: '<sip:10.0.0.9;lr>' },
      {
        name: 'Authorization',
        value:
          'Digest username="101", realm="office", nonce="abc", uri="sip:102@office", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="xyz"',
      },
    ],
    body: sdpCorpus()[0],
    contentType: 'application/sdp',
  });
  out.push(serializeMessage(invite));
  const challenge = createResponse(invite, 401, undefined, {
    toTag: 'srv1',
    headers: [
      {
        name: 'WWW-Authenticate',
        value: createChallenge({
          realm: 'office',
          nonce: 'n0nce',
          algorithm: 'MD5',
          qop: ['auth'],
          opaque: 'o',
        }),
      },
    ],
  });
  out.push(serializeMessage(challenge));
  out.push(serializeMessage(createResponse(invite, 180, undefined, { toTag: 'srv1' })));
  return out;
}

export function sdpCorpus(): Uint8Array[] {
  const baresip = [
    'v=0',
    'o=- 1733406051 1733406052 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 16100 RTP/AVP 0 8 101',
    'b=AS:64',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=sendrecv',
    'a=label:1',
    'a=ssrc:1203891236 cname:sip:bob@127.0.0.1',
    'a=rtcp-rsize',
    '',
  ].join('\r\n');
  const sipp = [
    'v=0',
    'o=user1 53655765 2353687637 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 6000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
  const chromium = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:9Xl2',
    'a=ice-pwd:vzUnkfxtp1qlE3fTyR0wRrpL',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    'a=candidate:1 1 udp 2122260223 192.168.1.5 54400 typ host generation 0',
    '',
  ].join('\r\n');
  const ours = createOffer(
    { sessionId: 42, sessionVersion: 1 },
    { address: '10.0.0.1', port: 40000, direction: 'sendonly' },
  );
  const ipv6Hold = [
    'v=0',
    'o=- 7 8 IN IP6 ::1',
    's=-',
    'c=IN IP6 ::1',
    't=0 0',
    'm=audio 5004 RTP/AVP 8 0',
    'a=inactive',
    'm=video 5006 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    '',
  ].join('\n');
  return [baresip, sipp, chromium, ours, ipv6Hold].map(text);
}

export interface OverlayCorpus {
  ca: TestCa;
  alice: TestPeerCert;
  bob: TestPeerCert;
  messages: OverlayMessage[];
  frames: Uint8Array[];
  values: StoredValue[];
}

let overlayCache: OverlayCorpus | undefined;

/**
 * Real overlay traffic: three OverlayNodes (the office validator, real certificates) join, store
 * signed values of several kinds and fetch them; every message one sent to another is kept.
 */
export function overlayCorpus(): OverlayCorpus {
  if (overlayCache) return overlayCache;
  const ca = makeCa('fuzz office');
  const alice = issuePeerCert(ca, { user: '101@fuzz' });
  const bob = issuePeerCert(ca, { user: '102@fuzz' });
  const t0 = Date.now();
  const validator = new OfficeValueValidator({
    caCertificatePem: ca.certPem,
    signatures: nodeSignatureProvider(),
  });
  const certs = [alice, bob, issuePeerCert(ca, { user: '103@fuzz' })];
  const nodes = certs.map(
    (c, i) =>
      new OverlayNode({
        id: c.nodeId,
        address: { transport: 'TCP', host: '10.0.0.1', port: 7000 + i },
        store: new MemoryRecordStore(),
        validator,
        random: mulberry32(i + 1),
      }),
  );
  const messages: OverlayMessage[] = [];
  const queue: { to: number; msg: OverlayMessage }[] = [];
  let now = t0;
  const route = (effects: ReturnType<OverlayNode['tick']>) => {
    for (const e of effects) {
      if (e.type !== 'send') continue;
      const to = nodes.findIndex((n) => n.address.port === e.to.port);
      if (to >= 0) queue.push({ to, msg: e.message });
    }
  };
  const pump = (ms: number) => {
    const end = now + ms;
    while (now < end) {
      while (queue.length) {
        const { to, msg } = queue.shift() as { to: number; msg: OverlayMessage };
        messages.push(msg);
        route(nodes[to].receive(now, msg.from.address, msg));
      }
      now += 50;
      for (const n of nodes) route(n.tick(now));
    }
  };
  route(nodes[0].start(now));
  pump(200);
  route(nodes[1].start(now, [nodes[0].address]));
  pump(2000);
  route(nodes[2].start(now, [nodes[1].address]));
  pump(3000);
  const sign = (c: TestPeerCert) =>
    new ValueSigner(
      { nodeId: c.nodeId, user: c.user, certificate: c.certPem },
      c.keyPem,
      nodeSignatureProvider(),
    );
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const values = [
    sign(alice).sign({
      resourceName: '101@fuzz',
      kind: 'SIP-REGISTRATION',
      key: alice.nodeId,
      value: json({ contacts: [{ uri: 'sip:101@10.0.0.1:5060', expires: 3600 }], displayName: 'Alice' }),
      storageTime: now,
      lifetime: 60_000,
    }),
    sign(alice).sign({
      resourceName: '101@fuzz',
      kind: 'PRESENCE',
      value: json({ state: 'available', note: 'in' }),
      storageTime: now,
      lifetime: 60_000,
    }),
    sign(bob).sign({
      resourceName: '101@fuzz',
      kind: 'VOICEMAIL',
      key: `${bob.nodeId}-1`,
      value: json({
        id: `${bob.nodeId}-1`,
        from: '102',
        time: now,
        duration: 4,
        size: 64000,
        chunkCount: 1,
        chunkSize: 65536,
        sha256: 'ab'.repeat(32),
        heard: false,
      }),
      storageTime: now,
      lifetime: 86_400_000,
    }),
    sign(alice).sign({
      resourceName: '101@fuzz',
      kind: 'USER-SETTINGS',
      value: json({ dnd: false, forwardBusy: '102', voicemailPinHash: 'ff'.repeat(32), noAnswerMs: 20000 }),
      storageTime: now,
      lifetime: 86_400_000,
    }),
  ];
  for (const v of values) route(nodes[1].storeValues(now, [v]).effects);
  pump(1000);
  route(nodes[2].fetch(now, values[0].resourceId).effects);
  route(nodes[0].stat(now, values[0].resourceId).effects);
  route(nodes[2].watch(now, values[1].resourceId).effects);
  pump(12_000);
  route(nodes[2].leave(now));
  pump(500);
  // Keep one of each type (and every store/replicate), so the corpus stays small and varied.
  const seen = new Map<string, number>();
  const kept = messages.filter((m) => {
    const key = m.t === 'req' || m.t === 'ans' ? `${m.t}:${m.body.op}` : m.t;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return n < 3;
  });
  overlayCache = { ca, alice, bob, messages: kept, frames: kept.map(encodeFrame), values };
  return overlayCache;
}

/** Client frames of the API bridge (src/core/api/wire.ts) carrying real commands. */
export function apiCorpus(): Uint8Array[] {
  const commands: unknown[] = [
    { type: 'engine.capabilities' },
    { type: 'office.status' },
    { type: 'lookup', extension: '101' },
    {
      type: 'office.create',
      officeName: 'Acme',
      extension: '100',
      displayName: 'Ann',
      passphrase: 'correct horse',
    },
    { type: 'office.join', extension: '102', displayName: 'Bo', code: 'ABCD-EFGH', peer: '10.0.0.1:5070' },
    { type: 'offices.discover', peer: '[::1]:5070' },
    { type: 'join-requests.decide', id: 'r1', approve: true },
    { type: 'presence.set', state: 'dnd', note: 'meeting' },
    { type: 'call.dial', target: 'sip:102@office' },
    { type: 'call.hold', callId: 'c1', on: true },
    { type: 'call.dtmf', callId: 'c1', digits: '12*#' },
    { type: 'call.decline', callId: 'c1', toVoicemail: true },
    { type: 'greeting.set', kind: 'busy', base64: null },
    { type: 'history.list', limit: 50 },
    { type: 'phones.add', extension: '201', password: 'secret123' },
    {
      type: 'settings.set',
      dnd: true,
      forwarding: { always: '103', busy: null, noAnswer: '104', noAnswerSeconds: 20 },
    },
  ];
  const frames = commands.map((command, i) => JSON.stringify({ kind: 'command', id: i, command }));
  frames.push(JSON.stringify({ kind: 'auth', token: 'tok3n' }));
  return frames.map((f) => new Uint8Array(Buffer.from(f, 'utf8')));
}

/** WAV files as phones and editors write them: 8/16/48 kHz, 8-bit, G.711, 24-bit, float, stereo. */
export function wavCorpus(): Uint8Array[] {
  const tone = (n: number, rate: number) =>
    Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)));
  const out = [8000, 16000, 48000].map((rate) => encodeWav({ sampleRate: rate, samples: tone(400, rate) }));
  const make = (channels: number, rate: number, depth: string, samples: ArrayLike<number>) => {
    const w = new wavefile.WaveFile();
    w.fromScratch(channels, rate, depth, samples as number[]);
    return new Uint8Array(w.toBuffer());
  };
  out.push(
    make(
      1,
      8000,
      '8',
      Array.from({ length: 300 }, (_, i) => 128 + ((i * 7) % 100)),
    ),
  );
  out.push(
    make(
      1,
      8000,
      '8m',
      Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff),
    ),
  );
  out.push(
    make(
      1,
      8000,
      '8a',
      Array.from({ length: 300 }, (_, i) => (i * 29) & 0xff),
    ),
  );
  out.push(
    make(
      1,
      16000,
      '24',
      Array.from({ length: 300 }, (_, i) => i * 1000),
    ),
  );
  out.push(
    make(
      1,
      44100,
      '32f',
      Array.from({ length: 300 }, (_, i) => Math.sin(i / 10) / 2),
    ),
  );
  out.push(
    make(
      2,
      48000,
      '16',
      Array.from({ length: 600 }, (_, i) => (i % 2 ? 1 : -1) * i * 10),
    ),
  );
  return out;
}

/** Little-endian u32 values at the boundaries a WAV header's rate/size fields may take. */
export const WAV_TOKENS: number[][] = [0, 1, 2, 7999, 8000, 0x7fffffff, 0xffffffff, 65535].map((n) => [
  n & 0xff,
  (n >>> 8) & 0xff,
  (n >>> 16) & 0xff,
  (n >>> 24) & 0xff,
]);

/** RTP with CSRCs, a header extension, padding, DTMF; RTCP SR, RR and SDES. */
export function rtpCorpus(): Uint8Array[] {
  const payload = new Uint8Array(160).fill(0xff);
  return [
    encodeRtp({ payloadType: 0, sequence: 1, timestamp: 160, ssrc: 0x1234, payload }),
    encodeRtp({
      payloadType: 8,
      sequence: 65535,
      timestamp: 0xffffffff,
      ssrc: 1,
      marker: true,
      csrcs: [1, 2, 3],
      payload,
    }),
    encodeRtp({
      payloadType: 0,
      sequence: 7,
      timestamp: 9,
      ssrc: 2,
      extension: { profile: 0xbede, data: new Uint8Array(8) },
      paddingLength: 4,
      payload,
    }),
    encodeRtp({
      payloadType: 101,
      sequence: 8,
      timestamp: 10,
      ssrc: 3,
      payload: encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 }),
    }),
    encodeSenderReport(
      0x1234,
      { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 } as never,
      [],
    ),
    encodeReceiverReport(0x1234, [
      {
        ssrc: 9,
        fractionLost: 1,
        cumulativeLost: 2,
        highestSeq: 3,
        jitter: 4,
        lastSr: 5,
        delaySinceLastSr: 6,
      },
    ]),
    encodeSdesCname(0x1234, 'alice@10.0.0.1'),
  ];
}
