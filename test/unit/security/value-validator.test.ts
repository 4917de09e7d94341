import { describe, expect, it } from 'vitest';
import { encodeJson } from '../../../src/core/records/kinds.ts';
import { depositEntryId, voicemailChunkResourceName } from '../../../src/core/records/resource-names.ts';
import type { StoredValue } from '../../../src/core/records/types.ts';
import {
  forgeSignatureProvider,
  nodeSignatureProvider,
} from '../../../src/core/security/signature-provider.ts';
import { signedBytes, signValue } from '../../../src/core/security/value-signing.ts';
import { OfficeValueValidator } from '../../../src/core/security/value-validator.ts';
import { makeOffice, NOW } from './fixtures.ts';

const office = makeOffice('office', forgeSignatureProvider());
const alice = office.enroll('101@office');
const bob = office.enroll('102@office');
const admin = office.enroll('100@office', { isAdmin: true });
const validator = new OfficeValueValidator({ caCertificatePem: office.ca.certificatePem });

const registration = (signerNode = alice.nodeId) =>
  alice.signer.sign({
    resourceName: '101@office',
    kind: 'SIP-REGISTRATION',
    key: signerNode,
    value: encodeJson({ contacts: [{ uri: 'sip:101@10.0.0.5:5060' }] }),
    storageTime: NOW,
    lifetime: 3600_000,
  });

/** A VOICEMAIL entry written by `by`; its id is made for `depositor` (default: the writer). */
const voicemail = (
  by: typeof alice,
  id: string,
  over: { exists?: boolean; storageTime?: number; depositor?: typeof alice } = {},
) =>
  by.signer.sign({
    resourceName: '101@office',
    kind: 'VOICEMAIL',
    key: depositEntryId((over.depositor ?? by).nodeId, id),
    value: encodeJson({
      id,
      from: by.user,
      time: NOW,
      duration: 4000,
      heard: false,
      size: 10,
      chunkCount: 1,
      chunkSize: 65536,
      sha256: '00',
    }),
    storageTime: over.storageTime ?? NOW,
    lifetime: 30 * 24 * 3600_000,
    exists: over.exists,
  });

/** Re-sign a modified value with the given key (a valid signature over wrong content). */
const resign = (v: StoredValue, privateKeyPem: string) =>
  signValue(v, privateKeyPem, forgeSignatureProvider());

