import { describe, expect, it } from 'vitest';
import { createAckForNon2xx, createCancel } from '../../../src/core/sip/build.ts';
import type { SipResponse } from '../../../src/core/sip/message.ts';
import { TransactionLayer } from '../../../src/core/sip/transaction/layer.ts';
import { responseAddress } from '../../../src/core/sip/transaction/matching.ts';
import { Harness, makeRequest, respond, TCP_PEER, UDP_PEER } from './fixtures.ts';

function receive(method: string, opts: Parameters<typeof makeRequest>[1] = {}, peer = UDP_PEER) {
  const h = new Harness(new TransactionLayer());
  const req = makeRequest(method, opts);
  h.layer.receive(req, peer, 0);
  h.collect();
  const ev = h.of('request')[0];
  return { h, req, id: ev.txId };
}

const statuses = (h: Harness) => h.of('transmit').map((e) => (e.message as SipResponse).status);

describe('INVITE server transaction (17.2.1)', () => {
  it('sends 100 Trying after 200 ms unless the TU answered first, and resends it on retransmission', () => {
    const { h, req } = receive('INVITE');
    h.advance(199);
    expect(statuses(h)).toEqual([]);
    h.advance(200);
    expect(statuses(h)).toEqual([100]);
    h.layer.receive(req, UDP_PEER, 500);
    h.collect();
    expect(statuses(h)).toEqual([100, 100]);
    expect(h.of('request')).toHaveLength(1); // retransmission is not a new request
  });

  it('does not send an automatic 100 when the TU sends 180 within 200 ms', () => {
    const { h, req, id } = receive('INVITE');
    h.layer.sendResponse(id, respond(req, 180), 50);
    h.advance(1000);
    expect(statuses(h)).toEqual([180]);
    h.layer.receive(req, UDP_PEER, 1000);
    h.collect();
    expect(statuses(h)).toEqual([180, 180]);
  });

  it('sends 100 immediately when tryingDelay is 0', () => {
    const h = new Harness(new TransactionLayer({ tryingDelay: 0 }));
    h.layer.receive(makeRequest('INVITE'), UDP_PEER, 0);
    h.collect();
    expect(statuses(h)).toEqual([100]);
  });

  it('retransmits a non-2xx final on timer G capped at T2 and gives up on timer H', () => {
    const { h, req, id } = receive('INVITE');
    h.layer.sendResponse(id, respond(req, 486), 0);
    h.advance(40_000);
    const times = h.of('transmit').map((e) => e.at);
    expect(times).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.of('timeout')[0].at).toBe(32_000);
    expect(h.layer.get(id)).toBeUndefined();
  });

  it('moves to Confirmed on ACK, absorbs further ACKs and ends on timer I (T4)', () => {
    const { h, req, id } = receive('INVITE');
    const busy = respond(req, 486);
    h.layer.sendResponse(id, busy, 0);
    h.advance(600);
    h.layer.receive(createAckForNon2xx(req, busy), UDP_PEER, 600);
    h.layer.receive(createAckForNon2xx(req, busy), UDP_PEER, 700);
    h.advance(5_599);
    expect(h.layer.get(id)?.state).toBe('confirmed');
    expect(h.of('ack')).toHaveLength(0); // absorbed by the transaction
    expect(h.of('transmit').map((e) => e.at)).toEqual([0, 500]);
    h.advance(5_600);
    expect(h.layer.get(id)).toBeUndefined();
  });

  it('over TCP: no timer G and timer I = 0', () => {
    const { h, req, id } = receive('INVITE', { transport: 'TCP' }, TCP_PEER);
    const busy = respond(req, 486);
    h.layer.sendResponse(id, busy, 0);
    h.advance(10_000);
    expect(h.of('transmit')).toHaveLength(1); // the 486 once: no 100 (superseded), no timer G
    h.layer.receive(createAckForNon2xx(req, busy), TCP_PEER, 10_000);
    h.collect();
    expect(h.layer.get(id)).toBeUndefined();
  });

  it('terminates as soon as the TU sends a 2xx (the TU retransmits it, 13.3.1.4)', () => {
    const { h, req, id } = receive('INVITE');
    h.layer.sendResponse(id, respond(req, 200), 10);
    h.collect();
    expect(h.layer.get(id)).toBeUndefined();
    // The end-to-end ACK for the 2xx has a new branch: it reaches the TU.
    const ack = makeRequest('ACK', { branch: 'z9hG4bKack2xx', toTag: 'totag9' });
    h.layer.receive(ack, UDP_PEER, 20);
    h.collect();
    expect(h.of('ack')).toHaveLength(1);
  });

  it('matches CANCEL to the INVITE server transaction', () => {
    const { h, req, id } = receive('INVITE');
    h.layer.receive(createCancel(req), UDP_PEER, 5);
    h.collect();
    const reqs = h.of('request');
    expect(reqs.map((e) => e.request.method)).toEqual(['INVITE', 'CANCEL']);
    expect(reqs[1].cancels).toBe(id);
    expect(reqs[1].txId).not.toBe(id);
    h.layer.receive(makeRequest('CANCEL', { branch: 'z9hG4bKnomatch' }), UDP_PEER, 6);
    h.collect();
    expect(h.of('request')[2].cancels).toBeNull();
  });

  it('treats the same branch from a different sent-by as a different transaction', () => {
    const { h } = receive('INVITE');
    h.layer.receive(makeRequest('INVITE', { sentBy: '198.51.100.7' }), UDP_PEER, 5);
    h.collect();
    expect(h.of('request')).toHaveLength(2);
  });
});

