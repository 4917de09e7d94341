// `office create` and `office invite`: the office CA and its first member, and one-time join codes
// kept (hashed) in the admin PC's SQLite so an invite works offline and the running admin peer sees it.
import { randomBytes } from 'node:crypto';
import { createOfficeCa, openCaKey } from '../../core/security/ca.ts';
import { createCsr, issueCertificate } from '../../core/security/certificates.ts';
import {
  DEFAULT_RESERVATION_MS,
  isValidExtension,
  type Reservation,
} from '../../core/security/enrollment.ts';
import { createInvite, DEFAULT_INVITE_TTL_MS, type Invite } from '../../core/security/join-codes.ts';
import {
  generatePeerKeys,
  hasIdentity,
  type Identity,
  IdentityError,
  loadIdentity,
  openDataDatabase,
  saveIdentity,
} from '../identity/identity.ts';
import type { PeerDatabase } from '../store/peer-database.ts';

const INVITES_KEY = 'invites';
const ENROLLED_KEY = 'enrolled';
const UNCOLLECTED_KEY = 'enrollment-uncollected';
const OFFICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/**
 * PBKDF2 iterations protecting the CA key. Default 100,000 (about 1 s in forge per create and per
 * admin start); PEERPBX_CA_KDF_ITERATIONS lowers it for tests (at least 1,000).
 */
export function kdfIterations(): number | undefined {
  const n = Number(process.env.PEERPBX_CA_KDF_ITERATIONS);
  return Number.isInteger(n) && n >= 1000 ? n : undefined;
}

export function checkExtension(ext: string): void {
  if (!isValidExtension(ext)) throw new IdentityError(`extension "${ext}" must be 2 to 10 digits`);
}

/** A passphrase nobody has to invent: 20 random characters of a typo-friendly alphabet (~100 bits). */
export function generatePassphrase(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = random(20);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return [0, 5, 10, 15].map((i) => chars.slice(i, i + 5).join('')).join('-');
}

export interface CreateOfficeOptions {
  dataDir: string;
  name: string;
  extension: string;
  displayName?: string;
  passphrase: string;
  now?: number;
}

/** Makes the office CA (key encrypted by the passphrase) and enrolls this PC as its admin member. */
export function createOffice(opts: CreateOfficeOptions): Identity {
  if (!OFFICE_NAME.test(opts.name))
    throw new IdentityError(
      `office name "${opts.name}" must be 1-63 letters, digits, '.', '_' or '-' (it becomes part of every user name)`,
    );
  checkExtension(opts.extension);
  if (opts.passphrase.length < 8) throw new IdentityError('the admin passphrase needs at least 8 characters');
  if (hasIdentity(opts.dataDir))
    throw new IdentityError(`data folder ${opts.dataDir} already belongs to an office; use another folder`);
  const now = opts.now ?? Date.now();
  const ca = createOfficeCa({
    officeName: opts.name,
    passphrase: opts.passphrase,
    keyPair: generatePeerKeys(),
    now,
    random,
    kdfIterations: kdfIterations(),
  });
  const opened = openCaKey(ca.encryptedKeyPem, opts.passphrase);
  if (!opened.ok) throw new IdentityError(opened.reason); // unreachable: we just encrypted it
  const keys = generatePeerKeys();
  const user = `${opts.extension}@${opts.name}`;
  const issued = issueCertificate({
    caCertificatePem: ca.certificatePem,
    caPrivateKey: opened.privateKey,
    csrPem: createCsr(keys, user),
    user,
    isAdmin: true,
    now,
    random,
  });
  if (!issued.ok) throw new IdentityError(issued.reason);
  const db = openDataDatabase(opts.dataDir);
  try {
    saveIdentity(opts.dataDir, db, {
      office: opts.name,
      extension: opts.extension,
      displayName: opts.displayName,
      caFingerprint: ca.fingerprint,
      admin: true,
      enrolledAt: now,
      caPem: ca.certificatePem,
      certPem: issued.certificatePem,
      keyPem: keys.privateKeyPem,
      caKeyEncryptedPem: ca.encryptedKeyPem,
    });
    recordEnrolled(db, opts.extension, issued.nodeId);
    return loadIdentity(opts.dataDir, db);
  } finally {
    db.close();
  }
}

// ---- the admin's enrollment book (SQLite settings) ----

export function loadInvites(db: PeerDatabase): Invite[] {
  return db.settings.get<Invite[]>(INVITES_KEY) ?? [];
}

