// The bytes a StoredValue's signature covers, and signing a value as its writer.

import { resourceIdFromName } from '../records/ids.ts';
import { KINDS } from '../records/kinds.ts';
import type { KindName, SignerIdentity, StoredValue } from '../records/types.ts';
import type { SignatureProvider } from './signature-provider.ts';

export type UnsignedValue = Omit<StoredValue, 'signature'>;

const encoder = new TextEncoder();
const DOMAIN = 'peerpbx-stored-value-v1';

/**
 * Canonical signed bytes: every field, each prefixed by its 4-byte big-endian length so no two
 * different values share an encoding. The signer's certificate is not included: the signed
 * nodeId/user must equal the certificate's and the signature verifies only under its key.
 */
export function signedBytes(v: UnsignedValue): Uint8Array {
  const parts: Uint8Array[] = [
    DOMAIN,
    v.resourceId,
    v.resourceName,
    v.kind,
    v.model,
    v.key,
    v.exists ? '1' : '0',
    String(v.storageTime),
    String(v.lifetime),
    v.signer.nodeId,
    v.signer.user,
  ].map((s) => encoder.encode(s));
  parts.splice(6, 0, v.value);
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const p of parts) {
    view.setUint32(off, p.length);
    out.set(p, off + 4);
    off += 4 + p.length;
  }
  return out;
}

export function signValue(v: UnsignedValue, privateKeyPem: string, provider: SignatureProvider): StoredValue {
  return { ...v, signature: provider.sign(signedBytes(v), privateKeyPem) };
}

export interface ValueWrite {
  resourceName: string;
  kind: KindName;
  /** '' for SINGLE kinds (the default). */
  key?: string;
  value: Uint8Array;
  /** false writes a tombstone (deletion). Default true. */
  exists?: boolean;
  storageTime: number;
  lifetime: number;
}

/** A peer's signing identity: its certificate's identity and private key. */
export class ValueSigner {
  constructor(
    readonly identity: SignerIdentity,
    private readonly privateKeyPem: string,
    private readonly provider: SignatureProvider,
  ) {}

  /** Builds and signs a value (see unsignedValue). */
  sign(w: ValueWrite): StoredValue {
    return signValue(unsignedValue(w, this.identity), this.privateKeyPem, this.provider);
  }
}

/** The value a write describes; resourceId and model are derived from the name and the kind table. */
export function unsignedValue(w: ValueWrite, signer: SignerIdentity): UnsignedValue {
  return {
    resourceId: resourceIdFromName(w.resourceName),
    resourceName: w.resourceName,
    kind: w.kind,
    model: KINDS[w.kind].model,
    key: w.key ?? '',
    value: w.value,
    exists: w.exists ?? true,
    storageTime: w.storageTime,
    lifetime: w.lifetime,
    signer,
  };
}
