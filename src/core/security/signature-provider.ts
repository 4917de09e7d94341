// RSA-SHA256 (PKCS#1 v1.5) signing and verification behind an interface, so the simulator and
// src/main can use Node's native crypto (much faster) while forge stays the portable default.

import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import forge from 'node-forge';
import { binaryToBytes, bytesToBinary } from './keys.ts';

export interface SignatureProvider {
  sign(data: Uint8Array, privateKeyPem: string): Uint8Array;
  /** Never throws: a malformed signature or key is just false. */
  verify(data: Uint8Array, signature: Uint8Array, publicKeyPem: string): boolean;
}

/** Parsing a PEM key costs more than the RSA public operation: keep parsed keys, bounded. */
class KeyCache<K> {
  private readonly map = new Map<string, K>();
  constructor(
    private readonly parse: (pem: string) => K,
    private readonly max = 1000,
  ) {}
  get(pem: string): K {
    let k = this.map.get(pem);
    if (k === undefined) {
      k = this.parse(pem);
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
      this.map.set(pem, k);
    }
    return k;
  }
}

function sha256(data: Uint8Array): forge.md.MessageDigest {
  const md = forge.md.sha256.create();
  md.update(bytesToBinary(data));
  return md;
}

export function forgeSignatureProvider(): SignatureProvider {
  const privateKeys = new KeyCache((pem) => forge.pki.privateKeyFromPem(pem));
  const publicKeys = new KeyCache((pem) => forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey);
  return {
    sign: (data, pem) => binaryToBytes(privateKeys.get(pem).sign(sha256(data))),
    verify: (data, signature, pem) => {
      try {
        return publicKeys.get(pem).verify(sha256(data).digest().bytes(), bytesToBinary(signature));
      } catch {
        return false;
      }
    },
  };
}

/**
 * Node's native RSA. Pure computation like createHash (no I/O, deterministic for PKCS#1 v1.5), so it
 * is allowed in src/core; about 20x faster than forge for verification.
 */
export function nodeSignatureProvider(): SignatureProvider {
  const privateKeys = new KeyCache<KeyObject>((pem) => createPrivateKey(pem));
  const publicKeys = new KeyCache<KeyObject>((pem) => createPublicKey(pem));
  return {
    sign: (data, pem) => new Uint8Array(sign('sha256', data, privateKeys.get(pem))),
    verify: (data, signature, pem) => {
      try {
        return verify('sha256', data, publicKeys.get(pem), signature);
      } catch {
        return false;
      }
    },
  };
}
