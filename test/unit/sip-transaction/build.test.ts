import { describe, expect, it } from 'vitest';
import {
  createAckForNon2xx,
  createCancel,
  createResponse,
  newBranch,
  newCallId,
} from '../../../src/core/sip/build.ts';
import { addHeader, getHeader, getHeaders } from '../../../src/core/sip/message.ts';
import { INVITE_CLIENT, TABLES } from '../../../src/core/sip/transaction/tables.ts';
import { makeRequest, respond } from './fixtures.ts';

describe('builders', () => {
  it('createResponse copies Via, From, To, Call-ID, CSeq and adds the To tag except on 100', () => {
    const req = makeRequest('INVITE');
    req.via.push({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: 'proxy',
      port: null,
      params: { branch: 'z9hG4bKp' },
    });
    addHeader(req, 'Timestamp', '54');
    const trying = createResponse(req, 100, undefined, { toTag: 't1' });
    expect(trying.to.params.tag).toBeUndefined();
    expect(getHeader(trying, 'Timestamp')).toBe('54');
    expect(trying.reason).toBe('Trying');
    const ok = createResponse(req, 200, 'Fine', {
      toTag: 't1',
      contentType: 'application/sdp',
      body: new Uint8Array([1]),
    });
    expect(ok.to.params.tag).toBe('t1');
    expect(ok.reason).toBe('Fine');
    expect(ok.via).toEqual(req.via);
    expect(ok.via).not.toBe(req.via);
    expect(ok.from).toEqual(req.from);
    expect(ok.callId).toBe(req.callId);
    expect(ok.cseq).toEqual(req.cseq);
    expect(getHeader(ok, 'Content-Type')).toBe('application/sdp');
    expect(getHeader(ok, 'Timestamp')).toBeUndefined();
    // An existing To tag is kept.
    const inDialog = makeRequest('BYE', { toTag: 'existing' });
    expect(createResponse(inDialog, 200, undefined, { toTag: 'new' }).to.params.tag).toBe('existing');
  });

  it('createCancel and createAckForNon2xx keep the branch and copy Route', () => {
    const inv = makeRequest('INVITE', { seq: 7 });
    inv.via.push({ protocol: 'SIP/2.0', transport: 'UDP', host: 'x', port: null, params: {} });
    addHeader(inv, 'Route', '<sip:p1.example.com;lr>');
    const cancel = createCancel(inv);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.cseq).toEqual({ seq: 7, method: 'CANCEL' });
    expect(cancel.via).toEqual([inv.via[0]]);
    expect(getHeaders(cancel, 'Route')).toEqual(['<sip:p1.example.com;lr>']);
    expect(cancel.to.params.tag).toBeUndefined();
    const ack = createAckForNon2xx(inv, respond(inv, 404, 'tg'));
    expect(ack.to.params.tag).toBe('tg');
    expect(ack.cseq).toEqual({ seq: 7, method: 'ACK' });
    expect(getHeaders(ack, 'Route')).toHaveLength(1);
  });

  it('ids come from the injected random source', () => {
    let n = 0;
    const random = () => `r${++n}`;
    expect(newBranch(random)).toBe('z9hG4bKr1');
    expect(newCallId(random, 'h')).toBe('r2@h');
  });
});

describe('transition tables', () => {
  it('only lead to states that exist, and terminated is final', () => {
    for (const table of Object.values(TABLES)) {
      for (const [state, row] of Object.entries(table)) {
        for (const tr of Object.values(row as Record<string, { to: string }>))
          expect(table).toHaveProperty(tr.to);
        if (state === 'terminated') expect(Object.keys(row as object)).toEqual([]);
      }
    }
    expect(INVITE_CLIENT.calling.success?.to).toBe('terminated');
  });
});
