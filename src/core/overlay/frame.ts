// Overlay frames: u32 big-endian length of what follows | u8 version | CBOR message.
// decodeFrame never throws: hostile bytes give a typed error, and the node closes that link.
import { decode, encode } from 'cbor-x';
import type { Address } from '../net.ts';
import type { StoredValue } from '../records/types.ts';
import { isId } from './ids.ts';
import { FRAME_VERSION, type GossipEvent, type OverlayMessage, type PeerInfo } from './messages.ts';

export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HEADER = 5;

export type FrameError =
  | { code: 'incomplete'; reason: string }
  | { code: 'too-large'; reason: string }
  | { code: 'bad-version'; reason: string }
  | { code: 'bad-encoding'; reason: string }
  | { code: 'bad-message'; reason: string };

export type FrameResult =
  | { ok: true; message: OverlayMessage; bytesUsed: number }
  | { ok: false; error: FrameError };

export function encodeFrame(message: OverlayMessage): Uint8Array {
  const body = encode(message) as Uint8Array;
  const out = new Uint8Array(HEADER + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length + 1);
  out[4] = FRAME_VERSION;
  out.set(body, HEADER);
  return out;
}

/** Decodes the first frame in `bytes`. 'incomplete' means: wait for more bytes (stream links). */
export function decodeFrame(bytes: Uint8Array): FrameResult {
  if (bytes.length < HEADER) return fail('incomplete', `need ${HEADER} header bytes, have ${bytes.length}`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (length < 2) return fail('bad-message', `frame length ${length} too small`);
  if (length > MAX_FRAME_BYTES)
    return fail('too-large', `frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
  if (bytes.length < 4 + length) return fail('incomplete', `need ${4 + length} bytes, have ${bytes.length}`);
  if (bytes[4] !== FRAME_VERSION)
    return fail('bad-version', `frame version ${bytes[4]}, expected ${FRAME_VERSION}`);
  let raw: unknown;
  try {
    raw = decode(bytes.subarray(HEADER, 4 + length));
  } catch (e) {
    return fail('bad-encoding', `CBOR: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problem = checkMessage(raw);
  if (problem) return fail('bad-message', problem);
  return { ok: true, message: raw as OverlayMessage, bytesUsed: 4 + length };
}

/** Reassembles frames from a byte stream (TCP/TLS links). */
export class FrameReader {
  private buffered: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): { messages: OverlayMessage[]; error?: FrameError } {
    const joined = new Uint8Array(this.buffered.length + chunk.length);
    joined.set(this.buffered);
    joined.set(chunk, this.buffered.length);
    const messages: OverlayMessage[] = [];
    let offset = 0;
    for (;;) {
      const r = decodeFrame(joined.subarray(offset));
      if (!r.ok) {
        this.buffered = joined.slice(offset);
        return r.error.code === 'incomplete' ? { messages } : { messages, error: r.error };
      }
      messages.push(r.message);
      offset += r.bytesUsed;
    }
  }
}

function fail(code: FrameError['code'], reason: string): FrameResult {
  return { ok: false, error: { code, reason } as FrameError };
}

// ---- shape checks: every field a handler touches is checked here, so handlers can trust types.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const optStr = (v: unknown) => v === undefined || isStr(v);
const optNum = (v: unknown) => v === undefined || isNum(v);

function isAddress(v: unknown): v is Address {
  return (
    isObj(v) &&
    (v.transport === 'UDP' || v.transport === 'TCP' || v.transport === 'TLS') &&
    isStr(v.host) &&
    isNum(v.port)
  );
}

function isPeerInfo(v: unknown): v is PeerInfo {
  return isObj(v) && isId(v.id) && isAddress(v.address) && isNum(v.inc);
}

function isGossip(v: unknown): v is GossipEvent {
  return (
    isObj(v) && isPeerInfo(v.peer) && (v.status === 'alive' || v.status === 'dead' || v.status === 'left')
  );
}

export function isStoredValue(v: unknown): v is StoredValue {
  if (!isObj(v)) return false;
  const s = v.signer;
  return (
    isId(v.resourceId) &&
    isStr(v.resourceName) &&
    isStr(v.kind) &&
    (v.model === 'single' || v.model === 'array' || v.model === 'dictionary') &&
    isStr(v.key) &&
    isBytes(v.value) &&
    typeof v.exists === 'boolean' &&
    isNum(v.storageTime) &&
    isNum(v.lifetime) &&
    isObj(s) &&
    isStr(s.nodeId) &&
    isStr(s.user) &&
    isStr(s.certificate) &&
    isBytes(v.signature)
  );
}

const arrayOf = (v: unknown, check: (x: unknown) => boolean) => Array.isArray(v) && v.every(check);

function isWatchReg(v: unknown): boolean {
  return isObj(v) && isId(v.resourceId) && isNum(v.watchId) && isPeerInfo(v.watcher) && isNum(v.expires);
}

function checkRequestOp(b: unknown): string | null {
  if (!isObj(b)) return 'request body is not a map';
  switch (b.op) {
    case 'join':
    case 'lookup':
      return null;
    case 'store':
      return arrayOf(b.values, isStoredValue) ? null : 'store: bad values';
    case 'fetch':
      return isId(b.resourceId) && optStr(b.kind) && optStr(b.key) && typeof b.anyReplica === 'boolean'
        ? null
        : 'fetch: bad fields';
    case 'stat':
      return isId(b.resourceId) && optStr(b.kind) && optStr(b.key) ? null : 'stat: bad fields';
    case 'watch':
      return isId(b.resourceId) && isNum(b.watchId) && isNum(b.lifetime) ? null : 'watch: bad fields';
    default:
      return `unknown request op ${String(b.op)}`;
  }
}

function checkAnswer(b: unknown): string | null {
  if (!isObj(b)) return 'answer body is not a map';
  switch (b.op) {
    case 'join':
      return arrayOf(b.view, isPeerInfo) && arrayOf(b.values, isStoredValue) && arrayOf(b.watches, isWatchReg)
        ? null
        : 'join answer: bad fields';
    case 'lookup':
      return null;
    case 'store':
      return Array.isArray(b.outcomes) &&
        b.outcomes.every((o) => isObj(o) && typeof o.ok === 'boolean') &&
        isNum(b.copies)
        ? null
        : 'store answer: bad fields';
    case 'fetch':
      return arrayOf(b.values, isStoredValue) ? null : 'fetch answer: bad values';
    case 'stat':
      return arrayOf(
        b.meta,
        (m) =>
          isObj(m) &&
          isStr(m.kind) &&
          isStr(m.key) &&
          isNum(m.storageTime) &&
          isNum(m.lifetime) &&
          isNum(m.size),
      )
        ? null
        : 'stat answer: bad meta';
    case 'watch':
      return isNum(b.expires) ? null : 'watch answer: bad expires';
    case 'error':
      return isStr(b.code) && isStr(b.reason) ? null : 'error answer: bad fields';
    default:
      return `unknown answer op ${String(b.op)}`;
  }
}

const isRange = (v: unknown) => Array.isArray(v) && v.length === 2 && isId(v[0]) && isId(v[1]);

/** Returns why `raw` is not a well-formed OverlayMessage, or null when it is. */
export function checkMessage(raw: unknown): string | null {
  if (!isObj(raw)) return 'message is not a map';
  if (!isPeerInfo(raw.from)) return 'missing or bad sender';
  switch (raw.t) {
    case 'ping':
      return arrayOf(raw.g, isGossip) && arrayOf(raw.nb, isPeerInfo) && typeof raw.wantPong === 'boolean'
        ? null
        : 'ping: bad fields';
    case 'pong':
      return arrayOf(raw.g, isGossip) ? null : 'pong: bad gossip';
    case 'req':
      if (
        !isNum(raw.tx) ||
        !isPeerInfo(raw.origin) ||
        !isId(raw.key) ||
        !isNum(raw.ttl) ||
        !arrayOf(raw.via, isId)
      )
        return 'req: bad header';
      return checkRequestOp(raw.body);
    case 'ans':
      if (!isNum(raw.tx) || !isNum(raw.hops)) return 'ans: bad header';
      return checkAnswer(raw.body);
    case 'replicate':
      return isNum(raw.tx) && arrayOf(raw.values, isStoredValue) && arrayOf(raw.watches, isWatchReg)
        ? null
        : 'replicate: bad fields';
    case 'replicate-ack':
      return isNum(raw.tx) ? null : 'replicate-ack: bad tx';
    case 'digest':
      return isRange(raw.range) && isNum(raw.count) && isStr(raw.hash) && optNum(raw.copies)
        ? null
        : 'digest: bad fields';
    case 'digest-ack':
      return isRange(raw.range) && isStr(raw.hash) ? null : 'digest-ack: bad fields';
    case 'sync':
      return isRange(raw.range) && arrayOf(raw.values, isStoredValue) && typeof raw.wantReply === 'boolean'
        ? null
        : 'sync: bad fields';
    case 'leave':
      return arrayOf(raw.values, isStoredValue) ? null : 'leave: bad values';
    case 'notify':
      return isNum(raw.watchId) && isId(raw.resourceId) && arrayOf(raw.values, isStoredValue)
        ? null
        : 'notify: bad fields';
    case 'view-digest':
      return arrayOf(raw.buckets, isNum) ? null : 'view-digest: bad buckets';
    case 'view':
      return arrayOf(raw.buckets, isNum) &&
        arrayOf(raw.members, isGossip) &&
        typeof raw.wantReply === 'boolean'
        ? null
        : 'view: bad fields';
    default:
      return `unknown message type ${String(raw.t)}`;
  }
}
