import { describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../../../src/core/sip/message.ts';
import { getHeader, textBody } from '../../../src/core/sip/message.ts';
import { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import { makeRequest } from '../sip-transaction/fixtures.ts';
import { Network } from './network.ts';

const sdp = { body: textBody('v=0\r\n'), contentType: 'application/sdp' };

function pair(bCfg = {}) {
  const net = new Network();
  const a = net.add('alice');
  const b = net.add('bob', bCfg);
  return { net, a, b };
}

function established(bCfg = {}) {
  const s = pair(bCfg);
  let ca = '';
  s.net.act((now) => (ca = s.a.ua.call(s.b.uri, sdp, now)));
  s.net.run(50);
  const cb = s.net.of(s.b, 'incoming-call')[0].call;
  s.net.act((now) => s.b.ua.accept(cb, sdp, now));
  s.net.run(100);
  expect(s.net.of(s.b, 'call-answered')).toHaveLength(1);
  return { ...s, ca, cb };
}

/** Feeds one request straight into a lone UA and returns the responses it transmits. */
function answerTo(req: SipRequest, cfg = {}): SipResponse[] {
  const ua = new UserAgentCore(
    { host: '10.0.0.9', port: 5060, transport: 'UDP', user: 'u', ...cfg },
    () => 'r',
  );
  ua.receive(req, { transport: 'UDP', host: '192.0.2.1', port: 5060 }, 0);
  return ua
    .drain()
    .flatMap((e) => (e.type === 'transmit' && e.message.type === 'response' ? [e.message] : []));
}

describe('user agent: requests other than calls', () => {
  it('answers OPTIONS with 200, Allow and Accept', () => {
    const { net, a, b } = pair();
    let id = '';
    net.act((now) => (id = a.ua.sendOptions(b.uri, now)));
    net.run(100);
    const res = net.of(a, 'response');
    expect(res).toHaveLength(1);
    expect(res[0].requestId).toBe(id);
    expect(res[0].response.status).toBe(200);
    expect(getHeader(res[0].response, 'Allow')).toContain('INVITE');
    expect(getHeader(res[0].response, 'Allow')).toContain('BYE');
    expect(getHeader(res[0].response, 'Accept')).toBe('application/sdp');
    expect(net.of(b, 'options')).toHaveLength(1);
  });

  it('answers 481 to requests in an unknown dialog', () => {
    expect(answerTo(makeRequest('BYE', { toTag: 'nope' })).map((r) => r.status)).toEqual([481]);
    expect(answerTo(makeRequest('INFO', { toTag: 'nope' })).map((r) => r.status)).toEqual([481]);
    expect(answerTo(makeRequest('BYE')).map((r) => r.status)).toEqual([481]);
  });

  it('answers 405 with Allow to known but unsupported methods and 501 to unknown ones', () => {
    const r405 = answerTo(makeRequest('SUBSCRIBE'));
    expect(r405.map((r) => r.status)).toEqual([405]);
    expect(getHeader(r405[0], 'Allow')).toContain('OPTIONS');
    expect(answerTo(makeRequest('FROB')).map((r) => r.status)).toEqual([501]);
  });

  it('answers 420 to an unsupported Require, 415 to an unreadable INVITE body, 416 to other URI schemes', () => {
    const req = makeRequest('OPTIONS');
    req.headers.push({ name: 'Require', value: '100rel' });
    const r420 = answerTo(req);
    expect(r420.map((r) => r.status)).toEqual([420]);
    expect(getHeader(r420[0], 'Unsupported')).toBe('100rel');
    const inv = makeRequest('INVITE');
    inv.body = textBody('hello');
    inv.headers.push({ name: 'Content-Type', value: 'text/plain' });
    expect(answerTo(inv).map((r) => r.status)).toEqual([415]);
    const mailto = makeRequest('OPTIONS');
    mailto.uri = { ...mailto.uri, scheme: 'mailto' };
    expect(answerTo(mailto).map((r) => r.status)).toEqual([416]);
  });

  it('hands app methods outside dialogs to the app, which decides the response', () => {
    const { net, a, b } = pair({ appMethods: ['MESSAGE'] });
    let id = '';
    net.act(
      (now) =>
        (id = a.ua.sendRequest('MESSAGE', b.uri, now, { body: textBody('hi'), contentType: 'text/plain' })),
    );
    net.run(50);
    const req = net.of(b, 'request');
    expect(req).toHaveLength(1);
    expect(req[0].call).toBeNull();
    net.act((now) => expect(b.ua.respond(req[0].requestId, 202, now)).toBe(true));
    net.run(100);
    expect(net.of(a, 'response')).toMatchObject([{ requestId: id, response: { status: 202 } }]);
  });

  it('passes in-dialog INFO to the app and rejects unknown in-dialog methods with 501', () => {
    const { net, a, b, ca, cb } = established();
    let id: string | null = null;
    net.act(
      (now) =>
        (id = a.ua.sendInDialog(ca, 'INFO', now, {
          body: textBody('Signal=5'),
          contentType: 'application/dtmf-relay',
        })),
    );
    net.run(net.now + 50);
    const req = net.of(b, 'request');
    expect(req).toMatchObject([{ call: cb, request: { method: 'INFO' } }]);
    net.act((now) => b.ua.respond(req[0].requestId, 200, now));
    net.run(net.now + 50);
    expect(net.of(a, 'response')).toMatchObject([{ requestId: id, response: { status: 200 } }]);
    net.act((now) => a.ua.sendInDialog(ca, 'FROB', now));
    net.run(net.now + 50);
    expect(net.of(a, 'response').map((r) => r.response.status)).toEqual([200, 501]);
  });

  it('re-INVITE glare: both sides get 491 (14.2)', () => {
    const { net, a, b, ca, cb } = established();
    net.act((now) => {
      a.ua.reinvite(ca, sdp, now);
      b.ua.reinvite(cb, sdp, now);
    });
    net.run(net.now + 100);
    expect(net.of(a, 'reinvite-result')).toMatchObject([{ status: 491 }]);
    expect(net.of(b, 'reinvite-result')).toMatchObject([{ status: 491 }]);
    expect(net.of(a, 'reinvite')).toHaveLength(0);
  });

  it('retries a challenged INVITE once with the header from the authenticator', () => {
    const net = new Network();
    const calls: number[] = [];
    const a = net.add('alice', {}, (res) => {
      calls.push(res.status);
      return { name: 'Authorization', value: 'Digest username="alice", response="x"' };
    });
    const b = net.add('bob');
    net.act((now) => a.ua.call(b.uri, sdp, now));
    net.run(50);
    const first = net.of(b, 'incoming-call')[0];
    net.act((now) =>
      b.ua.reject(first.call, 401, now, [{ name: 'WWW-Authenticate', value: 'Digest realm="x", nonce="n"' }]),
    );
    net.run(100);
    const second = net.of(b, 'incoming-call');
    expect(second).toHaveLength(2);
    const retry = second[1].request;
    expect(getHeader(retry, 'Authorization')).toContain('alice');
    expect(retry.cseq.seq).toBe(first.request.cseq.seq + 1);
    expect(retry.callId).toBe(first.request.callId);
    expect(retry.from.params.tag).toBe(first.request.from.params.tag);
    expect(retry.via[0].params.branch).not.toBe(first.request.via[0].params.branch);
    // A second challenge is not retried again.
    net.act((now) => b.ua.reject(second[1].call, 401, now));
    net.run(200);
    expect(calls).toEqual([401]);
    expect(net.of(a, 'call-ended')).toMatchObject([{ reason: 'rejected', status: 401 }]);
  });

  it('times out calls and requests to a silent peer (timers B and F)', () => {
    const net = new Network();
    const a = net.add('alice');
    const ghost = { ...a.uri, host: '10.9.9.9' };
    net.act((now) => {
      a.ua.call(ghost, sdp, now);
      a.ua.sendOptions(ghost, now);
    });
    net.run(40_000);
    expect(net.of(a, 'call-ended')).toMatchObject([{ reason: 'timeout', at: 32_000 }]);
    expect(net.of(a, 'request-failed')).toMatchObject([{ reason: 'timeout', at: 32_000 }]);
    expect(a.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
  });

  it('ends a call on a transport error of its INVITE', () => {
    const ua = new UserAgentCore({ host: '10.0.0.1', port: 5060, transport: 'TCP', user: 'a' }, () => 'r');
    const target = {
      scheme: 'sip',
      user: 'b',
      password: null,
      host: '10.0.0.2',
      port: null,
      params: {},
      headers: {},
    };
    const call = ua.call(target, null, 0);
    const tx = ua.drain().find((e) => e.type === 'transmit');
    expect(tx?.type === 'transmit' && tx.to).toEqual({ transport: 'TCP', host: '10.0.0.2', port: 5060 });
    ua.transportError(tx?.type === 'transmit' ? (tx.txId ?? '') : '', 10);
    expect(ua.drain()).toContainEqual({ type: 'call-ended', call, reason: 'transport-error' });
  });
});

describe('record-routing through a proxy', () => {
  it('copies Record-Route into the 180/200 and routes the BYE through the proxy with Route', () => {
    const ua = new UserAgentCore({ host: '10.0.0.2', port: 5060, transport: 'UDP', user: 'bob' }, () => 'r1');
    const inv = makeRequest('INVITE');
    inv.headers.push({ name: 'Record-Route', value: '<sip:10.0.0.50;lr>' });
    inv.headers.push({ name: 'Contact', value: '<sip:alice@192.0.2.1:5060>' });
    const from = { transport: 'UDP' as const, host: '10.0.0.50', port: 5060 };
    ua.receive(inv, from, 0);
    const incoming = ua.drain().find((e) => e.type === 'incoming-call');
    const call = incoming?.type === 'incoming-call' ? incoming.call : '';
    ua.ringing(call, 1);
    ua.accept(call, sdp, 2);
    const responses = ua
      .drain()
      .flatMap((e) => (e.type === 'transmit' && e.message.type === 'response' ? [e.message] : []));
    expect(responses.map((r) => r.status)).toEqual([180, 200]);
    for (const r of responses) expect(getHeader(r, 'Record-Route')).toBe('<sip:10.0.0.50;lr>');
    const ack = makeRequest('ACK', { branch: 'z9hG4bKack', toTag: responses[1].to.params.tag ?? '' });
    ua.receive(ack, from, 3);
    expect(ua.drain().some((e) => e.type === 'call-answered')).toBe(true);
    ua.bye(call, 4);
    const bye = ua.drain().find((e) => e.type === 'transmit');
    expect(bye?.type === 'transmit' && bye.to).toEqual({ transport: 'UDP', host: '10.0.0.50', port: 5060 });
    const msg = bye?.type === 'transmit' ? (bye.message as SipRequest) : null;
    expect(msg?.method).toBe('BYE');
    expect(getHeader(msg!, 'Route')).toBe('<sip:10.0.0.50;lr>');
    expect(msg?.uri.user).toBe('alice');
  });
});
