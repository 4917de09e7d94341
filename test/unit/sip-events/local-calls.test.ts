// Desk phones' call state from the SIP their gateway's proxy receives.
import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { LocalCallTracker } from '../../../src/core/sip/events/index.ts';
import type { SipMessage } from '../../../src/core/sip/message.ts';
import { parseMessage } from '../../../src/core/sip/parse.ts';

const PHONE_201: Address = { transport: 'UDP', host: '10.0.0.21', port: 5060 };
const PEER: Address = { transport: 'UDP', host: '10.0.0.5', port: 5070 };

function msg(first: string, o: { callId?: string; toTag?: boolean; method?: string } = {}): SipMessage {
  const method = o.method ?? 'INVITE';
  const text = [
    first,
    'Via: SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK-1',
    'From: <sip:101@office>;tag=a',
    `To: <sip:202@office>${o.toTag ? ';tag=b' : ''}`,
    `Call-ID: ${o.callId ?? 'c1'}`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const p = parseMessage(text);
  if (!p.ok) throw new Error(p.error.reason);
  return p.message;
}

const tracker = () =>
  new LocalCallTracker(
    (user) => user === '201' || user === '202',
    (source) => (source.host === PHONE_201.host ? '201' : undefined),
  );

describe('LocalCallTracker', () => {
  it('an incoming call to a local phone: trying -> ringing (180) -> on a call (200) -> idle (BYE)', () => {
    const t = tracker();
    expect(t.observe(msg('INVITE sip:202@10.0.0.1:5070 SIP/2.0'), PEER, 0)).toEqual(['202']);
    expect(t.activity('202', 0)).toBeNull(); // not ringing before the phone says so
    expect(t.observe(msg('SIP/2.0 180 Ringing', { toTag: true }), PHONE_201, 1)).toEqual(['202']);
    expect(t.activity('202', 1)).toBe('ringing');
    t.observe(msg('SIP/2.0 200 OK', { toTag: true }), PHONE_201, 2);
    expect(t.activity('202', 2)).toBe('on-call');
    // A re-INVITE (To tag) starts nothing new.
    expect(t.observe(msg('INVITE sip:202@10.0.0.1:5070 SIP/2.0', { toTag: true }), PEER, 3)).toEqual([]);
    expect(t.observe(msg('BYE sip:202@10.0.0.1 SIP/2.0', { toTag: true, method: 'BYE' }), PEER, 4)).toEqual([
      '202',
    ]);
    expect(t.activity('202', 4)).toBeNull();
    expect(t.size).toBe(0);
  });

  it('a call from a local phone to another: both legs; a 486 ends both', () => {
    const t = tracker();
    expect(t.observe(msg('INVITE sip:202@10.0.0.1:5070 SIP/2.0'), PHONE_201, 0)).toEqual(['201', '202']);
    expect(t.activity('201', 0)).toBe('on-call'); // dialling out is being on the phone
    t.observe(msg('SIP/2.0 180 Ringing', { toTag: true }), PEER, 1);
    expect(t.activity('202', 1)).toBe('ringing');
    expect(t.observe(msg('SIP/2.0 486 Busy Here', { toTag: true }), PEER, 2).sort()).toEqual(['201', '202']);
    expect(t.activity('201', 2)).toBeNull();
    expect(t.activity('202', 2)).toBeNull();
  });

  it('ignores calls of no local phone, CANCEL ends an unanswered one, stale calls are dropped', () => {
    const t = tracker();
    expect(t.observe(msg('INVITE sip:555@10.0.0.1 SIP/2.0'), PEER, 0)).toEqual([]);
    t.observe(msg('INVITE sip:202@10.0.0.1 SIP/2.0', { callId: 'c2' }), PEER, 0);
    t.observe(msg('SIP/2.0 180 Ringing', { callId: 'c2', toTag: true }), PEER, 0);
    expect(
      t.observe(msg('CANCEL sip:202@10.0.0.1 SIP/2.0', { callId: 'c2', method: 'CANCEL' }), PEER, 1),
    ).toEqual(['202']);
    t.observe(msg('INVITE sip:202@10.0.0.1 SIP/2.0', { callId: 'c3' }), PEER, 0);
    t.observe(msg('SIP/2.0 200 OK', { callId: 'c3', toTag: true }), PEER, 0);
    expect(t.activity('202', 1000)).toBe('on-call');
    expect(t.activity('202', 13 * 3600_000)).toBeNull(); // no BYE seen for 13 h
  });
});
