// Slot identity, the newer-wins rule and the range digest, shared by every RecordStore
// implementation so that a memory replica and a SQLite replica decide and digest identically.

import { createHash } from 'node:crypto';
import type { RangeDigest, StoredValue } from './types.ts';

/** A slot is (resourceId, kind, key). NUL cannot occur in ids or kind names, so the join is unambiguous. */
export function slotKey(v: Pick<StoredValue, 'resourceId' | 'kind' | 'key'>): string {
  return `${v.resourceId}\u0000${v.kind}\u0000${v.key}`;
}

export function expiresAt(v: Pick<StoredValue, 'storageTime' | 'lifetime'>): number {
  return v.storageTime + v.lifetime;
}

/** A value is live while now < storageTime + lifetime. */
export function isLive(v: Pick<StoredValue, 'storageTime' | 'lifetime'>, now: number): boolean {
  return now < expiresAt(v);
}

/** Byte-wise comparison (like memcmp, then length). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Orders two values of the same slot: > 0 when a should replace b. Newer storageTime wins; equal
 * times are broken by the larger signature bytes so every replica picks the same winner whatever
 * the arrival order. 0 means the same write (idempotent re-store).
 */
export function compareVersions(
  a: Pick<StoredValue, 'storageTime' | 'signature'>,
  b: Pick<StoredValue, 'storageTime' | 'signature'>,
): number {
  if (a.storageTime !== b.storageTime) return a.storageTime > b.storageTime ? 1 : -1;
  return compareBytes(a.signature, b.signature);
}

/** Plain code-unit comparison; ids are hex so this is also ring order. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSlots(
  a: Pick<StoredValue, 'resourceId' | 'kind' | 'key'>,
  b: Pick<StoredValue, 'resourceId' | 'kind' | 'key'>,
): number {
  return cmp(a.resourceId, b.resourceId) || cmp(a.kind, b.kind) || cmp(a.key, b.key);
}

/**
 * Digest over the sorted (slot, storageTime) pairs. Sorting happens here, in JS, for every store:
 * SQLite's BLOB/TEXT ordering and JS string ordering differ outside the BMP, and the digest must not.
 */
export function digestOf(
  entries: ReadonlyArray<Pick<StoredValue, 'resourceId' | 'kind' | 'key' | 'storageTime'>>,
): RangeDigest {
  const sorted = [...entries].sort(compareSlots);
  const h = createHash('sha256');
  for (const e of sorted) {
    h.update(`${e.resourceId}\u0000${e.kind}\u0000${e.key.length}:${e.key}\u0000${e.storageTime}\n`, 'utf8');
  }
  return { count: sorted.length, hash: h.digest('hex') };
}
