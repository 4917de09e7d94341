import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';

const INVITE =
  'INVITE sip:bob@biloxi.com SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n' +
  'Max-Forwards: 70\r\n' +
  'To: Bob <sip:bob@biloxi.com>\r\n' +
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n' +
  'Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n' +
  'CSeq: 314159 INVITE\r\n' +
  'Contact: <sip:alice@pc33.atlanta.com>\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 4\r\n\r\nv=0\n';

describe('parseMessage basics', () => {
  it('parses a request and round-trips it', () => {
    const r = parseMessage(new TextEncoder().encode(INVITE));
    if (!r.ok) throw new Error(r.error.reason);
    const m = r.message;
    expect(m.type).toBe('request');
    if (m.type !== 'request') return;
    expect(m.method).toBe('INVITE');
    expect(m.uri.user).toBe('bob');
    expect(m.via[0].params.branch).toBe('z9hG4bK776asdhds');
    expect(m.from.params.tag).toBe('1928301774');
    expect(m.to.display).toBe('Bob');
    expect(m.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.maxForwards).toBe(70);
    expect(new TextDecoder().decode(m.body)).toBe('v=0\n');
    const again = parseMessage(serializeMessage(m));
    expect(again).toEqual(r);
  });
});
