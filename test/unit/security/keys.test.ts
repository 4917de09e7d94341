import { createHash, createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createCsr } from '../../../src/core/security/certificates.ts';
import {
  generateKeyPairForge,
  nodeIdFromPublicKeyPem,
  serialFromRandom,
} from '../../../src/core/security/keys.ts';

/** A reproducible byte stream (SHA-256 in counter mode) standing in for injected randomness. */
function seeded(seed: string) {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

describe('keys', () => {
  it('generates an RSA-2048 key pair in pure JS from the injected randomness (slow path)', () => {
    const t0 = performance.now();
    const kp = generateKeyPairForge(seeded('k'));
    console.log(`forge RSA-2048 key generation: ${(performance.now() - t0).toFixed(0)} ms`);
    const pub = createPublicKey(kp.publicKeyPem);
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const csr = forge.pki.certificationRequestFromPem(createCsr(kp, '101@office'));
    expect(csr.verify()).toBe(true);
    expect(nodeIdFromPublicKeyPem(kp.publicKeyPem)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('Node-ID is SHA-256 of the DER SubjectPublicKeyInfo, truncated to 128 bits', () => {
    const { publicKey } = forge.pki.rsa.generateKeyPair({ bits: 512, e: 0x10001 });
    const pem = forge.pki.publicKeyToPem(publicKey);
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(nodeIdFromPublicKeyPem(pem)).toBe(createHash('sha256').update(der).digest('hex').slice(0, 32));
  });

  it('serial numbers are positive 16-byte values', () => {
    expect(serialFromRandom(() => new Uint8Array(16).fill(0xff))).toBe(`7f${'ff'.repeat(15)}`);
    expect(serialFromRandom(() => new Uint8Array(16))).toBe(`01${'00'.repeat(15)}`);
  });
});
