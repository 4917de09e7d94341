// The fuzz targets and their input generators. A target returns a string (or throws) when a
// property fails: parsers never throw, a parsed message survives serialize -> parse unchanged,
// every accepted frame re-encodes to the same message, nothing pollutes Object.prototype.
import { isDeepStrictEqual } from 'node:util';
import { commandSchema } from '../../src/core/api/contract.ts';
import { parseClientMessage } from '../../src/core/api/wire.ts';
import { resample } from '../../src/core/media/resample.ts';
import { decodeRtcp } from '../../src/core/media/rtcp.ts';
import { decodeRtp, encodeRtp } from '../../src/core/media/rtp.ts';
import { decodeTelephoneEvent } from '../../src/core/media/telephone-event.ts';
import { decodeWav } from '../../src/core/media/wav.ts';
import { decodeFrame, encodeFrame, FrameReader } from '../../src/core/overlay/frame.ts';
import type { OverlayMessage } from '../../src/core/overlay/messages.ts';
import { OverlayNode } from '../../src/core/overlay/node.ts';
import { KINDS } from '../../src/core/records/kinds.ts';
import { MemoryRecordStore } from '../../src/core/records/memory-store.ts';
import type { KindName } from '../../src/core/records/types.ts';
import { createAnswer, LocalSdpSession } from '../../src/core/sdp/offer-answer.ts';
import { parseSdp } from '../../src/core/sdp/parse.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../src/core/security/value-signing.ts';
import { OfficeValueValidator } from '../../src/core/security/value-validator.ts';
import { parseChallenge, parseCredentials } from '../../src/core/sip/digest.ts';
import { parseMessage, parseNameAddrList } from '../../src/core/sip/parse.ts';
import { serializeMessage } from '../../src/core/sip/serialize.ts';
import {
  apiCorpus,
  overlayCorpus,
  rtpCorpus,
  sdpCorpus,
  sipCorpus,
  WAV_TOKENS,
  wavCorpus,
} from './corpus.ts';
import { CBOR_TOKENS, Mutator, mulberry32, type Rand, SDP_TOKENS, SIP_TOKENS } from './mutator.ts';
import { mutateValue } from './value-mutator.ts';

