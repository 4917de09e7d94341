// The peer's overlay identity from its (already chain-verified) TLS certificate, read by the
// security module's parser: exactly one urn:peerpbx:node:<id> and one sip:<user> URI in the
// subjectAltName, and the Node-ID must be the one derived from the certificate's own key.
import type { PeerCertificate } from 'node:tls';
import { readCertificateIdentityPem } from '../../core/security/certificates.ts';

export interface PeerIdentity {
  nodeId: string;
  /** What follows "sip:" in the certificate, e.g. "101@office". */
  user: string;
}

export type PeerIdentityResult = { ok: true; identity: PeerIdentity } | { ok: false; error: string };

export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function identityFromCertificate(cert: PeerCertificate | null | undefined): PeerIdentityResult {
  if (!cert?.raw || cert.raw.length === 0) return { ok: false, error: 'no peer certificate' };
  const r = readCertificateIdentityPem(derToPem(cert.raw));
  if (!r.ok) return { ok: false, error: r.reason };
  return { ok: true, identity: { nodeId: r.identity.nodeId, user: r.identity.user } };
}
