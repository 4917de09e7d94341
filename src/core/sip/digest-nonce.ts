// Stateless server nonces: base64url(timestamp ms (8 bytes BE) | salt (8 bytes) | HMAC-SHA256 tag
// (16 bytes)). Any peer that knows the secret can check its own nonces without keeping a table,
// which matters because every PeerPBX peer is a registrar and may restart at any time.
// Time and salt are passed in (sans-IO).

import { createHmac, timingSafeEqual } from 'node:crypto';

export type NonceStatus = 'valid' | 'stale' | 'invalid';

export interface NonceOptions {
  secret: Uint8Array | string;
  /** Mixed into the tag so a nonce issued for one realm is not valid for another. */
  realm?: string;
}

const TS_BYTES = 8;
const SALT_BYTES = 8;
const TAG_BYTES = 16;
const NONCE_BYTES = TS_BYTES + SALT_BYTES + TAG_BYTES;

function tag(opts: NonceOptions, head: Uint8Array): Buffer {
  const h = createHmac('sha256', opts.secret);
  h.update(head);
  h.update(opts.realm ?? '');
  return h.digest().subarray(0, TAG_BYTES);
}

/** `salt` should be 8 random bytes from the caller; it makes nonces issued in the same ms differ. */
export function createNonce(opts: NonceOptions, now: number, salt: Uint8Array): string {
  const head = Buffer.alloc(TS_BYTES + SALT_BYTES);
  head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 0);
  Buffer.from(salt.subarray(0, SALT_BYTES)).copy(head, TS_BYTES);
  return Buffer.concat([head, tag(opts, head)]).toString('base64url');
}

/** Timestamp (ms) a nonce claims, or null if it is not one of ours structurally. */
export function nonceTimestamp(nonce: string): number | null {
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) return null;
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== NONCE_BYTES) return null;
  return Number(raw.readBigUInt64BE(0));
}

/**
 * 'invalid' if the tag does not verify (forged, other secret or realm, garbage); 'stale' if it is
 * older than `maxAgeMs` or implausibly far in the future; otherwise 'valid'.
 */
export function checkNonce(
  opts: NonceOptions,
  nonce: string,
  now: number,
  maxAgeMs: number,
  maxSkewMs = 5_000,
): NonceStatus {
  const ts = nonceTimestamp(nonce);
  if (ts === null) return 'invalid';
  const raw = Buffer.from(nonce, 'base64url');
  const expected = tag(opts, raw.subarray(0, TS_BYTES + SALT_BYTES));
  if (!timingSafeEqual(expected, raw.subarray(TS_BYTES + SALT_BYTES))) return 'invalid';
  if (ts > now + maxSkewMs) return 'stale';
  if (now - ts > maxAgeMs) return 'stale';
  return 'valid';
}

/** Convenience: a nonce checker bound to a secret and clock reading, for verifyAuthorization. */
export function nonceChecker(
  opts: NonceOptions,
  now: number,
  maxAgeMs: number,
): (nonce: string) => NonceStatus {
  return (nonce) => checkNonce(opts, nonce, now, maxAgeMs);
}

/**
 * Optional nonce-count replay protection (RFC 7616 section 3.4.5): remembers the highest nc seen
 * per nonce and rejects any nc that is not larger. Bounded: the oldest nonces are forgotten first
 * (a forgotten nonce then accepts any nc again until it expires, a deliberate memory/safety trade).
 */
export class NonceCountTracker {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = 10_000) {}

  /** True and records nc if it is fresh for this nonce; false if it is a replay. */
  accept(nonce: string, nc: number): boolean {
    const last = this.seen.get(nonce);
    if (last !== undefined && nc <= last) return false;
    this.seen.delete(nonce); // re-insert to keep Map order = recency
    this.seen.set(nonce, nc);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}