export interface FuzzTarget {
  name: string;
  run: (input: Uint8Array) => string | undefined;
  /** The generator for one seed. */
  inputs: (seed: number) => () => Uint8Array;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** Fails when any input managed to put a key on Object.prototype. */
function prototypeClean(): string | undefined {
  const probe = {} as Record<string, unknown>;
  for (const k of ['polluted', 'extra', 't', 'op']) {
    if (probe[k] !== undefined) return `Object.prototype.${k} was polluted`;
  }
  return undefined;
}

// ---- SIP: parse, then serialize -> parse -> serialize is a fixed point; digest headers parse.

const NAME_ADDR_HEADERS = new Set(['Contact', 'Route', 'Record-Route']);

export const sip: FuzzTarget = {
  name: 'sip',
  run(input) {
    const r = parseMessage(input);
    if (!r.ok) return r.error.code === 'internal' ? `parser bug: ${r.error.reason}` : undefined;
    for (const h of r.message.headers) {
      if (h.name.endsWith('Authorization')) parseCredentials(h.value);
      else if (h.name.endsWith('Authenticate')) parseChallenge(h.value);
      else if (NAME_ADDR_HEADERS.has(h.name)) parseNameAddrList(h.value);
    }
    const s1 = serializeMessage(r.message);
    const r2 = parseMessage(s1);
    if (!r2.ok) return `serialized message does not parse: ${r2.error.code}: ${r2.error.reason}`;
    const s2 = serializeMessage(r2.message);
    if (!sameBytes(s1, s2)) return 'serialize(parse(serialize(parse(x)))) differs from serialize(parse(x))';
    return undefined;
  },
  inputs(seed) {
    const m = new Mutator(mulberry32(seed), sipCorpus(), { tokens: SIP_TOKENS, lines: true });
    return () => m.next();
  },
};

// ---- SDP: parse, answer (what a UAS does with an INVITE's offer), and the answer itself parses.

const LOCAL = { address: '10.0.0.9', port: 40_000 };

export const sdp: FuzzTarget = {
  name: 'sdp',
  run(input) {
    const offer = parseSdp(input);
    const a = createAnswer(input, { sessionId: 1, sessionVersion: 1 }, LOCAL);
    if (a.ok && !offer.ok) return 'createAnswer accepted an offer parseSdp refused';
    if (!a.ok) return undefined;
    const back = parseSdp(a.value.sdp);
    if (!back.ok) return `our answer does not parse: ${back.error.reason}`;
    if (offer.ok && back.value.media.length !== offer.value.media.length)
      return `answer has ${back.value.media.length} m= lines, offer ${offer.value.media.length}`;
    const { port } = a.value.remote;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return `accepted remote port ${port}`;
    // A session keeps its version across a refused offer and bumps it on an accepted one.
    const s = new LocalSdpSession(7, 1);
    s.answer(input, LOCAL);
    return undefined;
  },
  inputs(seed) {
    const m = new Mutator(mulberry32(seed), sdpCorpus(), { tokens: SDP_TOKENS, lines: true });
    return () => m.next();
  },
};

// ---- Overlay frames: decode, re-encode, stream reassembly, and a live node handling the message.

let liveNode: OverlayNode | undefined;
let nodeNow = 0;
let received = 0;

function node(): OverlayNode {
  if (liveNode) return liveNode;
  const c = overlayCorpus();
  nodeNow = Date.now();
  liveNode = new OverlayNode({
    id: c.alice.nodeId,
    address: { transport: 'TCP', host: '10.0.0.1', port: 7000 },
    store: new MemoryRecordStore(),
    validator: new OfficeValueValidator({
      caCertificatePem: c.ca.certPem,
      signatures: nodeSignatureProvider(),
    }),
    random: mulberry32(99),
  });
  liveNode.start(nodeNow);
  return liveNode;
}

export const overlay: FuzzTarget = {
  name: 'overlay',
  run(input) {
    const r = decodeFrame(input);
    // Stream reassembly agrees with one-shot decoding wherever the stream is cut.
    const reader = new FrameReader();
    const cut = input.length ? (input[input.length - 1] * 7919) % (input.length + 1) : 0;
    const a = reader.push(input.subarray(0, cut));
    const b = reader.push(input.subarray(cut));
    const streamed = [...a.messages, ...b.messages];
    if (r.ok && streamed.length === 0) return 'FrameReader lost a frame decodeFrame accepted';
    if (!r.ok) return prototypeClean();
    const again = decodeFrame(encodeFrame(r.message));
    if (!again.ok) return `re-encoded frame refused: ${again.error.reason}`;
    if (!isDeepStrictEqual(again.message, r.message)) return 're-encoded frame decodes to another message';
    // The node trusts checked messages: it must handle any of them without throwing.
    const n = node();
    nodeNow += 7;
    n.receive(nodeNow, r.message.from.address, r.message);
    if (++received % 64 === 0) n.tick(nodeNow);
    return prototypeClean();
  },
  inputs(seed) {
    const rand = mulberry32(seed);
    const c = overlayCorpus();
    const bytes = new Mutator(rand, c.frames, { byteTokens: CBOR_TOKENS, maxLength: 1 << 20 });
    return () => (rand() < 0.5 ? bytes.next() : (structuredFrame(rand, c.messages) ?? bytes.next()));
  },
};

function structuredFrame(rand: Rand, messages: OverlayMessage[]): Uint8Array | undefined {
  const m = messages[Math.floor(rand() * messages.length)];
  try {
    return encodeFrame(mutateValue(rand, m, true) as OverlayMessage);
  } catch {
    return undefined; // cbor-x cannot encode every hostile value; fall back to bytes
  }
}

// ---- Records: every kind's value check, and the full validator on values signed by a member.

const KIND_NAMES = Object.keys(KINDS) as KindName[];
let signer: ValueSigner | undefined;
let validator: OfficeValueValidator | undefined;
let validated = 0;

export const records: FuzzTarget = {
  name: 'records',
  run(input) {
    for (const k of KIND_NAMES) {
      const r = KINDS[k].check(input);
      if (r !== null && typeof r !== 'string') return `${k} check returned ${typeof r}`;
    }
    // Every 4th input goes the whole way: signed by 101 (RSA), validated as a storing peer would.
    if (validated++ % 4 !== 0) return undefined;
    const c = overlayCorpus();
    signer ??= new ValueSigner(
      { nodeId: c.alice.nodeId, user: c.alice.user, certificate: c.alice.certPem },
      c.alice.keyPem,
      nodeSignatureProvider(),
    );
    validator ??= new OfficeValueValidator({
      caCertificatePem: c.ca.certPem,
      signatures: nodeSignatureProvider(),
    });
    const kind = KIND_NAMES[input.length % KIND_NAMES.length];
    const spec = KINDS[kind];
    const now = Date.now();
    const v = signer.sign({
      resourceName: '101@fuzz',
      kind,
      key: spec.model === 'single' ? '' : spec.model === 'array' ? '0' : c.alice.nodeId,
      value: input,
      storageTime: now,
      lifetime: 60_000,
    });
    const out = validator.validate(v, now, undefined);
    if (!out.ok && !out.reason) return `${kind}: refused without a reason`;
    if (out.ok && input.length > spec.maxValueSize) return `${kind}: accepted ${input.length} bytes`;
    return undefined;
  },
  inputs(seed) {
    const rand = mulberry32(seed);
    const c = overlayCorpus();
    const corpus = c.values.map((v) => v.value);
    const bytes = new Mutator(rand, corpus, {
      tokens: ['"', '{', '}', '[', ']', ',', ':', 'null', 'true', '1e999', '\\u0000', '"__proto__"'],
    });
    return () => {
      if (rand() < 0.5) return bytes.next();
      const json = JSON.parse(new TextDecoder().decode(corpus[Math.floor(rand() * corpus.length)]));
      return new TextEncoder().encode(JSON.stringify(mutateValue(rand, json, false)));
    };
  },
};

// ---- API: the WebSocket bridge's client frames and the command schema behind them.

export const api: FuzzTarget = {
  name: 'api',
  run(input) {
    const text = new TextDecoder().decode(input);
    const r = parseClientMessage(text);
    if (!r.ok) {
      if (typeof r.error !== 'string' || !r.error) return 'refused without a reason';
      return prototypeClean();
    }
    if (r.message.kind === 'command') {
      // Parsing is idempotent: what the schema let through parses again to the same value.
      const again = commandSchema.parse(r.message.command);
      if (!again.ok) return `accepted command does not parse again: ${again.error}`;
      if (!isDeepStrictEqual(again.value, r.message.command)) return 'command schema is not idempotent';
    }
    return prototypeClean();
  },
  inputs(seed) {
    const rand = mulberry32(seed);
    const corpus = apiCorpus();
    const bytes = new Mutator(rand, corpus, {
      tokens: [
        '"',
        '{',
        '}',
        '[',
        ']',
        ',',
        ':',
        'null',
        'true',
        '1e999',
        '-0',
        '"__proto__"',
        '"constructor"',
        '"type"',
      ],
    });
    return () => {
      if (rand() < 0.5) return bytes.next();
      const json = JSON.parse(new TextDecoder().decode(corpus[Math.floor(rand() * corpus.length)]));
      return new TextEncoder().encode(JSON.stringify(mutateValue(rand, json, false)));
    };
  },
};

// ---- Media: WAV files (a greeting is any member's WAV, decoded and resampled by the caller's
// peer) and RTP/RTCP/telephone-event packets (from anyone who can reach an RTP port).

/** Decoding then resampling to 8 kHz must not turn a small file into a huge buffer. */
const MAX_SAMPLES_PER_BYTE = 2;

export const wav: FuzzTarget = {
  name: 'wav',
  run(input) {
    const d = decodeWav(input);
    if (!d.ok) return d.error.reason ? undefined : 'refused without a reason';
    const { samples, sampleRate } = d.value;
    // What box-records and loadWav8k do next; refuse before allocating what a hostile rate asks.
    const out8k = Math.ceil((samples.length * 8000) / sampleRate);
    if (out8k > MAX_SAMPLES_PER_BYTE * input.length)
      return `a ${input.length}-byte WAV at ${sampleRate} Hz becomes ${out8k} samples at 8 kHz`;
    const pcm = sampleRate === 8000 ? samples : resample(samples, sampleRate, 8000);
    return pcm.length === out8k || Math.abs(pcm.length - out8k) <= 1 ? undefined : 'resampled length differs';
  },
  inputs(seed) {
    const rand = mulberry32(seed);
    const m = new Mutator(rand, wavCorpus(), { byteTokens: WAV_TOKENS, maxLength: 256 * 1024 });
    return () => m.next();
  },
};

export const rtp: FuzzTarget = {
  name: 'rtp',
  run(input) {
    decodeRtcp(input);
    const r = decodeRtp(input);
    if (!r.ok) return undefined;
    decodeTelephoneEvent(r.packet.payload);
    const again = decodeRtp(encodeRtp(r.packet));
    if (!again.ok) return `re-encoded packet refused: ${again.error.reason}`;
    const { payload, sequence, timestamp, ssrc, payloadType, marker } = r.packet;
    const core = { payload, sequence, timestamp, ssrc, payloadType, marker };
    const b = again.packet;
    if (
      !isDeepStrictEqual(core, {
        payload: b.payload,
        sequence: b.sequence,
        timestamp: b.timestamp,
        ssrc: b.ssrc,
        payloadType: b.payloadType,
        marker: b.marker,
      })
    )
      return 're-encoded packet decodes to another packet';
    return undefined;
  },
  inputs(seed) {
    const m = new Mutator(mulberry32(seed), rtpCorpus(), {
      byteTokens: [[0x80], [0xa0], [0x90], [0xbf], [0xff, 0xff], [0, 0]],
    });
    return () => m.next();
  },
};

export const TARGETS: readonly FuzzTarget[] = [sip, sdp, overlay, records, api, wav, rtp];
