// This PC's identity in its data folder: the office (name, CA certificate), this peer's key and
// certificate, and on the admin PC the CA key encrypted by the admin passphrase. PEM files beside
// the SQLite database (keys 0600); the descriptive part (office, extension, display name, CA
// fingerprint) in the settings table, so the app and the CLI read the same thing.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyPairPem } from '../../core/security/keys.ts';
import { certificateFingerprintPem } from '../../core/security/keys.ts';
import { openPeerDatabase, type PeerDatabase } from '../store/peer-database.ts';

export const DATABASE_FILE = 'peer.db';
const IDENTITY_DIR = 'identity';
const FILES = {
  ca: 'office-ca.pem',
  caKey: 'office-ca-key.enc.pem',
  cert: 'peer-cert.pem',
  key: 'peer-key.pem',
} as const;
const SETTINGS_KEY = 'identity';

export interface IdentityInfo {
  office: string;
  extension: string;
  displayName?: string;
  /** SHA-256 (hex) of the office CA certificate: what discovery advertises and joiners check. */
  caFingerprint: string;
  /** This PC holds the (encrypted) CA key and can enroll others. */
  admin: boolean;
  enrolledAt: number;
}

export interface Identity extends IdentityInfo {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Present on the admin PC only; PKCS#8 encrypted under the admin passphrase. */
  caKeyEncryptedPem?: string;
  /** `${extension}@${office}`. */
  user: string;
}

export class IdentityError extends Error {}

/** A fresh RSA-2048 key pair from Node's native crypto (milliseconds, unlike forge's seconds). */
export function generatePeerKeys(): KeyPairPem {
  const kp = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: kp.publicKey, privateKeyPem: kp.privateKey };
}

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export function openDataDatabase(dataDir: string): PeerDatabase {
  mkdirSync(dataDir, { recursive: true });
  return openPeerDatabase(databasePath(dataDir));
}

function file(dataDir: string, name: keyof typeof FILES): string {
  return join(dataDir, IDENTITY_DIR, FILES[name]);
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600); // mode applies only when the file is new
}

/** Whether the folder already belongs to an office member (create/join refuse to overwrite). */
export function hasIdentity(dataDir: string): boolean {
  return existsSync(file(dataDir, 'cert'));
}

/** The key this PC generated for its join request, kept until the certificate arrives. */
export function pendingKeyPath(dataDir: string): string {
  return file(dataDir, 'key');
}

export interface SaveIdentity extends IdentityInfo {
  caPem: string;
  certPem: string;
  keyPem: string;
  caKeyEncryptedPem?: string;
}

export function saveIdentity(dataDir: string, db: PeerDatabase, id: SaveIdentity): void {
  mkdirSync(join(dataDir, IDENTITY_DIR), { recursive: true, mode: 0o700 });
  writeSecret(file(dataDir, 'key'), id.keyPem);
  if (id.caKeyEncryptedPem) writeSecret(file(dataDir, 'caKey'), id.caKeyEncryptedPem);
  writeFileSync(file(dataDir, 'ca'), id.caPem);
  // The certificate last: its presence is what marks the folder as enrolled.
  writeFileSync(file(dataDir, 'cert'), id.certPem);
  const info: IdentityInfo = {
    office: id.office,
    extension: id.extension,
    displayName: id.displayName,
    caFingerprint: id.caFingerprint,
    admin: id.admin,
    enrolledAt: id.enrolledAt,
  };
  db.settings.set(SETTINGS_KEY, info);
}

/** Loads the identity; throws IdentityError with one clear line when the folder has none. */
export function loadIdentity(dataDir: string, db: PeerDatabase): Identity {
  const info = db.settings.get<IdentityInfo>(SETTINGS_KEY);
  if (!info || !hasIdentity(dataDir))
    throw new IdentityError(
      `data folder ${dataDir} has no office identity: run \`peerpbx office create\` or \`peerpbx join\` first`,
    );
  const caPem = readFileSync(file(dataDir, 'ca'), 'utf8');
  if (certificateFingerprintPem(caPem) !== info.caFingerprint)
    throw new IdentityError(`office CA certificate in ${dataDir} does not match its recorded fingerprint`);
  const caKeyPath = file(dataDir, 'caKey');
  return {
    ...info,
    caPem,
    certPem: readFileSync(file(dataDir, 'cert'), 'utf8'),
    keyPem: readFileSync(file(dataDir, 'key'), 'utf8'),
    caKeyEncryptedPem: existsSync(caKeyPath) ? readFileSync(caKeyPath, 'utf8') : undefined,
    user: `${info.extension}@${info.office}`,
  };
}