export function saveInvites(db: PeerDatabase, invites: Invite[], now: number): void {
  // Spent and expired invites only matter for a clear "used"/"expired" refusal for a while.
  const keep = invites.filter((i) => i.expiresAt + DEFAULT_INVITE_TTL_MS > now);
  db.settings.set(INVITES_KEY, keep);
}

export function loadEnrolled(db: PeerDatabase): Map<string, string> {
  return new Map(Object.entries(db.settings.get<Record<string, string>>(ENROLLED_KEY) ?? {}));
}

/** Drops an uncollected certificate's hold on its extension. */
export function releaseReservation(db: PeerDatabase, extension: string): void {
  const enrolled = db.settings.get<Record<string, string>>(ENROLLED_KEY) ?? {};
  delete enrolled[extension];
  db.settings.set(ENROLLED_KEY, enrolled);
  const all = loadUncollected(db);
  all.delete(extension);
  saveUncollected(db, all);
}

export function recordEnrolled(db: PeerDatabase, extension: string, nodeId: string): void {
  const all = db.settings.get<Record<string, string>>(ENROLLED_KEY) ?? {};
  all[extension] = nodeId;
  db.settings.set(ENROLLED_KEY, all);
}

/** Issued certificates the PC has not confirmed it received, by extension. */
export function loadUncollected(db: PeerDatabase): Map<string, Reservation> {
  return new Map(Object.entries(db.settings.get<Record<string, Reservation>>(UNCOLLECTED_KEY) ?? {}));
}

function saveUncollected(db: PeerDatabase, all: Map<string, Reservation>): void {
  db.settings.set(UNCOLLECTED_KEY, Object.fromEntries(all));
}

/** A certificate was issued: the extension is the node's, reserved until the PC confirms receipt. */
export function recordIssued(db: PeerDatabase, extension: string, reservation: Reservation): void {
  const all = loadUncollected(db);
  // A re-issue to a key that already collected its certificate (a late repeat) stays collected.
  if (loadEnrolled(db).get(extension) === reservation.nodeId && !all.has(extension)) return;
  recordEnrolled(db, extension, reservation.nodeId);
  all.set(extension, reservation);
  saveUncollected(db, all);
}

/** The PC confirmed it keeps its certificate (or the overlay holds its CERTIFICATE record). */
export function markCollected(db: PeerDatabase, extension: string, nodeId: string): void {
  const all = loadUncollected(db);
  if (all.get(extension)?.nodeId !== nodeId) return;
  all.delete(extension);
  saveUncollected(db, all);
}

/**
 * How long an issued but uncollected certificate keeps its extension (default 2 min);
 * PEERPBX_UNCOLLECTED_MS changes it (tests).
 */
export function reservationMs(): number {
  const n = Number(process.env.PEERPBX_UNCOLLECTED_MS);
  return Number.isInteger(n) && n >= 500 ? n : DEFAULT_RESERVATION_MS;
}

export interface InviteResult {
  code: string;
  expiresAt: number;
}

/** A one-time join code for `extension`, stored hashed in the admin's database (works offline). */
export function inviteToOffice(dataDir: string, extension: string, now = Date.now()): InviteResult {
  checkExtension(extension);
  const db = openDataDatabase(dataDir);
  try {
    const id = loadIdentity(dataDir, db);
    if (!id.admin || !id.caKeyEncryptedPem)
      throw new IdentityError(
        'this PC is not an office admin (it holds no office CA key): invite from the admin PC',
      );
    const { code, invite } = createInvite({ extension, now, random });
    // One IMMEDIATE transaction (write lock before the read): a concurrent join redeeming another
    // invite must not be lost, and a deferred read-then-write beside the running peer's writes
    // fails at once with "database is locked" (WAL snapshot upgrade), busy_timeout or not.
    db.db
      .transaction(() => {
        const holder = loadEnrolled(db).get(extension);
        if (holder !== undefined) {
          const r = loadUncollected(db).get(extension);
          if (r?.nodeId !== holder) throw new IdentityError(`extension ${extension} is already taken`);
          const left = r.issuedAt + reservationMs() - now;
          if (left > 0)
            throw new IdentityError(
              `extension ${extension} is already taken (by a PC that has not collected its certificate: join again with the same code, or invite again in ${Math.ceil(left / 1000)} s)`,
            );
          // Never collected within the bound: the extension is free again.
          releaseReservation(db, extension);
        }
        saveInvites(db, [...loadInvites(db), invite], now);
      })
      .immediate();
    return { code, expiresAt: invite.expiresAt };
  } finally {
    db.close();
  }
}
