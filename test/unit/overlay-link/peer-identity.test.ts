import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { derToPem, identityFromCertificate } from '../../../src/main/overlay-link/peer-identity.ts';
import { issuePeerCert, makeCa } from '../../helpers/certs.ts';

/** What tls.getPeerCertificate() hands over, as far as the identity reader looks. */
function asPeerCertificate(pem: string): PeerCertificate {
  return { raw: new X509Certificate(pem).raw } as PeerCertificate;
}

describe('peer identity from the TLS certificate', () => {
  const ca = makeCa();

  it('reads Node-ID and user', () => {
    const peer = issuePeerCert(ca, { user: '101@office' });
    expect(identityFromCertificate(asPeerCertificate(peer.certPem))).toEqual({
      ok: true,
      identity: { nodeId: peer.nodeId, user: '101@office' },
    });
  });

  it('round-trips DER to PEM', () => {
    const peer = issuePeerCert(ca);
    const der = new X509Certificate(peer.certPem).raw;
    expect(new X509Certificate(derToPem(der)).raw.equals(der)).toBe(true);
  });

  it('refuses a certificate without Node-ID, with a Node-ID not derived from its key, or without one', () => {
    const noId = identityFromCertificate(asPeerCertificate(issuePeerCert(ca, { omitNodeId: true }).certPem));
    expect(noId).toEqual({ ok: false, error: 'certificate must name exactly one Node-ID' });
    const forged = issuePeerCert(ca, { nodeId: '0123456789abcdef0123456789abcdef' });
    const r = identityFromCertificate(asPeerCertificate(forged.certPem));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/is not its key's/);
    expect(identityFromCertificate({} as PeerCertificate)).toEqual({
      ok: false,
      error: 'no peer certificate',
    });
    expect(identityFromCertificate(null).ok).toBe(false);
  });

  it('refuses a malformed user', () => {
    const r = identityFromCertificate(asPeerCertificate(issuePeerCert(ca, { user: 'no-office' }).certPem));
    expect(!r.ok && r.error).toMatch(/user/);
  });
});
