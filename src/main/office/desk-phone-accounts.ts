// Desk-phone accounts this peer serves (`peerpbx phone add`), kept in the data folder's settings.
// Only HA1 = MD5(extension:realm:password) is stored, never the password: the registrar verifies
// MD5 digests from it (RFC 2617/3261), and a copied database does not reveal the phones' passwords.
// The realm is the office name (the registrar's realm), so an account needs an enrolled folder.
import { createHash } from 'node:crypto';
import type { DeskPhoneAccount } from '../../core/pbx/index.ts';
import type { SettingsStore } from '../store/settings-store.ts';

const KEY = 'deskPhoneAccounts';
const EXTENSION = /^[0-9A-Za-z._-]{1,32}$/;

export class DeskPhoneAccountError extends Error {}

export function digestHa1(extension: string, realm: string, password: string): string {
  return createHash('md5').update(`${extension}:${realm}:${password}`).digest('hex');
}

/** The stored accounts (malformed entries skipped: the settings are ours, but a file may be edited). */
export function deskPhoneAccounts(settings: SettingsStore): DeskPhoneAccount[] {
  const raw = settings.get<unknown>(KEY);
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (a): a is DeskPhoneAccount =>
      typeof a === 'object' &&
      a !== null &&
      typeof (a as DeskPhoneAccount).extension === 'string' &&
      typeof (a as DeskPhoneAccount).ha1 === 'string',
  );
}

/** Adds or replaces the account of `extension`; returns whether it replaced one. */
export function addDeskPhoneAccount(
  settings: SettingsStore,
  a: { extension: string; password: string; realm: string },
): boolean {
  if (!EXTENSION.test(a.extension)) throw new DeskPhoneAccountError(`"${a.extension}" is not an extension`);
  if (a.password.length < 4) throw new DeskPhoneAccountError('the password needs at least 4 characters');
  const others = deskPhoneAccounts(settings).filter((x) => x.extension !== a.extension);
  const replaced = others.length < deskPhoneAccounts(settings).length;
  settings.set(KEY, [
    ...others,
    { extension: a.extension, ha1: digestHa1(a.extension, a.realm, a.password) },
  ]);
  return replaced;
}
