// One-time join codes. The admin peer runs `office invite --extension E` and reads the code to the
// new user; the joining PC sends it with its CSR. A code is 10 Crockford base32 characters (9 random
// = 45 bits, plus a Luhn mod 32 check character that catches every single typo and adjacent swap
// before the network is involved), shown as XXXXX-XXXXX. The admin peer stores only a hash of the
// code, with the extension it is for, an expiry and a used flag.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { RandomBytes } from './keys.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DATA_CHARS = 9;
const N = ALPHABET.length;
export const DEFAULT_INVITE_TTL_MS = 24 * 3600 * 1000;

export interface Invite {
  extension: string;
  /** hex SHA-256 of the normalized code; the code itself is never stored. */
  codeHash: string;
  createdAt: number;
  expiresAt: number;
  used: boolean;
}

export type JoinCodeError = 'malformed' | 'checksum' | 'wrong-code' | 'expired' | 'used' | 'wrong-extension';
export type JoinCodeCheck =
  | { ok: true; invite: Invite }
  | { ok: false; error: JoinCodeError; reason: string };

function luhnCheckChar(data: string): string {
  let factor = 2;
  let sum = 0;
  for (let i = data.length - 1; i >= 0; i--) {
    let addend = factor * ALPHABET.indexOf(data[i]);
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
  }
  return ALPHABET[(N - (sum % N)) % N];
}

/** Upper-cases, drops separators and maps Crockford's look-alikes (O->0, I/L->1). */
export function normalizeJoinCode(
  input: string,
): { ok: true; code: string } | { ok: false; error: JoinCodeError; reason: string } {
  const code = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (code.length !== DATA_CHARS + 1 || ![...code].every((c) => ALPHABET.includes(c))) {
    return {
      ok: false,
      error: 'malformed',
      reason: 'a join code has 10 letters and digits, like 7K3QF-X92MB',
    };
  }
  if (luhnCheckChar(code.slice(0, DATA_CHARS)) !== code[DATA_CHARS]) {
    return {
      ok: false,
      error: 'checksum',
      reason: 'the join code has a typo (check character does not match)',
    };
  }
  return { ok: true, code };
}

export function formatJoinCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

export function hashJoinCode(normalizedCode: string): string {
  return createHash('sha256').update(`peerpbx-join-code:${normalizedCode}`).digest('hex');
}

export function generateJoinCode(random: RandomBytes): string {
  // 256 is a multiple of 32: masking each byte keeps the characters uniform.
  const data = [...random(DATA_CHARS)].map((b) => ALPHABET[b & 31]).join('');
  return formatJoinCode(data + luhnCheckChar(data));
}

export function createInvite(opts: { extension: string; now: number; random: RandomBytes; ttlMs?: number }): {
  code: string;
  invite: Invite;
} {
  const code = generateJoinCode(opts.random);
  const normalized = normalizeJoinCode(code);
  if (!normalized.ok) throw new Error('generated an invalid join code'); // unreachable
  return {
    code,
    invite: {
      extension: opts.extension,
      codeHash: hashJoinCode(normalized.code),
      createdAt: opts.now,
      expiresAt: opts.now + (opts.ttlMs ?? DEFAULT_INVITE_TTL_MS),
      used: false,
    },
  };
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a typed code against the admin peer's invites for the extension the PC asks for. */
export function checkJoinCode(
  input: string,
  extension: string,
  invites: readonly Invite[],
  now: number,
): JoinCodeCheck {
  const n = normalizeJoinCode(input);
  if (!n.ok) return n;
  const hash = hashJoinCode(n.code);
  const invite = invites.find((i) => sameHash(i.codeHash, hash));
  if (!invite) return { ok: false, error: 'wrong-code', reason: 'no invitation has this join code' };
  if (invite.extension !== extension) {
    return {
      ok: false,
      error: 'wrong-extension',
      reason: `this join code is for extension ${invite.extension}, not ${extension}`,
    };
  }
  if (invite.used) return { ok: false, error: 'used', reason: 'this join code was already used' };
  if (now >= invite.expiresAt) return { ok: false, error: 'expired', reason: 'this join code has expired' };
  return { ok: true, invite };
}

/** The invite after a successful enrollment: a code works once. */
export function redeemInvite(invite: Invite): Invite {
  return { ...invite, used: true };
}