describe('non-INVITE server transaction (17.2.2)', () => {
  it('absorbs retransmissions in Trying, resends the last response later, and ends on timer J', () => {
    const { h, req, id } = receive('OPTIONS');
    h.layer.receive(req, UDP_PEER, 10);
    h.collect();
    expect(statuses(h)).toEqual([]);
    h.layer.sendResponse(id, respond(req, 200), 20);
    h.layer.receive(req, UDP_PEER, 30);
    h.now = 30;
    h.collect();
    expect(statuses(h)).toEqual([200, 200]);
    expect(h.of('request')).toHaveLength(1);
    h.advance(32_019);
    expect(h.layer.get(id)?.state).toBe('completed');
    h.advance(32_020);
    expect(h.layer.get(id)).toBeUndefined();
  });

  it('resends the last provisional in Proceeding and ignores TU responses after the final', () => {
    const { h, req, id } = receive('BYE');
    h.layer.sendResponse(id, respond(req, 100), 0);
    h.layer.receive(req, UDP_PEER, 1);
    expect(h.layer.sendResponse(id, respond(req, 200), 2)).toBe(true);
    expect(h.layer.sendResponse(id, respond(req, 500), 3)).toBe(false);
    h.collect();
    expect(statuses(h)).toEqual([100, 100, 200]);
  });

  it('over TCP: timer J = 0', () => {
    const { h, req, id } = receive('OPTIONS', { transport: 'TCP' }, TCP_PEER);
    h.layer.sendResponse(id, respond(req, 200), 0);
    h.collect();
    expect(h.layer.get(id)).toBeUndefined();
  });
});

describe('RFC 2543 fallback matching (17.2.3)', () => {
  it('matches retransmissions, the non-2xx ACK by To tag, and CANCEL without a magic cookie', () => {
    const { h, req, id } = receive('INVITE', { branch: null });
    h.layer.receive(makeRequest('INVITE', { branch: null }), UDP_PEER, 1);
    h.collect();
    expect(h.of('request')).toHaveLength(1);
    const busy = respond(req, 486, 'uas-tag');
    h.layer.sendResponse(id, busy, 2);
    // ACK with a different To tag does not belong to the transaction.
    const wrongAck = makeRequest('ACK', { branch: null, toTag: 'other' });
    h.layer.receive(wrongAck, UDP_PEER, 3);
    h.collect();
    expect(h.of('ack')).toHaveLength(1);
    expect(h.layer.get(id)?.state).toBe('completed');
    h.layer.receive(makeRequest('ACK', { branch: null, toTag: 'uas-tag' }), UDP_PEER, 4);
    h.collect();
    expect(h.layer.get(id)?.state).toBe('confirmed');
    const cancel = makeRequest('CANCEL', { branch: null });
    h.layer.receive(cancel, UDP_PEER, 5);
    h.collect();
    expect(h.of('request')[1].cancels).toBe(id);
  });

  it('keeps requests with a different Call-ID or CSeq apart', () => {
    const { h } = receive('OPTIONS', { branch: 'legacy1' });
    h.layer.receive(makeRequest('OPTIONS', { branch: 'legacy1', seq: 2 }), UDP_PEER, 1);
    const other = makeRequest('OPTIONS', { branch: 'legacy1' });
    other.callId = 'different';
    h.layer.receive(other, UDP_PEER, 2);
    h.layer.receive(makeRequest('OPTIONS', { branch: 'legacy1' }), UDP_PEER, 3);
    h.collect();
    expect(h.of('request')).toHaveLength(3);
  });
});

describe('responseAddress (18.2.2, RFC 3581)', () => {
  const via = (params: Record<string, string | null>, transport = 'UDP') => ({
    protocol: 'SIP/2.0',
    transport,
    host: 'client.example.com',
    port: 5070,
    params,
  });
  it('uses received + sent-by port, rport when present, maddr, and the connection for TCP', () => {
    expect(responseAddress(via({ received: '203.0.113.9' }), UDP_PEER)).toEqual({
      transport: 'UDP',
      host: '203.0.113.9',
      port: 5070,
    });
    expect(responseAddress(via({ received: '203.0.113.9', rport: '40000' }), UDP_PEER)).toEqual({
      transport: 'UDP',
      host: '203.0.113.9',
      port: 40000,
    });
    expect(responseAddress(via({ rport: null }), { transport: 'UDP', host: '10.0.0.5', port: 1234 })).toEqual(
      {
        transport: 'UDP',
        host: '10.0.0.5',
        port: 1234,
      },
    );
    expect(responseAddress(via({ maddr: '224.0.1.75' }), UDP_PEER).host).toBe('224.0.1.75');
    expect(responseAddress(via({}), UDP_PEER)).toEqual({
      transport: 'UDP',
      host: 'client.example.com',
      port: 5070,
    });
    expect(responseAddress(via({}, 'TCP'), { transport: 'TCP', host: '10.0.0.5', port: 49152 })).toEqual({
      transport: 'TCP',
      host: '10.0.0.5',
      port: 49152,
    });
  });
});
