// Resource-IDs and ring intervals over 128-bit ids written as 32 lower-case hex characters.
// Fixed-width lower-case hex sorts lexicographically in numeric order, so plain string comparison
// is ring order: the stores (memory and SQLite) rely on that for range queries.

import { createHash } from 'node:crypto';
import type { Id128, ResourceId } from './types.ts';

const ID_PATTERN = /^[0-9a-f]{32}$/;

/** Resource-ID of a resource name: SHA-256 of its UTF-8 bytes, truncated to 128 bits. */
export function resourceIdFromName(name: string): ResourceId {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
}

/** First 128 bits of SHA-256 over arbitrary bytes (Node-IDs hash the public key's DER). */
export function id128FromBytes(bytes: Uint8Array): Id128 {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

export function isId128(s: string): boolean {
  return ID_PATTERN.test(s);
}

/**
 * True when id lies in the ring interval (from, to], wrapping past ff..ff to 00..00.
 * from === to denotes the whole ring: a lone peer is responsible for everything.
 */
export function inRingInterval(id: Id128, from: Id128, to: Id128): boolean {
  if (from === to) return true;
  if (from < to) return id > from && id <= to;
  return id > from || id <= to;
}
