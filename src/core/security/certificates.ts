// Peer certificates: a CSR from the joining PC, a certificate issued by the office CA that binds
// the user (extension@office) and the Node-ID (derived from the peer's public key) as
// subjectAltName URIs, and the checks every peer runs on a certificate it is shown.

import forge from 'node-forge';
import type { NodeId } from '../records/types.ts';
import { CLOCK_SLACK_MS } from './ca.ts';
import {
  type KeyPairPem,
  nodeIdFromPublicKey,
  type RandomBytes,
  RSA_BITS,
  serialFromRandom,
} from './keys.ts';

export const SIP_URI_PREFIX = 'sip:';
export const NODE_URN_PREFIX = 'urn:peerpbx:node:';
/** An administrator certificate carries this extra URI: it may sign OFFICE-CONFIG and issue certificates. */
export const ADMIN_URN = 'urn:peerpbx:role:admin';

const URI_TYPE = 6; // GeneralName uniformResourceIdentifier
const USER_PATTERN = /^[^@\s/]{1,64}@[^@\s/]{1,128}$/;
const YEAR = 365 * 24 * 3600 * 1000;

export interface CertificateIdentity {
  user: string;
  nodeId: NodeId;
  isAdmin: boolean;
}

export type Refusal = { ok: false; reason: string };

export function isValidUser(user: string): boolean {
  return USER_PATTERN.test(user);
}

