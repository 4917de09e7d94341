// The record model of the overlay (RFC 6940 section 6 semantics), shared by the overlay protocol
// (src/core/overlay), the security checks (src/core/security) and the stores (memory in core,
// SQLite in src/main/store).

/** 128-bit ids as 32 lower-case hex characters: cheap to compare, to log and to use as map keys. */
export type Id128 = string;
export type NodeId = Id128;
export type ResourceId = Id128;

export type DataModel = 'single' | 'array' | 'dictionary';

export type KindName =
  | 'SIP-REGISTRATION'
  | 'CERTIFICATE'
  | 'PRESENCE'
  | 'VOICEMAIL'
  | 'VOICEMAIL-CHUNK'
  | 'GREETING'
  | 'OFFICE-CONFIG'
  | 'USER-SETTINGS'
  | 'DEVICE-STATE'
  | 'TEST';

export type AccessPolicy =
  | 'USER-MATCH' // only the holder of the resource user's certificate writes
  | 'NODE-MATCH' // resource name is the writer's Node-ID
  | 'USER-NODE-MATCH' // user matches, and the dictionary key is the writer's Node-ID
  | 'DEPOSIT' // any member appends an entry signed by itself; only the owner deletes/marks
  | 'ADMIN'; // only an office administrator certificate writes

/** Who signed a value: taken from the signer's certificate, which the value carries. */
export interface SignerIdentity {
  nodeId: NodeId;
  user: string; // extension-qualified user, e.g. "101@office"
  /** PEM of the signer's certificate (chains to the office CA). */
  certificate: string;
}

/**
 * One stored value. Identity of a slot is (resourceId, kind, key): a SINGLE has key '', an ARRAY
 * uses the decimal index, a DICTIONARY its dictionary key. Newer storageTime wins per slot.
 */
export interface StoredValue {
  resourceId: ResourceId;
  resourceName: string; // e.g. "101@office"; needed to check USER-MATCH policies
  kind: KindName;
  model: DataModel;
  key: string;
  value: Uint8Array;
  /** false marks a deletion (a tombstone that still replicates until its lifetime ends). */
  exists: boolean;
  /** Writer's clock, ms since epoch. Newer wins; equal times: the larger signature bytes win. */
  storageTime: number;
  /** ms; the value expires at storageTime + lifetime. */
  lifetime: number;
  signer: SignerIdentity;
  /** Signature by the signer's key over signedBytes(value) (see src/core/security). */
  signature: Uint8Array;
}

export type StoreOutcome =
  | { ok: true; replaced: boolean }
  | {
      ok: false;
      code: 'stale' | 'too-large' | 'forbidden' | 'bad-signature' | 'expired' | 'invalid';
      reason: string;
    };

/** Checks a value before it is stored or after it is fetched: signature, certificate, policy, size. */
export interface ValueValidator {
  /**
   * `existing` (optional, added by the security helper; backward compatible): the storing peer
   * passes the value its store holds in the same slot (store.get(resourceId, now, kind, key)[0]) so
   * DEPOSIT can refuse a non-owner replacing or deleting an entry written by someone else.
   * Fetching peers omit it.
   */
  validate(
    value: StoredValue,
    now: number,
    existing?: StoredValue,
  ):
    | { ok: true }
    | { ok: false; code: 'forbidden' | 'bad-signature' | 'too-large' | 'invalid'; reason: string };
}

/** Digest of the values held for a range, for anti-entropy between replicas. */
export interface RangeDigest {
  count: number;
  hash: string; // hex; equal when both sides hold the same slots at the same storage times
}

/**
 * The storage a peer holds as responsible peer or replica. Synchronous so that better-sqlite3
 * (synchronous by design) and the in-memory store share it; `put` returns only after the value is
 * durable, which is what lets the overlay acknowledge a Store.
 */
export interface RecordStore {
  /** Stores if newer than the slot's current value. Does not validate signatures (the caller does). */
  put(value: StoredValue): StoreOutcome;
  /** Values of one resource, optionally one kind and one key; expired values are not returned. */
  get(resourceId: ResourceId, now: number, kind?: KindName, key?: string): StoredValue[];
  /** Every value whose resourceId lies in the ring interval (from, to] (wrapping). */
  range(from: ResourceId, to: ResourceId, now: number): StoredValue[];
  /** Deletes every value in (from, to]: the peer handed the range over. */
  dropRange(from: ResourceId, to: ResourceId): number;
  digest(from: ResourceId, to: ResourceId, now: number): RangeDigest;
  /** Removes expired values; returns how many. */
  expire(now: number): number;
  /** All distinct resource ids held (for replica maintenance). */
  resourceIds(): ResourceId[];
  count(): number;
}
