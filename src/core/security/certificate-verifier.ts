// Verifying a certificate chain costs an RSA verify (~1 ms in forge); every stored and fetched value
// carries its signer's certificate, so verified certificates are cached by fingerprint. Only the
// time-independent result is cached: validity dates are re-checked at each call's `now`.

import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { type CertificateIdentity, checkIssuedBy, validityRefusal } from './certificates.ts';

interface CacheEntry {
  result: { ok: true; identity: CertificateIdentity; publicKeyPem: string } | { ok: false; reason: string };
  cert?: forge.pki.Certificate;
}

export type VerifiedCertificate =
  | { ok: true; identity: CertificateIdentity; publicKeyPem: string }
  | { ok: false; reason: string };

export class CertificateVerifier {
  private readonly ca: forge.pki.Certificate;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    caCertificatePem: string,
    private readonly maxEntries = 10_000,
  ) {
    this.ca = forge.pki.certificateFromPem(caCertificatePem);
  }

  verify(certPem: string, now: number): VerifiedCertificate {
    const caTime = validityRefusal(this.ca, now, 'office CA certificate');
    if (caTime) return { ok: false, reason: caTime };
    const fp = createHash('sha256').update(certPem).digest('hex');
    let entry = this.cache.get(fp);
    if (!entry) {
      entry = this.check(certPem);
      if (this.cache.size >= this.maxEntries) {
        // Maps iterate in insertion order: drop the oldest entry.
        this.cache.delete(this.cache.keys().next().value as string);
      }
      this.cache.set(fp, entry);
    }
    if (!entry.result.ok || !entry.cert) return entry.result;
    const time = validityRefusal(entry.cert, now, 'certificate');
    return time ? { ok: false, reason: time } : entry.result;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  private check(certPem: string): CacheEntry {
    let cert: forge.pki.Certificate;
    try {
      cert = forge.pki.certificateFromPem(certPem);
    } catch (e) {
      return { result: { ok: false, reason: `unreadable certificate: ${(e as Error).message}` } };
    }
    const issued = checkIssuedBy(cert, this.ca);
    if (!issued.ok) return { result: issued };
    return {
      cert,
      result: { ok: true, identity: issued.identity, publicKeyPem: forge.pki.publicKeyToPem(cert.publicKey) },
    };
  }
}
