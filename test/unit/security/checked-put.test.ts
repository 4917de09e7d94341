import { describe, expect, it } from 'vitest';
import { checkedPut } from '../../../src/core/records/checked-put.ts';
import { encodeJson } from '../../../src/core/records/kinds.ts';
import { MemoryRecordStore } from '../../../src/core/records/memory-store.ts';
import { depositEntryId } from '../../../src/core/records/resource-names.ts';
import { nodeSignatureProvider } from '../../../src/core/security/signature-provider.ts';
import { OfficeValueValidator } from '../../../src/core/security/value-validator.ts';
import { makeOffice, NOW } from './fixtures.ts';

const office = makeOffice();
const owner = office.enroll('101@office');
const caller = office.enroll('102@office');
const validator = new OfficeValueValidator({
  caCertificatePem: office.ca.certificatePem,
  signatures: nodeSignatureProvider(),
});

const entry = (by: typeof owner, storageTime: number, heard: boolean) =>
  by.signer.sign({
    resourceName: '101@office',
    kind: 'VOICEMAIL',
    key: depositEntryId(caller.nodeId, 'm1'),
    value: encodeJson({
      id: 'm1',
      from: '102',
      time: NOW,
      duration: 1,
      heard,
      size: 1,
      chunkCount: 1,
      chunkSize: 1,
      sha256: '',
    }),
    storageTime,
    lifetime: 60_000,
  });

describe('checkedPut', () => {
  it('passes the slot’s current value to the validator (DEPOSIT) and stores only what passes', () => {
    const store = new MemoryRecordStore();
    expect(checkedPut(store, validator, entry(caller, NOW, false), NOW)).toEqual({
      ok: true,
      replaced: false,
    });
    expect(checkedPut(store, validator, entry(owner, NOW + 1, true), NOW)).toEqual({
      ok: true,
      replaced: true,
    });
    // The caller cannot undo the owner's "heard" mark: the store holds the owner's version.
    expect(checkedPut(store, validator, entry(caller, NOW + 2, false), NOW)).toMatchObject({
      ok: false,
      code: 'forbidden',
    });
    expect(checkedPut(store, validator, entry(owner, NOW - 5, false), NOW)).toMatchObject({
      ok: false,
      code: 'stale',
    });
  });

  it('refuses expired values', () => {
    const store = new MemoryRecordStore();
    expect(checkedPut(store, validator, entry(caller, NOW, false), NOW + 60_000)).toMatchObject({
      ok: false,
      code: 'expired',
    });
    expect(store.count()).toBe(0);
  });
});