describe('OfficeValueValidator', () => {
  it('accepts a value signed by its owner', () => {
    expect(validator.validate(registration(), NOW)).toEqual({ ok: true });
  });

  it('refuses a tampered value', () => {
    const v = registration();
    const tampered = { ...v, value: encodeJson({ contacts: [{ uri: 'sip:101@6.6.6.6' }] }) };
    expect(validator.validate(tampered, NOW)).toMatchObject({
      ok: false,
      code: 'bad-signature',
      reason: /does not verify/,
    });
    expect(validator.validate({ ...v, storageTime: NOW + 1 }, NOW)).toMatchObject({ code: 'bad-signature' });
    expect(validator.validate({ ...v, exists: false }, NOW)).toMatchObject({ code: 'bad-signature' });
  });

  it('refuses a forged signature', () => {
    const v = registration();
    const forged = { ...v, signature: v.signature.map((b, i) => (i === 10 ? b ^ 1 : b)) };
    expect(validator.validate(forged, NOW)).toMatchObject({ ok: false, code: 'bad-signature' });
    expect(validator.validate({ ...v, signature: new Uint8Array(3) }, NOW)).toMatchObject({
      code: 'bad-signature',
    });
  });

  it("refuses a value signed by bob's key but claiming alice's certificate", () => {
    const v = resign(registration(), bob.keyPair.privateKeyPem);
    expect(validator.validate(v, NOW)).toMatchObject({ code: 'bad-signature', reason: /does not verify/ });
  });

  it("refuses a signer whose claimed identity is not its certificate's", () => {
    const v = resign(
      { ...registration(), signer: { ...alice.signer.identity, user: '102@office' } },
      alice.keyPair.privateKeyPem,
    );
    expect(validator.validate(v, NOW)).toMatchObject({
      code: 'bad-signature',
      reason: /certificate is 101@office/,
    });
  });

  it('refuses the wrong user (USER-MATCH / USER-NODE-MATCH)', () => {
    const v = bob.signer.sign({
      resourceName: '101@office',
      kind: 'SIP-REGISTRATION',
      key: bob.nodeId,
      value: encodeJson({ contacts: [{ uri: 'sip:101@6.6.6.6' }] }),
      storageTime: NOW,
      lifetime: 60_000,
    });
    expect(validator.validate(v, NOW)).toMatchObject({
      code: 'forbidden',
      reason: /102@office may not write/,
    });
    const presence = bob.signer.sign({
      resourceName: '101@office',
      kind: 'PRESENCE',
      value: encodeJson({ state: 'dnd' }),
      storageTime: NOW,
      lifetime: 60_000,
    });
    expect(validator.validate(presence, NOW)).toMatchObject({ code: 'forbidden', reason: /USER-MATCH/ });
  });

  it("refuses a registration keyed by another node's id (USER-NODE-MATCH)", () => {
    expect(validator.validate(registration(bob.nodeId), NOW)).toMatchObject({
      code: 'forbidden',
      reason: /not the signer's Node-ID/,
    });
  });

  describe('desk-phone gateway entries (SIP-REGISTRATION of another extension)', () => {
    const gatewayEntry = (
      contacts: unknown[],
      key = bob.nodeId,
      resourceName = '201@office',
      exists = true,
    ) =>
      bob.signer.sign({
        resourceName,
        kind: 'SIP-REGISTRATION',
        key,
        value: encodeJson({ contacts }),
        storageTime: NOW,
        lifetime: 60_000,
        exists,
      });
    const phone = (nodeId = bob.nodeId) => ({
      uri: 'sip:201@10.0.0.6:5060',
      expires: NOW + 60_000,
      nodeId,
      deskPhone: true,
    });

    it('accepts an entry keyed by the gateway whose contacts are all its own desk phones', () => {
      expect(validator.validate(gatewayEntry([phone()]), NOW)).toEqual({ ok: true });
      expect(validator.validate(gatewayEntry([], bob.nodeId, '201@office', false), NOW)).toEqual({
        ok: true,
      });
    });

    it('refuses other keys, non-desk-phone contacts, foreign gateways, empty lists and other offices', () => {
      const refused = [
        gatewayEntry([phone()], alice.nodeId),
        gatewayEntry([{ ...phone(), deskPhone: false }]),
        gatewayEntry([phone(alice.nodeId)]),
        gatewayEntry([phone(), { uri: 'sip:201@6.6.6.6' }]),
        gatewayEntry([]),
        gatewayEntry([phone()], bob.nodeId, '201@elsewhere'),
      ];
      for (const v of refused) expect(validator.validate(v, NOW)).toMatchObject({ code: 'forbidden' });
    });
  });

  it('refuses certificates of another office, and expired ones', () => {
    const stranger = makeOffice('office', forgeSignatureProvider()).enroll('101@office');
    const v = stranger.signer.sign({
      resourceName: '101@office',
      kind: 'PRESENCE',
      value: encodeJson({ state: 'away' }),
      storageTime: NOW,
      lifetime: 60_000,
    });
    expect(validator.validate(v, NOW)).toMatchObject({ code: 'bad-signature', reason: /office CA/ });
    const later = NOW + 10 * 365 * 24 * 3600_000;
    const old = alice.signer.sign({
      resourceName: '101@office',
      kind: 'PRESENCE',
      value: encodeJson({ state: 'away' }),
      storageTime: later,
      lifetime: 60_000,
    });
    expect(validator.validate(old, later)).toMatchObject({ code: 'bad-signature', reason: /expired/ });
  });

  describe('DEPOSIT (voicemail)', () => {
    it('lets any member add an entry signed by itself', () => {
      expect(validator.validate(voicemail(bob, 'm1'), NOW, undefined)).toEqual({ ok: true });
    });

    it('lets the depositor update its own entry', () => {
      expect(
        validator.validate(voicemail(bob, 'm1', { storageTime: NOW + 1 }), NOW, voicemail(bob, 'm1')),
      ).toEqual({ ok: true });
    });

    it('refuses a non-owner deleting an entry, even its own', () => {
      const del = voicemail(bob, 'm1', { exists: false, storageTime: NOW + 1 });
      expect(validator.validate(del, NOW, voicemail(bob, 'm1'))).toMatchObject({
        code: 'forbidden',
        reason: /only 101@office may delete/,
      });
    });

    it('refuses a non-owner writing an entry id made for someone else, held or not', () => {
      const v = voicemail(bob, 'm1', { depositor: admin });
      expect(validator.validate(v, NOW)).toMatchObject({
        code: 'forbidden',
        reason: /starts with its Node-ID/,
      });
      expect(validator.validate(v, NOW, voicemail(admin, 'm1'))).toMatchObject({ code: 'forbidden' });
    });

    it('refuses a depositor overwriting its entry after the owner marked it (store-side, with existing)', () => {
      const marked = voicemail(alice, 'm1', { depositor: bob });
      const rewrite = voicemail(bob, 'm1', { storageTime: NOW + 1 });
      expect(validator.validate(rewrite, NOW)).toEqual({ ok: true }); // a fetching peer cannot tell
      expect(validator.validate(rewrite, NOW, marked)).toMatchObject({
        code: 'forbidden',
        reason: /may not replace .* written by 101@office/,
      });
    });

    it('checks chunk resources by the entry id in their name', () => {
      const chunk = (by: typeof alice, entry: string) =>
        by.signer.sign({
          resourceName: voicemailChunkResourceName('101@office', entry, 0),
          kind: 'VOICEMAIL-CHUNK',
          value: new Uint8Array(1000),
          storageTime: NOW,
          lifetime: 60_000,
        });
      expect(validator.validate(chunk(bob, depositEntryId(bob.nodeId, 'm1')), NOW)).toEqual({ ok: true });
      expect(validator.validate(chunk(bob, depositEntryId(admin.nodeId, 'm1')), NOW)).toMatchObject({
        code: 'forbidden',
      });
      expect(validator.validate(chunk(alice, 'anything'), NOW)).toEqual({ ok: true });
    });

    it('lets the owner delete and mark entries written by others', () => {
      const existing = voicemail(bob, 'm1');
      const del = voicemail(alice, 'm1', { exists: false, storageTime: NOW + 1, depositor: bob });
      expect(del.key).toBe(existing.key);
      expect(validator.validate(del, NOW, existing)).toEqual({ ok: true });
      const mark = voicemail(alice, 'm1', { storageTime: NOW + 1, depositor: bob });
      expect(validator.validate(mark, NOW, existing)).toEqual({ ok: true });
    });
  });

  it('ADMIN kinds need an admin certificate', () => {
    const config = (p: typeof alice) =>
      p.signer.sign({
        resourceName: 'office-config@office',
        kind: 'OFFICE-CONFIG',
        value: encodeJson({ dialPlan: [] }),
        storageTime: NOW,
        lifetime: 60_000,
      });
    expect(validator.validate(config(admin), NOW)).toEqual({ ok: true });
    expect(validator.validate(config(alice), NOW)).toMatchObject({
      code: 'forbidden',
      reason: /not an office administrator/,
    });
  });

  it('refuses oversize values, long lifetimes, future times, bad shapes and malformed data', () => {
    const base = { resourceName: '101@office', storageTime: NOW, lifetime: 60_000 };
    const big = alice.signer.sign({ ...base, kind: 'PRESENCE', value: new Uint8Array(2000) });
    expect(validator.validate(big, NOW)).toMatchObject({
      code: 'too-large',
      reason: /2000 bytes exceeds PRESENCE/,
    });
    const long = alice.signer.sign({
      ...base,
      kind: 'PRESENCE',
      value: encodeJson({ state: 'away' }),
      lifetime: 3600_000,
    });
    expect(validator.validate(long, NOW)).toMatchObject({ code: 'invalid', reason: /lifetime/ });
    const future = alice.signer.sign({
      ...base,
      kind: 'PRESENCE',
      value: encodeJson({ state: 'away' }),
      storageTime: NOW + 3600_000,
    });
    expect(validator.validate(future, NOW)).toMatchObject({ code: 'invalid', reason: /future/ });
    const garbage = alice.signer.sign({ ...base, kind: 'PRESENCE', value: encodeJson({ state: 'asleep' }) });
    expect(validator.validate(garbage, NOW)).toMatchObject({ code: 'invalid', reason: /presence state/ });
    const v = registration();
    expect(
      validator.validate(resign({ ...v, model: 'single' }, alice.keyPair.privateKeyPem), NOW),
    ).toMatchObject({ code: 'invalid' });
    expect(
      validator.validate(resign({ ...v, resourceName: '102@office' }, alice.keyPair.privateKeyPem), NOW),
    ).toMatchObject({
      code: 'invalid',
      reason: /resourceId is not the hash/,
    });
    expect(validator.validate({ ...v, kind: 'NOPE' as 'TEST' }, NOW)).toMatchObject({
      code: 'invalid',
      reason: /unknown kind/,
    });
  });

  it('accepts tombstones without a data check', () => {
    const del = alice.signer.sign({
      resourceName: '101@office',
      kind: 'PRESENCE',
      value: new Uint8Array(0),
      exists: false,
      storageTime: NOW,
      lifetime: 60_000,
    });
    expect(validator.validate(del, NOW)).toEqual({ ok: true });
  });

  it('signed bytes differ for every field', () => {
    const v = registration();
    const base = Buffer.from(signedBytes(v));
    const variants: StoredValue[] = [
      { ...v, key: `${v.key}x` },
      { ...v, kind: 'TEST' },
      { ...v, lifetime: v.lifetime + 1 },
      { ...v, resourceName: 'x' },
      { ...v, signer: { ...v.signer, user: 'x@y' } },
      // Moving a byte between adjacent fields must change the encoding too.
      { ...v, key: v.key.slice(0, -1), value: new Uint8Array([v.key.charCodeAt(31), ...v.value]) },
    ];
    for (const x of variants) expect(Buffer.from(signedBytes(x)).equals(base)).toBe(false);
  });

  it('verifies with forge and with Node crypto alike, and reports the cost', () => {
    const values = Array.from({ length: 50 }, (_, i) =>
      alice.signer.sign({
        resourceName: '101@office',
        kind: 'TEST',
        key: `k${i}`,
        value: new Uint8Array(100),
        storageTime: NOW,
        lifetime: 60_000,
      }),
    );
    const fast = new OfficeValueValidator({
      caCertificatePem: office.ca.certificatePem,
      signatures: nodeSignatureProvider(),
    });
    const time = (vv: OfficeValueValidator) => {
      vv.validate(values[0], NOW); // warm the certificate cache
      const t0 = performance.now();
      for (const v of values) expect(vv.validate(v, NOW)).toEqual({ ok: true });
      return (performance.now() - t0) / values.length;
    };
    const forgeMs = time(new OfficeValueValidator({ caCertificatePem: office.ca.certificatePem }));
    const nodeMs = time(fast);
    console.log(
      `validate() per value, certificate cached: forge ${forgeMs.toFixed(3)} ms, node:crypto ${nodeMs.toFixed(3)} ms`,
    );
    expect(forgeMs).toBeGreaterThan(0);
  });
});

