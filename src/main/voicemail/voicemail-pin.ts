// Checking a *97 PIN against USER-SETTINGS.voicemailPinHash (format: mailbox.ts voicemailPinHash).
import { timingSafeEqual } from 'node:crypto';
import { voicemailPinHash } from './mailbox.ts';

/** Whether `pin` matches the stored hash (constant time; a malformed hash never matches). */
export function pinMatches(office: string, extension: string, pin: string, stored: string): boolean {
  const want = Buffer.from(stored.toLowerCase(), 'hex');
  const got = Buffer.from(voicemailPinHash(office, extension, pin), 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}
