import { describe, expect, it } from 'vitest';
import { openCaKey } from '../../../src/core/security/ca.ts';
import { createCsr, verifyCertificateChain } from '../../../src/core/security/certificates.ts';
import { type AdminContext, decideJoinRequest } from '../../../src/core/security/enrollment.ts';
import { createInvite } from '../../../src/core/security/join-codes.ts';
import { nodeIdFromPublicKeyPem } from '../../../src/core/security/keys.ts';
import { makeOffice, NOW, newKeyPair, PASSPHRASE, random } from './fixtures.ts';

const office = makeOffice('acme');
const caKey = openCaKey(office.ca.encryptedKeyPem, PASSPHRASE);
if (!caKey.ok) throw new Error(caKey.reason);

function context(over: Partial<AdminContext> = {}): AdminContext {
  return {
    officeName: 'acme',
    caCertificatePem: office.ca.certificatePem,
    caPrivateKey: caKey.ok ? caKey.privateKey : (undefined as never),
    invites: [],
    enrolled: new Map(),
    now: NOW,
    random,
    ...over,
  };
}

describe('join requests at the admin peer', () => {
  const pc = newKeyPair();
  const csrPem = createCsr(pc, 'ignored-subject');

  it('a valid one-time code enrolls the PC and uses the code up', () => {
    const { code, invite } = createInvite({ extension: '101', now: NOW, random });
    const d = decideJoinRequest({ csrPem, extension: '101', code }, context({ invites: [invite] }));
    if (!d.ok) throw new Error(d.reason);
    expect(d.user).toBe('101@acme');
    expect(d.nodeId).toBe(nodeIdFromPublicKeyPem(pc.publicKeyPem));
    expect(verifyCertificateChain(d.certificatePem, office.ca.certificatePem, NOW)).toMatchObject({
      ok: true,
      identity: { user: '101@acme', nodeId: d.nodeId, isAdmin: false },
    });
    expect(d.invites[0].used).toBe(true);
    // The same code a second time is refused.
    const again = decideJoinRequest({ csrPem, extension: '101', code }, context({ invites: d.invites }));
    expect(again).toMatchObject({ ok: false, refusal: 'bad-code', reason: /already used/ });
  });

  it('without a code it waits for approval, and approval enrolls', () => {
    expect(decideJoinRequest({ csrPem, extension: '102' }, context())).toMatchObject({
      ok: false,
      refusal: 'needs-approval',
    });
    expect(decideJoinRequest({ csrPem, extension: '102' }, context(), true)).toMatchObject({
      ok: true,
      user: '102@acme',
    });
  });

  it('refuses a taken extension, but re-issues to the key that holds it', () => {
    const enrolled = new Map([['103', 'f'.repeat(32)]]);
    expect(decideJoinRequest({ csrPem, extension: '103' }, context({ enrolled }), true)).toMatchObject({
      ok: false,
      refusal: 'extension-taken',
      reason: 'extension 103 is already taken',
    });
    const mine = new Map([['103', nodeIdFromPublicKeyPem(pc.publicKeyPem)]]);
    expect(decideJoinRequest({ csrPem, extension: '103' }, context({ enrolled: mine }), true).ok).toBe(true);
  });

  it('refuses bad extensions, wrong codes and garbage CSRs with reasons', () => {
    const { invite } = createInvite({ extension: '104', now: NOW, random });
    expect(decideJoinRequest({ csrPem, extension: '1x' }, context(), true)).toMatchObject({
      refusal: 'bad-extension',
    });
    expect(
      decideJoinRequest({ csrPem, extension: '104', code: 'AAAAA-AAAAA' }, context({ invites: [invite] })),
    ).toMatchObject({
      refusal: 'bad-code',
    });
    expect(decideJoinRequest({ csrPem: 'nope', extension: '104' }, context(), true)).toMatchObject({
      refusal: 'bad-csr',
    });
  });
});
