import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityFromAltNames, parseAltNames } from '../../../src/main/overlay-link/peer-identity.ts';
import { issuePeerCert, makeCa } from '../../helpers/certs.ts';

const ID = '0123456789abcdef0123456789abcdef';

describe('peer identity from subjectAltName', () => {
  it('reads Node-ID and user from a real certificate as Node renders it', () => {
    const ca = makeCa();
    const peer = issuePeerCert(ca, { user: '101@office' });
    const san = new X509Certificate(peer.certPem).subjectAltName;
    expect(identityFromAltNames(san)).toEqual({
      ok: true,
      identity: { nodeId: peer.nodeId, user: '101@office' },
    });
  });

  it('tokenizes JSON-quoted values containing separators', () => {
    expect(parseAltNames(`URI:urn:peerpbx:node:${ID}, URI:"sip:a, b", DNS:x`)).toEqual([
      { type: 'URI', value: `urn:peerpbx:node:${ID}` },
      { type: 'URI', value: 'sip:a, b' },
      { type: 'DNS', value: 'x' },
    ]);
    expect(parseAltNames('URI:"unterminated')).toBeNull();
    expect(parseAltNames('garbage')).toBeNull();
  });

  it('refuses missing, duplicated or malformed identities', () => {
    expect(identityFromAltNames(undefined).ok).toBe(false);
    expect(identityFromAltNames('URI:sip:101@office').ok).toBe(false);
    expect(identityFromAltNames(`URI:urn:peerpbx:node:${ID}`).ok).toBe(false);
    expect(identityFromAltNames(`URI:urn:peerpbx:node:${ID.toUpperCase()}, URI:sip:1`).ok).toBe(false);
    expect(identityFromAltNames(`URI:urn:peerpbx:node:${ID}, URI:urn:peerpbx:node:${ID}, URI:sip:1`).ok).toBe(
      false,
    );
    expect(identityFromAltNames(`DNS:urn:peerpbx:node:${ID}, URI:sip:1`).ok).toBe(false);
  });
});
