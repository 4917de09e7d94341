// DEVICE-STATE (a gateway's word on a desk phone's call state): any member of the office may write
// it for another extension, but only under its own Node-ID key, never another member's.
import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../../src/core/records/kinds.ts';
import { forgeSignatureProvider } from '../../../src/core/security/signature-provider.ts';
import { OfficeValueValidator } from '../../../src/core/security/value-validator.ts';
import { makeOffice, NOW } from './fixtures.ts';

const office = makeOffice('office', forgeSignatureProvider());
const owner = office.enroll('202@office');
const gateway = office.enroll('101@office');
const other = office.enroll('102@office');
const validator = new OfficeValueValidator({ caCertificatePem: office.ca.certificatePem });

type Member = typeof owner;
const deviceState = (
  by: Member,
  over: { key?: string; resource?: string; exists?: boolean; value?: unknown; lifetime?: number } = {},
) =>
  by.signer.sign({
    resourceName: over.resource ?? '202@office',
    kind: 'DEVICE-STATE',
    key: over.key ?? by.nodeId,
    value: encodeJson(over.value ?? { state: 'on-call', since: NOW }),
    storageTime: NOW,
    lifetime: over.lifetime ?? 12_000,
    exists: over.exists,
  });

describe('DEVICE-STATE policy', () => {
  it('accepts a gateway entry under its own Node-ID, and its tombstone', () => {
    expect(validator.validate(deviceState(gateway), NOW)).toEqual({ ok: true });
    expect(validator.validate(deviceState(gateway, { exists: false }), NOW)).toEqual({ ok: true });
    expect(validator.validate(deviceState(owner), NOW)).toEqual({ ok: true });
  });

  it("refuses an entry under another member's Node-ID key (write or tombstone)", () => {
    for (const v of [
      deviceState(other, { key: gateway.nodeId }),
      deviceState(other, { key: gateway.nodeId, exists: false }),
      deviceState(gateway, { key: owner.nodeId }),
      deviceState(owner, { key: gateway.nodeId }),
    ])
      expect(validator.validate(v, NOW)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('refuses another office, a bad state, a long lifetime and a tampered key', () => {
    expect(validator.validate(deviceState(gateway, { resource: '202@elsewhere' }), NOW)).toMatchObject({
      code: 'forbidden',
    });
    expect(validator.validate(deviceState(gateway, { value: { state: 'dnd' } }), NOW)).toMatchObject({
      code: 'invalid',
    });
    expect(validator.validate(deviceState(gateway, { lifetime: 3600_000 }), NOW)).toMatchObject({
      code: 'invalid',
    });
    const moved = { ...deviceState(other), key: gateway.nodeId };
    expect(validator.validate(moved, NOW)).toMatchObject({ ok: false, code: 'bad-signature' });
  });

  it('keeps SIP-REGISTRATION gateway entries bound to desk-phone contacts', () => {
    const v = gateway.signer.sign({
      resourceName: '202@office',
      kind: 'SIP-REGISTRATION',
      key: gateway.nodeId,
      value: encodeJson({ contacts: [{ uri: 'sip:202@10.0.0.6' }] }),
      storageTime: NOW,
      lifetime: 60_000,
    });
    expect(validator.validate(v, NOW)).toMatchObject({ code: 'forbidden' });
  });
});
