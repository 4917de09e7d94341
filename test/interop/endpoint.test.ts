// The SIP host's pure pieces (Via stamping, the 400 for a request that did not parse, the headless
// responder's answers) and transport errors reaching the UA core through the real transports.
import { describe, expect, it } from 'vitest';
import type { Address } from '../../src/core/net.ts';
import type { SipRequest, SipUri } from '../../src/core/sip/message.ts';
import { parseMessage } from '../../src/core/sip/parse.ts';
import { badRequestResponse } from '../../src/main/sip/bad-request.ts';
import { answerFor } from '../../src/main/sip/basic-responder.ts';
import { stampVia } from '../../src/main/sip/received.ts';
import { freePort } from '../helpers/ports.ts';
import { request } from '../helpers/raw-sip.ts';
import { TestUa } from '../helpers/test-ua.ts';

const SRC: Address = { transport: 'UDP', host: '10.0.0.7', port: 40000 };

function parsed(text: string): SipRequest {
  const r = parseMessage(text);
  if (!r.ok || r.message.type !== 'request') throw new Error(`did not parse: ${JSON.stringify(r)}`);
  return r.message;
}

describe('stampVia (RFC 3261 18.2.1, RFC 3581)', () => {
  it('fills rport and received when rport is asked for', () => {
    const req = parsed(request('OPTIONS', 'x', 5060));
    stampVia(req, SRC);
    expect(req.via[0].params).toMatchObject({ rport: '40000', received: '10.0.0.7' });
  });

  it('adds received only when the sent-by host differs, and leaves rport alone when not asked', () => {
    const same = parsed(
      request('OPTIONS', 'x', 5060).replace(';rport', '').replace('127.0.0.1:9', '10.0.0.7:9'),
    );
    stampVia(same, SRC);
    expect(same.via[0].params.received).toBeUndefined();
    expect('rport' in same.via[0].params).toBe(false);
    const other = parsed(request('OPTIONS', 'x', 5060).replace(';rport', ''));
    stampVia(other, SRC);
    expect(other.via[0].params.received).toBe('10.0.0.7');
  });
});

describe('badRequestResponse', () => {
  it('answers a request with a broken header with 400 to the Via address, saying why', () => {
    const r = parseMessage(request('INVITE', 'x', 5060).replace('CSeq: 1 INVITE', 'CSeq: lots INVITE'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const out = badRequestResponse(r.error, SRC);
    expect(out?.res.status).toBe(400);
    expect(out?.res.reason).toMatch(/^Bad Request \(.+\)$/);
    expect(out?.res.callId).toMatch(/^raw-/);
    // rport was asked: the 400 goes to the source address and port.
    expect(out?.to).toEqual({ transport: 'UDP', host: '10.0.0.7', port: 40000 });
  });

  it('answers a wrong SIP version with 505', () => {
    const raw = new TextEncoder().encode(
      request('OPTIONS', 'x', 5060).replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'),
    );
    const r = parseMessage(raw);
    if (r.ok) throw new Error('parsed');
    expect(r.error.code).toBe('version');
    const out = badRequestResponse(r.error, SRC, raw);
    expect(out?.res.status).toBe(505);
    expect(out?.res.callId).toMatch(/^raw-/);
  });

  it('never answers a broken ACK, a response, or a message without a Via', () => {
    const ack = parseMessage(request('ACK', 'x', 5060).replace('Max-Forwards: 70', 'Max-Forwards: x'));
    const res = parseMessage('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: x\r\n\r\n');
    const noVia = parseMessage('OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n');
    for (const r of [ack, res, noVia]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(badRequestResponse(r.error, SRC)).toBeNull();
    }
  });
});

describe('answerFor (the headless peer without users)', () => {
  const req = (method: string, extra = '') => parsed(request(method, 'x', 5060, 'UDP', extra));
  it('answers per RFC 3261', () => {
    expect(answerFor(req('OPTIONS'), false).status).toBe(200);
    expect(answerFor(req('INVITE'), false).status).toBe(404);
    expect(answerFor(req('BYE'), false).status).toBe(481);
    expect(answerFor(req('CANCEL'), true).status).toBe(200);
    expect(answerFor(req('CANCEL'), false).status).toBe(481);
    expect(answerFor(req('REGISTER'), false).status).toBe(405);
    expect(answerFor(req('FROB'), false).status).toBe(501);
    expect(answerFor(req('OPTIONS', 'Require: 100rel'), false)).toMatchObject({
      status: 420,
      headers: [{ name: 'Unsupported', value: '100rel' }],
    });
    const tel = req('OPTIONS');
    tel.uri = { ...tel.uri, scheme: 'tel' };
    expect(answerFor(tel, false).status).toBe(416);
  });
});

describe('transport errors reach the UA core (RFC 3261 17.1.4)', () => {
  it('a TCP call to a closed port ends at once with transport-error', async () => {
    const ua = await TestUa.start({ transport: 'TCP' });
    try {
      const port = await freePort();
      const target: SipUri = {
        scheme: 'sip',
        user: 'nobody',
        password: null,
        host: '127.0.0.1',
        port,
        params: { transport: 'tcp' },
        headers: {},
      };
      const started = Date.now();
      const outcome = await ua.call(target);
      expect(outcome).toMatchObject({ answered: false, reason: 'transport-error' });
      // Not timer B's 32 s: the connect refusal ended it.
      expect(Date.now() - started).toBeLessThan(2000);
      expect(ua.ua.load.calls).toBe(0);
    } finally {
      await ua.close();
    }
  });
});
