import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../src/core/sip/build.ts';
import {
  applyTargetRefreshResponse,
  confirmUacDialog,
  createInDialogRequest,
  createUacDialog,
  createUasDialog,
  dialogKeyOfRequest,
  dialogKeyOfResponse,
  receiveInDialog,
} from '../../../src/core/sip/dialog/dialog.ts';
import { addHeader, getHeaders } from '../../../src/core/sip/message.ts';
import { makeRequest } from '../sip-transaction/fixtures.ts';

const via = {
  protocol: 'SIP/2.0',
  transport: 'UDP',
  host: '192.0.2.1',
  port: 5060,
  params: { branch: 'z9hG4bKn' },
};

function inviteWithRR() {
  const inv = makeRequest('INVITE', { seq: 10 });
  addHeader(inv, 'Contact', '<sip:alice@192.0.2.1:5060>');
  addHeader(inv, 'Record-Route', '<sip:p2.example.com;lr>');
  addHeader(inv, 'Record-Route', '<sip:p1.example.com;lr>');
  return inv;
}

function ok(inv: ReturnType<typeof makeRequest>, status = 200) {
  const res = createResponse(inv, status, undefined, { toTag: 'bobtag' });
  for (const v of getHeaders(inv, 'Record-Route')) addHeader(res, 'Record-Route', v);
  addHeader(res, 'Contact', '<sip:bob@192.0.2.4:5062>');
  return res;
}

describe('dialog creation (12.1)', () => {
  it('UAC: route set is the reversed Record-Route, remote target the Contact, keys match', () => {
    const inv = inviteWithRR();
    const res = ok(inv);
    const d = createUacDialog(inv, res)!;
    expect(d.state).toBe('confirmed');
    expect(d.routeSet.map((r) => r.uri.host)).toEqual(['p1.example.com', 'p2.example.com']);
    expect(d.remoteTarget.host).toBe('192.0.2.4');
    expect(d.remoteTarget.port).toBe(5062);
    expect(d.localSeq).toBe(10);
    expect(d.remoteSeq).toBeNull();
    expect(dialogKeyOfResponse(res)).toBe(d.key);
  });

  it('UAC: 180 with a To tag creates an early dialog; 100 or a tagless 180 do not', () => {
    const inv = inviteWithRR();
    expect(createUacDialog(inv, ok(inv, 180))?.state).toBe('early');
    expect(createUacDialog(inv, ok(inv, 100))).toBeNull();
    expect(createUacDialog(inv, createResponse(inv, 180))).toBeNull();
    const early = createUacDialog(inv, ok(inv, 180))!;
    const final = ok(inv);
    final.headers = final.headers.filter((h) => h.name !== 'Record-Route');
    confirmUacDialog(early, final);
    expect(early.state).toBe('confirmed');
    expect(early.routeSet).toEqual([]);
  });

  it('UAS: route set in Record-Route order, remote seq from the request, key of incoming requests', () => {
    const inv = inviteWithRR();
    const d = createUasDialog(inv, 'bobtag');
    expect(d.routeSet.map((r) => r.uri.host)).toEqual(['p2.example.com', 'p1.example.com']);
    expect(d.remoteSeq).toBe(10);
    expect(d.remoteTarget.user).toBe('alice');
    expect(d.localUri.params.tag).toBe('bobtag');
    const bye = makeRequest('BYE', { toTag: 'bobtag', seq: 11 });
    expect(dialogKeyOfRequest(bye)).toBe(d.key);
  });
});

describe('requests within a dialog (12.2)', () => {
  it('loose routing: Request-URI is the remote target, Route is the route set, next hop the first route', () => {
    const inv = inviteWithRR();
    const d = createUacDialog(inv, ok(inv))!;
    const { request, nextHop } = createInDialogRequest(d, 'BYE', { via });
    expect(request.uri.host).toBe('192.0.2.4');
    expect(getHeaders(request, 'Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(nextHop.host).toBe('p1.example.com');
    expect(request.cseq).toEqual({ seq: 11, method: 'BYE' });
    expect(request.to.params.tag).toBe('bobtag');
    expect(request.from.params.tag).toBe('fromtag1');
    // ACK for 2xx reuses the INVITE's CSeq number and does not advance the counter.
    const ack = createInDialogRequest(d, 'ACK', { via, seq: 10 }).request;
    expect(ack.cseq).toEqual({ seq: 10, method: 'ACK' });
    expect(createInDialogRequest(d, 'INFO', { via }).request.cseq.seq).toBe(12);
  });

  it('strict routing: the first route becomes the Request-URI and the remote target the last Route', () => {
    const inv = makeRequest('INVITE');
    const res = createResponse(inv, 200, undefined, { toTag: 't' });
    addHeader(
      res,
      'Record-Route',
      '<sip:strict2.example.com>, <sip:strict1.example.com;maddr=10.0.0.1;method=INVITE>',
    );
    addHeader(res, 'Contact', '<sip:bob@192.0.2.4>');
    const d = createUacDialog(inv, res)!;
    const { request, nextHop } = createInDialogRequest(d, 'BYE', { via });
    expect(request.uri.host).toBe('strict1.example.com');
    expect(request.uri.params).toEqual({ maddr: '10.0.0.1' });
    expect(nextHop.host).toBe('strict1.example.com');
    expect(getHeaders(request, 'Route')).toEqual(['<sip:strict2.example.com>', '<sip:bob@192.0.2.4>']);
  });

  it('rejects a CSeq going backwards with 500 and applies target refreshes', () => {
    const inv = inviteWithRR();
    const d = createUasDialog(inv, 'bobtag');
    expect(receiveInDialog(d, makeRequest('INFO', { toTag: 'bobtag', seq: 10 }))).toMatchObject({
      ok: false,
      status: 500,
    });
    const reinvite = makeRequest('INVITE', { toTag: 'bobtag', seq: 12 });
    addHeader(reinvite, 'Contact', '<sip:alice@198.51.100.9>');
    expect(receiveInDialog(d, reinvite)).toEqual({ ok: true });
    expect(d.remoteSeq).toBe(12);
    expect(d.remoteTarget.host).toBe('198.51.100.9');
    const ack = makeRequest('ACK', { toTag: 'bobtag', seq: 12 });
    expect(receiveInDialog(d, ack)).toEqual({ ok: true });
    const res = createResponse(makeRequest('INVITE'), 200);
    addHeader(res, 'Contact', '<sip:alice@203.0.113.3>');
    applyTargetRefreshResponse(d, res);
    expect(d.remoteTarget.host).toBe('203.0.113.3');
  });
});
