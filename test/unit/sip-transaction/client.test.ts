import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../../src/core/sip/message.ts';
import { TransactionLayer } from '../../../src/core/sip/transaction/layer.ts';
import { Harness, makeRequest, respond, TCP_PEER, UDP_PEER } from './fixtures.ts';

function start(method: string, peer = UDP_PEER, transport = 'UDP') {
  const h = new Harness(new TransactionLayer());
  const req = makeRequest(method, { transport });
  const id = h.layer.sendRequest(req, peer, 0);
  h.collect();
  return { h, req, id };
}

describe('INVITE client transaction (17.1.1)', () => {
  it('retransmits on timer A at T1, 2T1, 4T1 ... and times out on timer B at 64*T1', () => {
    const { h, id } = start('INVITE');
    h.advance(40_000);
    expect(h.transmitTimes()).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    const timeout = h.of('timeout');
    expect(timeout).toHaveLength(1);
    expect(timeout[0].at).toBe(32_000);
    expect(h.of('terminated').map((e) => e.txId)).toEqual([id]);
    expect(h.layer.size).toBe(0);
    expect(h.armed()).toEqual([]);
  });

  it('does not retransmit over a reliable transport, still times out at 64*T1', () => {
    const { h } = start('INVITE', TCP_PEER, 'TCP');
    h.advance(40_000);
    expect(h.transmitTimes()).toEqual([0]);
    expect(h.of('timeout')[0].at).toBe(32_000);
  });

  it('honours configured T1', () => {
    const h = new Harness(new TransactionLayer({ t1: 100 }));
    h.layer.sendRequest(makeRequest('INVITE'), UDP_PEER, 0);
    h.advance(10_000);
    expect(h.transmitTimes()).toEqual([0, 100, 300, 700, 1500, 3100, 6300]);
    expect(h.of('timeout')[0].at).toBe(6400);
  });

  it('stops retransmitting on a provisional response and passes it up', () => {
    const { h, req } = start('INVITE');
    h.advance(600);
    h.layer.receive(respond(req, 180), UDP_PEER, 600);
    h.advance(60_000);
    expect(h.transmitTimes()).toEqual([0, 500]);
    expect(h.of('response').map((e) => e.response.status)).toEqual([180]);
    expect(h.of('timeout')).toHaveLength(0);
    expect(h.layer.get(h.of('response')[0].txId)?.state).toBe('proceeding');
  });

  it('ACKs a non-2xx final response itself, re-ACKs retransmissions, and ends on timer D', () => {
    const { h, req, id } = start('INVITE');
    const busy = respond(req, 486);
    h.layer.receive(respond(req, 180), UDP_PEER, 100);
    h.layer.receive(busy, UDP_PEER, 200);
    h.now = 200;
    h.collect();
    const acks = h.of('transmit').filter((e) => e.message.type === 'request' && e.message.method === 'ACK');
    expect(acks).toHaveLength(1);
    const ack = acks[0].message as SipRequest;
    expect(ack.via).toHaveLength(1);
    expect(ack.via[0].params.branch).toBe(req.via[0].params.branch);
    expect(ack.cseq).toEqual({ seq: req.cseq.seq, method: 'ACK' });
    expect(ack.to.params.tag).toBe('totag9');
    expect(ack.uri).toEqual(req.uri);
    expect(h.layer.get(id)?.state).toBe('completed');
    // The retransmitted 486 is absorbed, answered with the ACK again.
    h.layer.receive(busy, UDP_PEER, 1000);
    h.now = 1000;
    h.collect();
    expect(h.of('transmit').filter((e) => (e.message as SipRequest).method === 'ACK')).toHaveLength(2);
    expect(h.of('response').map((e) => e.response.status)).toEqual([180, 486]);
    h.advance(32_199);
    expect(h.layer.get(id)?.state).toBe('completed');
    h.advance(32_200);
    expect(h.layer.get(id)).toBeUndefined();
    expect(h.of('terminated')[0].at).toBe(32_200);
  });

  it('terminates at once after a non-2xx over TCP (timer D = 0)', () => {
    const { h, req, id } = start('INVITE', TCP_PEER, 'TCP');
    h.layer.receive(respond(req, 603), TCP_PEER, 10);
    h.collect();
    expect(h.layer.get(id)).toBeUndefined();
    expect(h.of('transmit').map((e) => (e.message as SipRequest).method)).toEqual(['INVITE', 'ACK']);
  });

  it('terminates on 2xx and lets later 2xx retransmissions through as stray responses', () => {
    const { h, req, id } = start('INVITE');
    const ok = respond(req, 200);
    h.layer.receive(ok, UDP_PEER, 50);
    h.layer.receive(ok, UDP_PEER, 550);
    h.advance(40_000);
    expect(h.of('response').map((e) => e.response.status)).toEqual([200]);
    expect(h.of('stray-response')).toHaveLength(1);
    expect(h.transmitTimes()).toEqual([0]); // no ACK from the transaction for 2xx
    expect(h.layer.get(id)).toBeUndefined();
  });

  it('reports transport errors and terminates', () => {
    const { h, id } = start('INVITE');
    h.layer.transportError(id, 5);
    h.collect();
    expect(h.of('transport-error').map((e) => e.txId)).toEqual([id]);
    expect(h.of('terminated').map((e) => e.txId)).toEqual([id]);
    expect(h.armed()).toEqual([]);
  });
});

