// Enrolls a PC's data folder directly with the office CA (what `office approve` does for a joiner),
// for tests and benchmarks that need many enrolled folders without the join round trip.
import { randomBytes } from 'node:crypto';
import type forge from 'node-forge';
import { userResourceName } from '../../src/core/records/resource-names.ts';
import { createCsr, issueCertificate } from '../../src/core/security/certificates.ts';
import { generatePeerKeys, openDataDatabase, saveIdentity } from '../../src/main/identity/identity.ts';

export interface OfficeCa {
  office: string;
  caPem: string;
  caFingerprint: string;
  caKey: forge.pki.rsa.PrivateKey;
}

/** Writes an enrolled identity for `extension` into `dir`; returns its Node-ID. */
export function enrollFolder(ca: OfficeCa, dir: string, extension: string, issuedAt = Date.now()): string {
  const keys = generatePeerKeys();
  const user = userResourceName(extension, ca.office);
  const cert = issueCertificate({
    caCertificatePem: ca.caPem,
    caPrivateKey: ca.caKey,
    csrPem: createCsr(keys, user),
    user,
    now: issuedAt,
    random: (n) => new Uint8Array(randomBytes(n)),
  });
  if (!cert.ok) throw new Error(cert.reason);
  const db = openDataDatabase(dir);
  saveIdentity(dir, db, {
    office: ca.office,
    extension,
    caFingerprint: ca.caFingerprint,
    admin: false,
    enrolledAt: Date.now(),
    caPem: ca.caPem,
    certPem: cert.certificatePem,
    keyPem: keys.privateKeyPem,
  });
  db.close();
  return cert.nodeId;
}
