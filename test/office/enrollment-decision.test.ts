// The admin's pure decision on a repeated join (src/core/security/enrollment.ts): an issued but
// uncollected certificate holds its extension only against other keys with other codes, and only
// until the reservation bound.
import { describe, expect, it } from 'vitest';
import { openCaKey } from '../../src/core/security/ca.ts';
import { createCsr } from '../../src/core/security/certificates.ts';
import {
  type AdminContext,
  decideJoinRequest,
  hashOfCode,
  type Reservation,
} from '../../src/core/security/enrollment.ts';
import { createInvite, type Invite } from '../../src/core/security/join-codes.ts';
import { nodeIdFromPublicKeyPem } from '../../src/core/security/keys.ts';
import { makeOffice, NOW, newKeyPair, PASSPHRASE, random } from '../unit/security/fixtures.ts';

const office = makeOffice('acme');
const caKey = openCaKey(office.ca.encryptedKeyPem, PASSPHRASE);
if (!caKey.ok) throw new Error(caKey.reason);
const BOUND = 60_000;

function context(over: Partial<AdminContext>): AdminContext {
  return {
    officeName: 'acme',
    caCertificatePem: office.ca.certificatePem,
    caPrivateKey: caKey.ok ? caKey.privateKey : (undefined as never),
    invites: [],
    enrolled: new Map(),
    reservationMs: BOUND,
    now: NOW,
    random,
    ...over,
  };
}

const pc = () => {
  const keys = newKeyPair();
  return { csrPem: createCsr(keys, 'x'), nodeId: nodeIdFromPublicKeyPem(keys.publicKeyPem) };
};

describe('a repeated join for an issued certificate', () => {
  const first = pc();
  const { code, invite } = createInvite({ extension: '102', now: NOW, random });
  // The state after the first join was decided: code used, extension the first key's, uncollected.
  const used: Invite[] = [{ ...invite, used: true }];
  const enrolled = new Map([['102', first.nodeId]]);
  const reservation: Reservation = { nodeId: first.nodeId, issuedAt: NOW, codeHash: hashOfCode(code) };
  const uncollected = new Map([['102', reservation]]);

  it('the same key with the same used code gets its certificate again', () => {
    const d = decideJoinRequest(
      { csrPem: first.csrPem, extension: '102', code },
      context({ invites: used, enrolled, uncollected }),
    );
    expect(d).toMatchObject({ ok: true, nodeId: first.nodeId });
    expect(d.ok && d.released).toBeUndefined();
  });

  it('a new key with the same code takes the uncollected certificate over', () => {
    const next = pc();
    const d = decideJoinRequest(
      { csrPem: next.csrPem, extension: '102', code },
      context({ invites: used, enrolled, uncollected, now: NOW + 1000 }),
    );
    expect(d).toMatchObject({ ok: true, nodeId: next.nodeId, released: first.nodeId });
  });

  it('a new key with the same code is refused once the certificate was collected', () => {
    const d = decideJoinRequest(
      { csrPem: pc().csrPem, extension: '102', code },
      context({ invites: used, enrolled, uncollected: new Map() }),
    );
    expect(d).toMatchObject({
      ok: false,
      refusal: 'extension-taken',
      reason: 'extension 102 is already taken',
    });
  });

  it('another PC with another code is refused until the bound, then enrolled', () => {
    const other = pc();
    const fresh = createInvite({ extension: '102', now: NOW, random });
    const ask = (now: number, approved = false, withCode = true) =>
      decideJoinRequest(
        { csrPem: other.csrPem, extension: '102', ...(withCode ? { code: fresh.code } : {}) },
        context({ invites: [...used, fresh.invite], enrolled, uncollected, now }),
        approved,
      );
    expect(ask(NOW + BOUND - 1)).toMatchObject({ ok: false, refusal: 'extension-taken' });
    expect(ask(NOW + BOUND - 1, true, false)).toMatchObject({ ok: false, refusal: 'extension-taken' });
    expect(ask(NOW + BOUND)).toMatchObject({ ok: true, nodeId: other.nodeId, released: first.nodeId });
    expect(ask(NOW + BOUND, true, false)).toMatchObject({ ok: true, released: first.nodeId });
  });

  it('a used code of another extension or a wrong code buys nothing', () => {
    const other = createInvite({ extension: '103', now: NOW, random });
    expect(
      decideJoinRequest(
        { csrPem: first.csrPem, extension: '102', code: other.code },
        context({ invites: [...used, { ...other.invite, used: true }], enrolled, uncollected }),
      ),
    ).toMatchObject({ ok: false, refusal: 'bad-code' });
    // Without the reservation, a stale-looking hold does not exist: plain taken.
    expect(
      decideJoinRequest(
        { csrPem: pc().csrPem, extension: '102', code },
        context({ invites: used, enrolled, now: NOW + 10 * BOUND }),
      ),
    ).toMatchObject({ ok: false, refusal: 'extension-taken' });
  });
});
