import { describe, expect, it } from 'vitest';
import { checkedPut } from '../../../src/core/records/checked-put.ts';
import { MemoryRecordStore } from '../../../src/core/records/memory-store.ts';
import { nodeSignatureProvider } from '../../../src/core/security/signature-provider.ts';
import { OfficeValueValidator } from '../../../src/core/security/value-validator.ts';
import {
  buildVoicemailDeposit,
  deleteVoicemail,
  markVoicemailHeard,
  openVoicemail,
  readVoicemailEntry,
} from '../../../src/core/security/voicemail-deposit.ts';
import { makeOffice, NOW, random } from './fixtures.ts';

const office = makeOffice();
const owner = office.enroll('101@office');
const caller = office.enroll('102@office');
const validator = new OfficeValueValidator({
  caCertificatePem: office.ca.certificatePem,
  signatures: nodeSignatureProvider(),
});
const audio = new Uint8Array(300_000).map((_, i) => (i * 13) & 0xff);
const DAY = 24 * 3600_000;

const deposit = () => buildVoicemailDeposit(depositInputs());

describe('voicemail deposit', () => {
  it('a caller deposits; every record passes the validator; only the owner hears it', () => {
    const d = deposit();
    expect(d.entryId.startsWith(caller.nodeId)).toBe(true);
    expect(d.chunks).toHaveLength(5); // 300 kB encrypted, 64 KiB chunks
    const store = new MemoryRecordStore();
    for (const v of [d.entry, ...d.chunks])
      expect(checkedPut(store, validator, v, NOW)).toMatchObject({ ok: true });

    const opened = openVoicemail(d.entry, d.chunks, owner.keyPair.privateKeyPem);
    expect(opened.ok && Buffer.from(opened.audio).equals(Buffer.from(audio))).toBe(true);
    expect(opened.ok && opened.meta).toMatchObject({ from: '102', duration: 18_000, heard: false });
    expect(openVoicemail(d.entry, d.chunks, caller.keyPair.privateKeyPem)).toMatchObject({ ok: false });
  });

  it('reports a missing chunk and refuses chunks of another message', () => {
    const d = deposit();
    const missing = [...d.chunks];
    missing[2] = undefined as never;
    expect(openVoicemail(d.entry, missing, owner.keyPair.privateKeyPem)).toMatchObject({
      ok: false,
      error: /chunk 2/,
    });
    const other = buildVoicemailDeposit({ ...depositInputs(), unique: 'other' });
    expect(openVoicemail(d.entry, other.chunks, owner.keyPair.privateKeyPem).ok).toBe(false);
  });

  it('the owner marks heard and deletes; the caller cannot delete', () => {
    const d = deposit();
    const meta = readVoicemailEntry(d.entry);
    if (!meta.ok) throw new Error(meta.error);
    const store = new MemoryRecordStore();
    for (const v of [d.entry, ...d.chunks]) checkedPut(store, validator, v, NOW);

    const heard = markVoicemailHeard(d.entry, meta.meta, owner.signer, NOW);
    expect(checkedPut(store, validator, heard, NOW)).toEqual({ ok: true, replaced: true });
    expect(readVoicemailEntry(store.get(d.entry.resourceId, NOW, 'VOICEMAIL')[0])).toMatchObject({
      meta: { heard: true },
    });

    const byCaller = deleteVoicemail(d.entry, meta.meta, caller.signer, NOW + 5);
    expect(checkedPut(store, validator, byCaller[0], NOW + 5)).toMatchObject({
      ok: false,
      code: 'forbidden',
    });

    const tombstones = deleteVoicemail(heard, meta.meta, owner.signer, NOW + 10);
    expect(tombstones).toHaveLength(1 + d.chunks.length);
    for (const t of tombstones)
      expect(checkedPut(store, validator, t, NOW + 10)).toEqual({ ok: true, replaced: true });
    expect(store.get(d.entry.resourceId, NOW + 10, 'VOICEMAIL')[0].exists).toBe(false);
  });
});

function depositInputs() {
  return {
    owner: '101@office',
    ownerCertificatePem: owner.certificatePem,
    audio,
    from: '102',
    time: NOW,
    duration: 18_000,
    unique: 'a1b2',
    signer: caller.signer,
    now: NOW,
    lifetime: 30 * DAY,
    random,
  };
}
