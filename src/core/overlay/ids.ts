// 128-bit overlay ids (RFC 6940 section 5.2 Node-ID/Resource-ID, CHORD-RELOAD ring) as 32 lower-case
// hex characters. Fixed-width lower-case hex compares lexicographically exactly like the numbers do,
// so the hot paths (sorting, binary search, between) never convert to bigint.
import { createHash } from 'node:crypto';
import { id128FromBytes, inRingInterval, isId128, resourceIdFromName } from '../records/ids.ts';
import type { Id128, NodeId } from '../records/types.ts';

/** Resource-ID of a resource name (shared with the record stores, so both agree on placement). */
export { resourceIdFromName };

export const ID_BITS = 128;
const MOD = 1n << 128n;

export function isId(s: unknown): s is Id128 {
  return typeof s === 'string' && s.length === 32 && isId128(s);
}

/** Node-ID: SHA-256 of the certificate's public key (DER bytes), truncated to 128 bits. */
export function nodeIdFromPublicKey(publicKeyDer: Uint8Array): NodeId {
  return id128FromBytes(publicKeyDer);
}

export function compareIds(a: Id128, b: Id128): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function toBigInt(id: Id128): bigint {
  return BigInt(`0x${id}`);
}

export function fromBigInt(n: bigint): Id128 {
  const m = ((n % MOD) + MOD) % MOD;
  return m.toString(16).padStart(32, '0');
}

/** id + 2^i mod 2^128: the start of Chord finger i. */
export function addPowerOfTwo(id: Id128, i: number): Id128 {
  return fromBigInt(toBigInt(id) + (1n << BigInt(i)));
}

/** id - 1 mod 2^128: lets (prev(id), id] name exactly one id. */
export function idBefore(id: Id128): Id128 {
  return fromBigInt(toBigInt(id) - 1n);
}

/** Clockwise distance from a to b on the ring. */
export function distance(a: Id128, b: Id128): bigint {
  return (((toBigInt(b) - toBigInt(a)) % MOD) + MOD) % MOD;
}

/** x in the ring interval (a, b]; a === b means the whole ring (a single peer owns everything). */
export function between(a: Id128, x: Id128, b: Id128): boolean {
  return inRingInterval(x, a, b);
}

/** x in the open ring interval (a, b); a === b means every id except a. */
export function betweenOpen(a: Id128, x: Id128, b: Id128): boolean {
  if (a < b) return a < x && x < b;
  if (a > b) return x > a || x < b;
  return x !== a;
}

/** Deterministic id from arbitrary bytes (the simulator and tests use it to make Node-IDs). */
export function idFromSeed(seed: string): Id128 {
  return createHash('sha256').update(`seed:${seed}`).digest('hex').slice(0, 32);
}