describe('published CERTIFICATE records', () => {
  const publish = (by: typeof alice, pem: string) =>
    by.signer.sign({
      resourceName: by.user,
      kind: 'CERTIFICATE',
      value: new TextEncoder().encode(pem),
      storageTime: NOW,
      lifetime: 60_000,
    });

  it('accept the owner’s own office certificate', () => {
    expect(validator.validate(publish(alice, alice.certificatePem), NOW)).toEqual({ ok: true });
  });

  it('refuse a certificate of another user or another office', () => {
    expect(validator.validate(publish(alice, bob.certificatePem), NOW)).toMatchObject({
      code: 'invalid',
      reason: /for 102@office, not 101@office/,
    });
    const stranger = makeOffice('office', forgeSignatureProvider()).enroll('101@office');
    expect(validator.validate(publish(alice, stranger.certificatePem), NOW)).toMatchObject({
      code: 'invalid',
    });
  });
});

describe('hostile values', () => {
  it('never throw: every malformed field is a refusal with a reason', () => {
    const good = registration();
    const junk: unknown[] = [
      undefined,
      null,
      0,
      -1,
      1.5,
      Number.NaN,
      '',
      'x',
      {},
      [],
      new Uint8Array(0),
      { length: 3 },
    ];
    const fields = Object.keys(good) as Array<keyof StoredValue>;
    const accepted: string[] = [];
    for (const f of fields) {
      for (const j of junk) {
        const bad = { ...good, [f]: j } as unknown as StoredValue;
        const r = validator.validate(bad, NOW);
        if (r.ok) accepted.push(`${f}=${String(j)}`);
        else expect(r.reason.length).toBeGreaterThan(0);
      }
    }
    expect(accepted).toEqual([]);
    for (const j of junk) {
      for (const s of ['nodeId', 'user', 'certificate'] as const) {
        const r = validator.validate(
          { ...good, signer: { ...good.signer, [s]: j } } as unknown as StoredValue,
          NOW,
        );
        expect(r.ok).toBe(false);
      }
    }
    expect(validator.validate({ ...good, signer: null } as unknown as StoredValue, NOW).ok).toBe(false);
    expect(
      validator.validate(
        {
          ...good,
          signer: {
            ...good.signer,
            certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
          },
        },
        NOW,
      ).ok,
    ).toBe(false);
  });
});
