// The UDP broadcast beacon: a small, versioned datagram that says "a peer of office X is here".
// Pure codec (no I/O): bytes in, a typed result out. The decoder sees bytes from anyone on the LAN,
// so it never throws and bounds every field.

import { type Announcement, checkAnnouncement } from './announcement.ts';

/** Magic + version prefix: lets a receiver drop foreign traffic on the port without parsing JSON. */
const MAGIC = Buffer.from('PPXB', 'ascii');
export const BEACON_VERSION = 1;
/** A beacon fits in one unfragmented datagram with room to spare. */
export const MAX_BEACON_BYTES = 1024;

export type Beacon = Announcement;

export type BeaconDecodeError =
  | 'too-short'
  | 'too-long'
  | 'bad-magic'
  | 'unsupported-version'
  | 'bad-json'
  | 'bad-field';

export type BeaconDecodeResult =
  | { ok: true; beacon: Beacon }
  | { ok: false; error: BeaconDecodeError; detail?: string };

export function encodeBeacon(b: Beacon): Buffer {
  const body = Buffer.from(
    JSON.stringify({ id: b.nodeId, o: b.office, ca: b.caFingerprint, p: b.port, s: b.sipPort, v: b.version }),
    'utf8',
  );
  const out = Buffer.concat([MAGIC, Buffer.from([BEACON_VERSION]), body]);
  if (out.length > MAX_BEACON_BYTES) throw new RangeError(`beacon too long: ${out.length} bytes`);
  return out;
}

export function decodeBeacon(bytes: Uint8Array): BeaconDecodeResult {
  if (bytes.length < MAGIC.length + 1 + 2) return { ok: false, error: 'too-short' };
  if (bytes.length > MAX_BEACON_BYTES) return { ok: false, error: 'too-long' };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: false, error: 'bad-magic' };
  const version = buf[MAGIC.length];
  if (version !== BEACON_VERSION) return { ok: false, error: 'unsupported-version', detail: String(version) };
  let obj: unknown;
  try {
    obj = JSON.parse(buf.subarray(MAGIC.length + 1).toString('utf8'));
  } catch {
    return { ok: false, error: 'bad-json' };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { ok: false, error: 'bad-json' };
  const o = obj as Record<string, unknown>;
  const checked = checkAnnouncement({
    nodeId: o.id,
    office: o.o,
    caFingerprint: o.ca,
    port: o.p,
    sipPort: o.s,
    version: o.v,
  });
  return checked.ok
    ? { ok: true, beacon: checked.announcement }
    : { ok: false, error: 'bad-field', detail: checked.field };
}
