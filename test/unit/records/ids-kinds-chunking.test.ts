import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assembleChunks, splitIntoChunks } from '../../../src/core/records/chunking.ts';
import { inRingInterval, isId128, resourceIdFromName } from '../../../src/core/records/ids.ts';
import { decodeJson, encodeJson, KINDS, keyFitsModel, kindSpec } from '../../../src/core/records/kinds.ts';
import { ownerOfResourceName, voicemailChunkResourceName } from '../../../src/core/records/resource-names.ts';

describe('ids', () => {
  it('derives a 32-hex Resource-ID from the SHA-256 of the name', () => {
    const rid = resourceIdFromName('101@office');
    expect(isId128(rid)).toBe(true);
    expect(rid).toBe(createHash('sha256').update('101@office').digest('hex').slice(0, 32));
    expect(resourceIdFromName('102@office')).not.toBe(rid);
  });

  it('ring intervals are half-open (from, to] with wrap-around', () => {
    const h = (d: string) => d.repeat(32);
    expect(inRingInterval(h('5'), h('1'), h('5'))).toBe(true);
    expect(inRingInterval(h('1'), h('1'), h('5'))).toBe(false);
    expect(inRingInterval(h('f'), h('e'), h('2'))).toBe(true);
    expect(inRingInterval(h('0'), h('e'), h('2'))).toBe(true);
    expect(inRingInterval(h('7'), h('e'), h('2'))).toBe(false);
    expect(inRingInterval(h('7'), h('3'), h('3'))).toBe(true);
  });
});

describe('kinds', () => {
  it('has the table the design asks for', () => {
    expect(KINDS['SIP-REGISTRATION']).toMatchObject({ model: 'dictionary', policy: 'USER-NODE-MATCH' });
    expect(KINDS.VOICEMAIL).toMatchObject({ model: 'dictionary', policy: 'DEPOSIT' });
    expect(KINDS['VOICEMAIL-CHUNK'].policy).toBe('DEPOSIT');
    expect(KINDS['OFFICE-CONFIG'].policy).toBe('ADMIN');
    expect(KINDS.PRESENCE.maxLifetime).toBeLessThanOrEqual(10 * 60_000);
    expect(kindSpec('NOPE')).toBeUndefined();
    expect(kindSpec('toString')).toBeUndefined();
  });

  it('checks key shape per data model', () => {
    expect(keyFitsModel('single', '')).toBe(true);
    expect(keyFitsModel('single', 'x')).toBe(false);
    expect(keyFitsModel('array', '12')).toBe(true);
    expect(keyFitsModel('array', '012')).toBe(false);
    expect(keyFitsModel('dictionary', '')).toBe(false);
  });

  it('checks the structure of values', () => {
    const reg = encodeJson({ contacts: [{ uri: 'sip:101@10.0.0.5:5060', transport: 'UDP' }] });
    expect(KINDS['SIP-REGISTRATION'].check(reg)).toBeNull();
    expect(KINDS['SIP-REGISTRATION'].check(encodeJson({ contacts: [{ uri: 'http://x' }] }))).toMatch(/sip/);
    expect(KINDS.PRESENCE.check(encodeJson({ state: 'dnd' }))).toBeNull();
    expect(KINDS.PRESENCE.check(encodeJson({ state: 'sleeping' }))).toMatch(/presence/);
    expect(KINDS['USER-SETTINGS'].check(new Uint8Array([0xff, 0xfe]))).toMatch(/UTF-8 JSON/);
    expect(decodeJson(new Uint8Array([0x7b]))).toMatchObject({ ok: false });
  });

  it('names resources so the owner is the part before the first slash', () => {
    const chunk = voicemailChunkResourceName('101@office', 'e1', 3);
    expect(chunk).toBe('101@office/vm/e1/3');
    expect(ownerOfResourceName(chunk)).toBe('101@office');
    expect(ownerOfResourceName('101@office')).toBe('101@office');
  });
});

describe('chunking', () => {
  const data = new Uint8Array(5 * 1024 * 1024 + 17).map((_, i) => (i * 31) & 0xff);

  it('splits 5 MB into 64 KiB chunks and reassembles it', () => {
    const { manifest, chunks } = splitIntoChunks(data);
    expect(manifest.chunkCount).toBe(81);
    expect(chunks[80].length).toBe(17);
    const back = assembleChunks(manifest, chunks);
    expect(back.ok && back.data.length).toBe(data.length);
    expect(back.ok && Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
  });

  it('detects missing and altered chunks', () => {
    const { manifest, chunks } = splitIntoChunks(data.subarray(0, 1000), 100);
    const missing = [...chunks];
    missing[4] = undefined as unknown as Uint8Array;
    expect(assembleChunks(manifest, missing)).toMatchObject({ ok: false, error: 'chunk 4 missing' });
    const altered = chunks.map((c) => c.slice());
    altered[2][0] ^= 1;
    expect(assembleChunks(manifest, altered)).toMatchObject({ ok: false, error: /SHA-256/ });
    expect(assembleChunks(manifest, chunks.slice(1))).toMatchObject({ ok: false });
  });
});