/** A CSR for the joining peer: its key pair in, a PEM CSR out (signed with the peer's key, SHA-256). */
export function createCsr(keyPair: KeyPairPem, user: string): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(keyPair.publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: user }]);
  csr.sign(forge.pki.privateKeyFromPem(keyPair.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

export interface IssueOptions {
  caCertificatePem: string;
  caPrivateKey: forge.pki.rsa.PrivateKey;
  csrPem: string;
  /** The user the admin grants, e.g. "101@office"; the CSR's own subject is not trusted. */
  user: string;
  isAdmin?: boolean;
  now: number;
  random: RandomBytes;
  /** Default 5 years. */
  validityMs?: number;
}

export type IssueResult = { ok: true; certificatePem: string; nodeId: NodeId } | Refusal;

export function issueCertificate(opts: IssueOptions): IssueResult {
  if (!isValidUser(opts.user))
    return { ok: false, reason: `user "${opts.user}" is not of the form ext@office` };
  let csr: forge.pki.CertificateSigningRequest;
  let ca: forge.pki.Certificate;
  try {
    csr = forge.pki.certificationRequestFromPem(opts.csrPem);
    ca = forge.pki.certificateFromPem(opts.caCertificatePem);
  } catch (e) {
    return { ok: false, reason: `unreadable CSR or CA certificate: ${(e as Error).message}` };
  }
  if (!verifiesQuietly(() => csr.verify())) return { ok: false, reason: 'CSR signature does not verify' };
  const publicKey = csr.publicKey as forge.pki.rsa.PublicKey | null;
  if (!publicKey?.n || publicKey.n.bitLength() < RSA_BITS) {
    return { ok: false, reason: `CSR key must be RSA of at least ${RSA_BITS} bits` };
  }
  const nodeId = nodeIdFromPublicKey(publicKey);
  const uris = [`${SIP_URI_PREFIX}${opts.user}`, `${NODE_URN_PREFIX}${nodeId}`];
  if (opts.isAdmin) uris.push(ADMIN_URN);

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialFromRandom(opts.random);
  cert.validity.notBefore = new Date(opts.now - CLOCK_SLACK_MS);
  cert.validity.notAfter = new Date(opts.now + (opts.validityMs ?? 5 * YEAR));
  cert.setSubject([
    { name: 'commonName', value: opts.user },
    { name: 'organizationName', value: opts.user.slice(opts.user.indexOf('@') + 1) },
  ]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // Both: every peer is TLS client and server of the overlay.
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: uris.map((value) => ({ type: URI_TYPE, value })) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(opts.caPrivateKey, forge.md.sha256.create());
  return { ok: true, certificatePem: forge.pki.certificateToPem(cert), nodeId };
}

/** forge throws on some malformed signatures instead of returning false. */
function verifiesQuietly(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/** Reads user, Node-ID and admin flag from the subjectAltName; checks the Node-ID matches the key. */
export function readCertificateIdentity(
  cert: forge.pki.Certificate,
): { ok: true; identity: CertificateIdentity } | Refusal {
  const san = cert.getExtension('subjectAltName') as {
    altNames?: Array<{ type: number; value: string }>;
  } | null;
  const uris = (san?.altNames ?? []).filter((n) => n.type === URI_TYPE).map((n) => n.value);
  const sips = uris.filter((u) => u.startsWith(SIP_URI_PREFIX));
  const nodes = uris.filter((u) => u.startsWith(NODE_URN_PREFIX));
  if (sips.length !== 1) return { ok: false, reason: 'certificate must name exactly one sip: user' };
  if (nodes.length !== 1) return { ok: false, reason: 'certificate must name exactly one Node-ID' };
  const user = sips[0].slice(SIP_URI_PREFIX.length);
  const nodeId = nodes[0].slice(NODE_URN_PREFIX.length);
  if (!isValidUser(user)) return { ok: false, reason: `certificate user "${user}" is malformed` };
  const derived = nodeIdFromPublicKey(cert.publicKey);
  if (nodeId !== derived)
    return { ok: false, reason: `certificate Node-ID ${nodeId} is not its key's (${derived})` };
  return { ok: true, identity: { user, nodeId, isAdmin: uris.includes(ADMIN_URN) } };
}

export function readCertificateIdentityPem(
  pem: string,
): { ok: true; identity: CertificateIdentity } | Refusal {
  try {
    return readCertificateIdentity(forge.pki.certificateFromPem(pem));
  } catch (e) {
    return { ok: false, reason: `unreadable certificate: ${(e as Error).message}` };
  }
}

export function validityRefusal(cert: forge.pki.Certificate, now: number, what: string): string | null {
  if (now < cert.validity.notBefore.getTime())
    return `${what} is not valid before ${cert.validity.notBefore.toISOString()}`;
  if (now > cert.validity.notAfter.getTime())
    return `${what} expired at ${cert.validity.notAfter.toISOString()}`;
  return null;
}

/**
 * The time-independent part of the chain check: issued and signed by the office CA, not itself a CA,
 * with a well-formed identity. Callers add the validity check at their `now` (see CertificateVerifier).
 */
export function checkIssuedBy(
  cert: forge.pki.Certificate,
  ca: forge.pki.Certificate,
): { ok: true; identity: CertificateIdentity } | Refusal {
  if (!ca.issued(cert))
    return { ok: false, reason: 'certificate was not issued by the office CA (issuer differs)' };
  let signed = false;
  try {
    signed = ca.verify(cert);
  } catch (e) {
    return {
      ok: false,
      reason: `certificate signature does not verify against the office CA: ${(e as Error).message}`,
    };
  }
  if (!signed) return { ok: false, reason: 'certificate signature does not verify against the office CA' };
  const bc = cert.getExtension('basicConstraints') as { cA?: boolean } | null;
  if (bc?.cA) return { ok: false, reason: 'a CA certificate cannot sign records' };
  return readCertificateIdentity(cert);
}

export type ChainResult =
  | { ok: true; identity: CertificateIdentity; certificate: forge.pki.Certificate }
  | Refusal;

/** Full check of one certificate against the office CA at time `now` (no cache: see CertificateVerifier). */
export function verifyCertificateChain(certPem: string, caCertificatePem: string, now: number): ChainResult {
  let cert: forge.pki.Certificate;
  let ca: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(certPem);
    ca = forge.pki.certificateFromPem(caCertificatePem);
  } catch (e) {
    return { ok: false, reason: `unreadable certificate: ${(e as Error).message}` };
  }
  const time = validityRefusal(ca, now, 'office CA certificate') ?? validityRefusal(cert, now, 'certificate');
  if (time) return { ok: false, reason: time };
  const issued = checkIssuedBy(cert, ca);
  return issued.ok ? { ...issued, certificate: cert } : issued;
}
