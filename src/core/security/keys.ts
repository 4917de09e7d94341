// Key pairs, Node-IDs and fingerprints. Keys cross module boundaries as PEM strings so that the
// fast path (Node's crypto.generateKeyPairSync in src/main) and the pure forge path are interchangeable.

import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { id128FromBytes } from '../records/ids.ts';
import type { NodeId } from '../records/types.ts';

export interface KeyPairPem {
  /** SubjectPublicKeyInfo PEM ("PUBLIC KEY"). */
  publicKeyPem: string;
  /** PKCS#1 or PKCS#8 unencrypted PEM. */
  privateKeyPem: string;
}

/** Randomness is injected into src/core: returns n random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

export const RSA_BITS = 2048;

export function bytesToBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('binary');
}

export function binaryToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'binary'));
}

/**
 * RSA-2048 key generation in pure JS with the injected randomness. Slow (seconds); src/main should
 * prefer crypto.generateKeyPairSync and pass the PEMs in.
 */
export function generateKeyPairForge(random: RandomBytes): KeyPairPem {
  const prng = { getBytesSync: (n: number) => bytesToBinary(random(n)) };
  const kp = forge.pki.rsa.generateKeyPair({
    bits: RSA_BITS,
    e: 0x10001,
    prng,
  } as forge.pki.rsa.GenerateKeyPairOptions);
  return {
    publicKeyPem: forge.pki.publicKeyToPem(kp.publicKey),
    privateKeyPem: forge.pki.privateKeyToPem(kp.privateKey),
  };
}

function publicKeyDer(publicKey: forge.pki.PublicKey): Uint8Array {
  return binaryToBytes(forge.asn1.toDer(forge.pki.publicKeyToAsn1(publicKey)).getBytes());
}

/** Node-ID: the first 128 bits of SHA-256 over the DER SubjectPublicKeyInfo of the peer's key. */
export function nodeIdFromPublicKey(publicKey: forge.pki.PublicKey): NodeId {
  return id128FromBytes(publicKeyDer(publicKey));
}

export function nodeIdFromPublicKeyPem(publicKeyPem: string): NodeId {
  return nodeIdFromPublicKey(forge.pki.publicKeyFromPem(publicKeyPem));
}

/** SHA-256 fingerprint (hex) of a certificate's DER: what discovery advertises for the office CA. */
export function certificateFingerprint(cert: forge.pki.Certificate): string {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return createHash('sha256').update(Buffer.from(der, 'binary')).digest('hex');
}

export function certificateFingerprintPem(pem: string): string {
  return certificateFingerprint(forge.pki.certificateFromPem(pem));
}

/** A positive 128-bit serial number in hex (X.509 serials must be positive: clear the top bit). */
export function serialFromRandom(random: RandomBytes): string {
  const b = random(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 0x01; // keep DER minimal and the serial 16 bytes long
  return Buffer.from(b).toString('hex');
}