describe('non-INVITE client transaction (17.1.2)', () => {
  it('retransmits with timer E doubling up to T2 and times out on timer F', () => {
    const { h } = start('OPTIONS');
    h.advance(40_000);
    expect(h.transmitTimes()).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(h.of('timeout')[0].at).toBe(32_000);
  });

  it('retransmits every T2 once a provisional arrived', () => {
    const { h, req } = start('BYE');
    h.layer.receive(respond(req, 100), UDP_PEER, 100);
    h.advance(14_000);
    expect(h.transmitTimes()).toEqual([0, 500, 4500, 8500, 12500]);
    expect(h.of('response').map((e) => e.response.status)).toEqual([100]);
  });

  it('absorbs final retransmissions in Completed and ends on timer K (T4)', () => {
    const { h, req, id } = start('OPTIONS');
    const ok = respond(req, 200);
    h.layer.receive(ok, UDP_PEER, 100);
    h.layer.receive(ok, UDP_PEER, 200);
    h.now = 200;
    h.advance(5_099);
    expect(h.layer.get(id)?.state).toBe('completed');
    h.advance(5_100);
    expect(h.layer.get(id)).toBeUndefined();
    expect(h.of('response')).toHaveLength(1);
    expect(h.transmitTimes()).toEqual([0]);
  });

  it('over TCP: no retransmission and timer K = 0', () => {
    const { h, req, id } = start('OPTIONS', TCP_PEER, 'TCP');
    h.advance(10_000);
    expect(h.transmitTimes()).toEqual([0]);
    h.layer.receive(respond(req, 404), TCP_PEER, 10_000);
    h.collect();
    expect(h.layer.get(id)).toBeUndefined();
    expect(h.of('response').map((e) => e.response.status)).toEqual([404]);
  });

  it('matches responses by branch and CSeq method (CANCEL and INVITE share a branch)', () => {
    const h = new Harness(new TransactionLayer());
    const inv = makeRequest('INVITE');
    const cancel = makeRequest('CANCEL');
    const invId = h.layer.sendRequest(inv, UDP_PEER, 0);
    const cancelId = h.layer.sendRequest(cancel, UDP_PEER, 0);
    h.layer.receive(respond(cancel, 200), UDP_PEER, 10);
    h.layer.receive(respond(inv, 487), UDP_PEER, 11);
    h.layer.receive(respond(makeRequest('INVITE', { branch: 'z9hG4bKother' }), 200), UDP_PEER, 12);
    h.collect();
    const got = h.of('response').map((e) => [e.txId, e.response.status]);
    expect(got).toEqual([
      [cancelId, 200],
      [invId, 487],
    ]);
    expect(h.of('stray-response')).toHaveLength(1);
  });
});

describe('ACK through sendRequest', () => {
  it('is transmitted once without a transaction or timers', () => {
    const h = new Harness(new TransactionLayer());
    expect(h.layer.sendRequest(makeRequest('ACK', { toTag: 't' }), UDP_PEER, 0)).toBe('');
    h.advance(60_000);
    expect(h.transmitTimes()).toEqual([0]);
    expect(h.layer.size).toBe(0);
    expect(h.armed()).toEqual([]);
  });
});

describe('configurable T2 and T4', () => {
  it('caps timer E at T2 and sets timer K to T4', () => {
    const h = new Harness(new TransactionLayer({ t1: 100, t2: 300, t4: 700 }));
    const req = makeRequest('OPTIONS');
    const id = h.layer.sendRequest(req, UDP_PEER, 0);
    h.advance(1500);
    expect(h.transmitTimes()).toEqual([0, 100, 300, 600, 900, 1200, 1500]);
    h.layer.receive(respond(req, 200), UDP_PEER, 1500);
    h.advance(2199);
    expect(h.layer.get(id)?.state).toBe('completed');
    h.advance(2200);
    expect(h.layer.get(id)).toBeUndefined();
  });
});
