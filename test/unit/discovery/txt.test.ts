import { describe, expect, it } from 'vitest';
import type { Announcement } from '../../../src/main/discovery/announcement.ts';
import { sameOffice } from '../../../src/main/discovery/announcement.ts';
import { decodeTxt, encodeTxt } from '../../../src/main/discovery/txt.ts';

const a: Announcement = {
  nodeId: 'ff00ff00ff00ff00ff00ff00ff00ff00',
  office: 'Acme',
  caFingerprint: 'AB:CD',
  port: 7100,
  sipPort: 5070,
  version: '0.1.0',
};

describe('DNS-SD TXT codec', () => {
  it('round-trips with the overlay port from SRV', () => {
    const txt = encodeTxt(a);
    expect(txt).toEqual({
      txtvers: '1',
      id: a.nodeId,
      office: 'Acme',
      ca: 'AB:CD',
      sip: '5070',
      ver: '0.1.0',
    });
    expect(decodeTxt(txt, 7100)).toEqual({ ok: true, announcement: a });
  });

  it.each([
    ['no TXT at all', undefined, 7100, 'txtvers'],
    ['another schema version', { ...encodeTxt(a), txtvers: '2' }, 7100, 'txtvers'],
    [
      'a key without value (bonjour decodes it as undefined)',
      { ...encodeTxt(a), office: undefined },
      7100,
      'office',
    ],
    ['a non-numeric SIP port', { ...encodeTxt(a), sip: '50x' }, 7100, 'sipPort'],
    ['a SIP port out of range', { ...encodeTxt(a), sip: '99999' }, 7100, 'sipPort'],
    ['a bad SRV port', encodeTxt(a), 0, 'port'],
  ])('rejects %s', (_name, txt, port, field) => {
    expect(decodeTxt(txt, port)).toEqual({ ok: false, field });
  });
});

describe('sameOffice', () => {
  it('needs the same name and CA fingerprint (fingerprint case-insensitive)', () => {
    expect(sameOffice(a, { office: 'Acme', caFingerprint: 'ab:cd' })).toBe(true);
    expect(sameOffice(a, { office: 'acme', caFingerprint: 'AB:CD' })).toBe(false);
    expect(sameOffice(a, { office: 'Acme', caFingerprint: 'AB:CE' })).toBe(false);
  });
});
