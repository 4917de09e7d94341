// Test certificate factory: an office CA and peer certificates shaped like the enrollment's
// (subjectAltName URIs urn:peerpbx:node:<id> and sip:<user>), made with node-forge.
// RSA keys come from Node's crypto (fast); every signature is SHA-256 (Node's TLS refuses SHA-1).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { id128FromBytes } from '../../src/core/records/ids.ts';

export interface TestCa {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

export interface TestPeerCert {
  nodeId: string;
  user: string;
  certPem: string;
  keyPem: string;
}

interface ForgeKeys {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  keyPem: string;
  /** Node-ID as the design derives it: first 128 bits of SHA-256 over the SPKI DER. */
  nodeId: string;
}

function newKeys(): ForgeKeys {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const forgePublic = forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey;
  const spkiDer = forge.asn1.toDer(forge.pki.publicKeyToAsn1(forgePublic)).getBytes();
  return {
    publicKey: forgePublic,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    keyPem: privateKey,
    nodeId: id128FromBytes(Buffer.from(spkiDer, 'binary')),
  };
}

function baseCert(publicKey: forge.pki.rsa.PublicKey, validDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + validDays * 86_400_000);
  return cert;
}

export function makeCa(officeName = 'Test Office'): TestCa {
  const keys = newKeys();
  const cert = baseCert(keys.publicKey, 3650);
  const name = [{ name: 'commonName', value: `${officeName} CA` }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem, cert, key: keys.privateKey };
}

export interface PeerCertOptions {
  user?: string;
  /** Overrides the Node-ID written into the certificate (default: derived from the key). */
  nodeId?: string;
  /** Leave out the urn:peerpbx:node URI (a certificate the overlay must refuse). */
  omitNodeId?: boolean;
}

function leafExtensions(nodeId: string | null, user: string): unknown[] {
  const altNames: { type: number; value: string }[] = [];
  if (nodeId !== null) altNames.push({ type: 6, value: `urn:peerpbx:node:${nodeId}` });
  altNames.push({ type: 6, value: `sip:${user}` });
  return [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // Peers are TLS servers and clients alike: both purposes are required.
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
  ];
}

/** A peer certificate issued by `ca`. */
export function issuePeerCert(ca: TestCa, opts: PeerCertOptions = {}): TestPeerCert {
  const keys = newKeys();
  const nodeId = opts.nodeId ?? keys.nodeId;
  const user = opts.user ?? '101@office';
  const cert = baseCert(keys.publicKey, 365);
  cert.setSubject([{ name: 'commonName', value: user }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions(leafExtensions(opts.omitNodeId ? null : nodeId, user));
  cert.sign(ca.key, forge.md.sha256.create());
  return { nodeId, user, certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** A peer-shaped certificate signed by its own key: chains to no office CA. */
export function selfSignedPeerCert(user = '666@rogue'): TestPeerCert {
  const keys = newKeys();
  const cert = baseCert(keys.publicKey, 365);
  const name = [{ name: 'commonName', value: user }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions(leafExtensions(keys.nodeId, user));
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { nodeId: keys.nodeId, user, certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
