// The office certificate authority: created by the first PC; its private key is kept only as
// PKCS#8 encrypted PEM under the admin passphrase (PBES2, AES-256-CBC, PBKDF2).

import forge from 'node-forge';
import { certificateFingerprint, type KeyPairPem, type RandomBytes, serialFromRandom } from './keys.ts';

export interface OfficeCa {
  certificatePem: string;
  /** "ENCRYPTED PRIVATE KEY" PEM. Never store the CA key unencrypted. */
  encryptedKeyPem: string;
  /** SHA-256 of the CA certificate's DER, hex: identifies the office (advertised in discovery). */
  fingerprint: string;
}

export interface CreateCaOptions {
  officeName: string;
  passphrase: string;
  keyPair: KeyPairPem;
  now: number;
  random: RandomBytes;
  /** Default 20 years: after enrollment the CA is needed for no call, so it should outlive the PCs. */
  validityMs?: number;
  /** PBKDF2 iterations protecting the CA key (default 100,000, about 1 s in forge; tests use fewer). */
  kdfIterations?: number;
}

const YEAR = 365 * 24 * 3600 * 1000;
/** Certificates start a little in the past so a peer whose clock lags slightly accepts them. */
export const CLOCK_SLACK_MS = 60 * 60 * 1000;
export const PBKDF2_ITERATIONS = 100_000;

export function caSubject(officeName: string): forge.pki.CertificateField[] {
  return [
    { name: 'commonName', value: `PeerPBX ${officeName} CA` },
    { name: 'organizationName', value: officeName },
  ];
}

export function createOfficeCa(opts: CreateCaOptions): OfficeCa {
  if (opts.passphrase.length < 8) throw new Error('admin passphrase must have at least 8 characters');
  const privateKey = forge.pki.privateKeyFromPem(opts.keyPair.privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.keyPair.publicKeyPem);
  cert.serialNumber = serialFromRandom(opts.random);
  cert.validity.notBefore = new Date(opts.now - CLOCK_SLACK_MS);
  cert.validity.notAfter = new Date(opts.now + (opts.validityMs ?? 20 * YEAR));
  cert.setSubject(caSubject(opts.officeName));
  cert.setIssuer(caSubject(opts.officeName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  // SHA-256 always: Node's TLS refuses SHA-1 signed certificates.
  cert.sign(privateKey, forge.md.sha256.create());
  const encryptedKeyPem = forge.pki.encryptRsaPrivateKey(privateKey, opts.passphrase, {
    algorithm: 'aes256',
    count: opts.kdfIterations ?? PBKDF2_ITERATIONS,
    prfAlgorithm: 'sha256',
  } as forge.pki.EncryptionOptions);
  return {
    certificatePem: forge.pki.certificateToPem(cert),
    encryptedKeyPem,
    fingerprint: certificateFingerprint(cert),
  };
}

export type OpenCaKeyResult =
  | { ok: true; privateKey: forge.pki.rsa.PrivateKey }
  | { ok: false; reason: string };

/** Decrypts the CA key with the admin passphrase; a wrong passphrase is a refusal, not a throw. */
export function openCaKey(encryptedKeyPem: string, passphrase: string): OpenCaKeyResult {
  try {
    const key = forge.pki.decryptRsaPrivateKey(encryptedKeyPem, passphrase);
    if (!key) return { ok: false, reason: 'wrong admin passphrase' };
    return { ok: true, privateKey: key };
  } catch (e) {
    return { ok: false, reason: `wrong admin passphrase or damaged CA key: ${(e as Error).message}` };
  }
}
