import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptAsRecipient, encryptForRecipient } from '../../../src/core/security/voicemail-crypto.ts';
import { makeOffice } from './fixtures.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const office = makeOffice();
const owner = office.enroll('101@office');
const other = office.enroll('102@office');
const audio = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
const entry = new TextEncoder().encode('vm-1');

const encrypt = (plaintext = audio) =>
  encryptForRecipient({ plaintext, recipientPem: owner.certificatePem, random, associatedData: entry });

describe('voicemail encryption', () => {
  it('only the owner decrypts', () => {
    const blob = encrypt();
    expect(Buffer.from(blob).includes(Buffer.from(audio.subarray(0, 64)))).toBe(false);
    const mine = decryptAsRecipient(blob, owner.keyPair.privateKeyPem, entry);
    expect(mine.ok && Buffer.from(mine.plaintext).equals(Buffer.from(audio))).toBe(true);
    expect(decryptAsRecipient(blob, other.keyPair.privateKeyPem, entry)).toMatchObject({
      ok: false,
      reason: /unwrap/,
    });
  });

  it('detects tampering anywhere in the blob', () => {
    const blob = encrypt();
    for (const at of [10, 6 + 256 + 3, 6 + 256 + 12 + 5, blob.length - 1]) {
      const t = blob.slice();
      t[at] ^= 0x01;
      expect(decryptAsRecipient(t, owner.keyPair.privateKeyPem, entry).ok).toBe(false);
    }
    expect(
      decryptAsRecipient(blob.subarray(0, blob.length - 10), owner.keyPair.privateKeyPem, entry).ok,
    ).toBe(false);
    expect(decryptAsRecipient(blob.subarray(0, 20), owner.keyPair.privateKeyPem, entry)).toMatchObject({
      reason: /truncated/,
    });
    expect(decryptAsRecipient(new Uint8Array([1, 2, 3]), owner.keyPair.privateKeyPem)).toMatchObject({
      ok: false,
    });
  });

  it('binds the associated data (entry id)', () => {
    const blob = encrypt();
    expect(
      decryptAsRecipient(blob, owner.keyPair.privateKeyPem, new TextEncoder().encode('vm-2')),
    ).toMatchObject({
      ok: false,
      reason: /altered/,
    });
  });

  it('uses the injected randomness: same inputs, same blob; fresh randomness, different blob', () => {
    const fixed = (n: number) => new Uint8Array(n).fill(42);
    const a = encryptForRecipient({
      plaintext: audio,
      recipientPem: owner.keyPair.publicKeyPem,
      random: fixed,
    });
    const b = encryptForRecipient({
      plaintext: audio,
      recipientPem: owner.keyPair.publicKeyPem,
      random: fixed,
    });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(encrypt()).equals(Buffer.from(encrypt()))).toBe(false);
  });

  it('encrypts a 5 MB voicemail and reports the cost', () => {
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => i & 0xff);
    let t = performance.now();
    const blob = encrypt(big);
    const encMs = performance.now() - t;
    t = performance.now();
    const back = decryptAsRecipient(blob, owner.keyPair.privateKeyPem, entry);
    const decMs = performance.now() - t;
    console.log(`5 MB voicemail with forge: encrypt ${encMs.toFixed(0)} ms, decrypt ${decMs.toFixed(0)} ms`);
    expect(back.ok && back.plaintext.length).toBe(big.length);
  });
});
