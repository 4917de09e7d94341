import { createPrivateKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createOfficeCa, openCaKey } from '../../../src/core/security/ca.ts';
import { CertificateVerifier } from '../../../src/core/security/certificate-verifier.ts';
import {
  createCsr,
  issueCertificate,
  readCertificateIdentityPem,
  verifyCertificateChain,
} from '../../../src/core/security/certificates.ts';
import { nodeIdFromPublicKeyPem } from '../../../src/core/security/keys.ts';
import { makeOffice, NOW, newKeyPair, PASSPHRASE, random } from './fixtures.ts';

const DAY = 24 * 3600 * 1000;

describe('office CA', () => {
  const office = makeOffice();

  it('creates a SHA-256 signed CA certificate Node accepts as a CA', () => {
    const x = new X509Certificate(office.ca.certificatePem);
    expect(x.ca).toBe(true);
    expect(x.subject).toContain('PeerPBX office CA');
    expect(forge.pki.certificateFromPem(office.ca.certificatePem).siginfo.algorithmOid).toBe(
      forge.pki.oids.sha256WithRSAEncryption,
    );
    expect(office.ca.fingerprint).toBe(x.fingerprint256.replaceAll(':', '').toLowerCase());
  });

  it('protects the CA key with PBKDF2 (100,000 iterations by default)', () => {
    const ca = createOfficeCa({
      officeName: 'x',
      passphrase: PASSPHRASE,
      keyPair: newKeyPair(),
      now: NOW,
      random,
    });
    const info = forge.asn1.fromDer(forge.pem.decode(ca.encryptedKeyPem)[0].body);
    // EncryptedPrivateKeyInfo > algorithm > PBES2 params > keyDerivationFunc > PBKDF2 params > iterationCount
    const at = (n: forge.asn1.Asn1, i: number) => (n.value as forge.asn1.Asn1[])[i];
    const kdfParams = at(at(at(at(info, 0), 1), 0), 1);
    const count = forge.util.bytesToHex(at(kdfParams, 1).value as string);
    expect(Number.parseInt(count, 16)).toBe(100_000);
    expect(openCaKey(ca.encryptedKeyPem, PASSPHRASE).ok).toBe(true);
    expect(openCaKey(ca.encryptedKeyPem, 'not the passphrase').ok).toBe(false);
  });

  it('exports the CA key only encrypted (PKCS#8) and opens it with the passphrase', () => {
    expect(office.ca.encryptedKeyPem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(office.ca.encryptedKeyPem).not.toContain('BEGIN RSA PRIVATE KEY');
    const opened = openCaKey(office.ca.encryptedKeyPem, PASSPHRASE);
    expect(opened.ok).toBe(true);
    // Standard PKCS#8/PBES2: OpenSSL (Node) reads it too, and refuses a wrong passphrase.
    const k = createPrivateKey({ key: office.ca.encryptedKeyPem, format: 'pem', passphrase: PASSPHRASE });
    expect(k.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(() =>
      createPrivateKey({ key: office.ca.encryptedKeyPem, format: 'pem', passphrase: 'nope nope' }),
    ).toThrow();
  });

  it('refuses a wrong passphrase with a reason', () => {
    const opened = openCaKey(office.ca.encryptedKeyPem, 'wrong passphrase!');
    expect(opened).toMatchObject({ ok: false, reason: expect.stringMatching(/passphrase/) });
  });

  it('refuses a too short passphrase', () => {
    expect(() =>
      createOfficeCa({ officeName: 'x', passphrase: 'short', keyPair: newKeyPair(), now: NOW, random }),
    ).toThrow(/passphrase/);
  });
});

describe('peer certificates', () => {
  const office = makeOffice();
  const peer = office.enroll('101@office');
  const admin = office.enroll('100@office', { isAdmin: true });

  it('binds user and Node-ID (derived from the public key) as subjectAltName URIs', () => {
    const x = new X509Certificate(peer.certificatePem);
    expect(x.subjectAltName).toContain('URI:sip:101@office');
    expect(x.subjectAltName).toContain(`URI:urn:peerpbx:node:${peer.nodeId}`);
    expect(peer.nodeId).toBe(nodeIdFromPublicKeyPem(peer.keyPair.publicKeyPem));
    expect(x.verify(new X509Certificate(office.ca.certificatePem).publicKey)).toBe(true);
    expect(readCertificateIdentityPem(peer.certificatePem)).toEqual({
      ok: true,
      identity: { user: '101@office', nodeId: peer.nodeId, isAdmin: false },
    });
    expect(readCertificateIdentityPem(admin.certificatePem)).toMatchObject({
      ok: true,
      identity: { isAdmin: true },
    });
  });

  it('chains to the office CA at a valid time', () => {
    const r = verifyCertificateChain(peer.certificatePem, office.ca.certificatePem, NOW + DAY);
    expect(r).toMatchObject({ ok: true, identity: { user: '101@office', nodeId: peer.nodeId } });
  });

  it('refuses a certificate from another office CA', () => {
    const other = makeOffice('office').enroll('101@office');
    const r = verifyCertificateChain(other.certificatePem, office.ca.certificatePem, NOW);
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/office CA/) });
  });

  it('refuses an expired or not-yet-valid certificate', () => {
    const short = office.enroll('102@office', { validityMs: DAY });
    expect(verifyCertificateChain(short.certificatePem, office.ca.certificatePem, NOW + DAY / 2).ok).toBe(
      true,
    );
    expect(
      verifyCertificateChain(short.certificatePem, office.ca.certificatePem, NOW + 2 * DAY),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    });
    expect(
      verifyCertificateChain(short.certificatePem, office.ca.certificatePem, NOW - 2 * DAY),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not valid before/),
    });
  });

  it('refuses the CA certificate itself as a peer certificate', () => {
    const r = verifyCertificateChain(office.ca.certificatePem, office.ca.certificatePem, NOW);
    expect(r.ok).toBe(false);
  });

  it('refuses to issue for a malformed user, a bad CSR or a weak key', () => {
    const caKey = openCaKey(office.ca.encryptedKeyPem, PASSPHRASE);
    if (!caKey.ok) throw new Error(caKey.reason);
    const base = {
      caCertificatePem: office.ca.certificatePem,
      caPrivateKey: caKey.privateKey,
      now: NOW,
      random,
    };
    const csrPem = createCsr(peer.keyPair, '101@office');
    expect(issueCertificate({ ...base, csrPem, user: 'no-at-sign' })).toMatchObject({ ok: false });
    expect(issueCertificate({ ...base, csrPem: 'garbage', user: '101@office' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unreadable/),
    });
    // A CSR whose signature was made by another key than the one it carries.
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.publicKeyFromPem(newKeyPair().publicKeyPem);
    csr.setSubject([{ name: 'commonName', value: '101@office' }]);
    csr.sign(forge.pki.privateKeyFromPem(peer.keyPair.privateKeyPem), forge.md.sha256.create());
    expect(
      issueCertificate({ ...base, csrPem: forge.pki.certificationRequestToPem(csr), user: '101@office' }),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/CSR signature/),
    });
  });

  it('the verifier caches chains by fingerprint but re-checks time on each call', () => {
    const short = office.enroll('103@office', { validityMs: DAY });
    const v = new CertificateVerifier(office.ca.certificatePem);
    expect(v.verify(short.certificatePem, NOW).ok).toBe(true);
    expect(v.verify(short.certificatePem, NOW).ok).toBe(true);
    expect(v.cacheSize).toBe(1);
    expect(v.verify(short.certificatePem, NOW + 2 * DAY)).toMatchObject({ ok: false, reason: /expired/ });
    const foreign = makeOffice().enroll('101@office');
    expect(v.verify(foreign.certificatePem, NOW)).toMatchObject({ ok: false });
    expect(v.verify(foreign.certificatePem, NOW)).toMatchObject({ ok: false });
    expect(v.cacheSize).toBe(2);
  });
});
