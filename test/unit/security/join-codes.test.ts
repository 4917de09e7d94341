import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkJoinCode,
  createInvite,
  generateJoinCode,
  normalizeJoinCode,
  redeemInvite,
} from '../../../src/core/security/join-codes.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const NOW = 1_700_000_000_000;

describe('join codes', () => {
  it('generates 10-character codes shown as XXXXX-XXXXX that validate', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = generateJoinCode(random);
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
      expect(normalizeJoinCode(code).ok).toBe(true);
      seen.add(code);
    }
    expect(seen.size).toBe(200);
  });

  it('is deterministic given the randomness', () => {
    const fixed = () => new Uint8Array(9).fill(3);
    expect(generateJoinCode(fixed)).toBe(generateJoinCode(fixed));
  });

  it('accepts lower case, spaces and look-alike letters', () => {
    const code = generateJoinCode(() => new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(code.startsWith('01234')).toBe(true);
    const typed = ` ${code.toLowerCase().replace('0', 'o').replace('1', 'l')} `;
    expect(normalizeJoinCode(typed)).toEqual({ ok: true, code: code.replace('-', '') });
  });

  it('detects every single-character typo and adjacent transposition', () => {
    const code = normalizeJoinCode(generateJoinCode(random));
    if (!code.ok) throw new Error('bad code');
    const c = code.code;
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let i = 0; i < c.length; i++) {
      for (const ch of alphabet) {
        if (ch === c[i]) continue;
        const typo = c.slice(0, i) + ch + c.slice(i + 1);
        expect(normalizeJoinCode(typo)).toMatchObject({ ok: false, error: 'checksum' });
      }
    }
    for (let i = 0; i + 1 < c.length; i++) {
      if (c[i] === c[i + 1]) continue;
      const swapped = c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2);
      expect(normalizeJoinCode(swapped).ok).toBe(false);
    }
    expect(normalizeJoinCode('ABC')).toMatchObject({ ok: false, error: 'malformed' });
    expect(normalizeJoinCode('ABCDE-FGHIU')).toMatchObject({ ok: false, error: 'malformed' }); // U is not Crockford
  });

  it('checks a code against invites: extension, expiry, one use', () => {
    const a = createInvite({ extension: '101', now: NOW, random, ttlMs: 60_000 });
    const b = createInvite({ extension: '102', now: NOW, random });
    expect(JSON.stringify(a.invite)).not.toContain(a.code.replace('-', '')); // only the hash is kept
    const invites = [a.invite, b.invite];
    expect(checkJoinCode(a.code, '101', invites, NOW + 1)).toEqual({ ok: true, invite: a.invite });
    expect(checkJoinCode(a.code, '102', invites, NOW + 1)).toMatchObject({
      ok: false,
      error: 'wrong-extension',
    });
    expect(checkJoinCode(a.code, '101', invites, NOW + 60_000)).toMatchObject({
      ok: false,
      error: 'expired',
    });
    expect(checkJoinCode(generateJoinCode(random), '101', invites, NOW)).toMatchObject({
      ok: false,
      error: 'wrong-code',
    });
    const used = [redeemInvite(a.invite), b.invite];
    expect(checkJoinCode(a.code, '101', used, NOW + 1)).toMatchObject({
      ok: false,
      error: 'used',
      reason: /already used/,
    });
    expect(checkJoinCode(b.code, '102', used, NOW + 1).ok).toBe(true);
  });
});
