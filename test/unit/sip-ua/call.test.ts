import { describe, expect, it } from 'vitest';
import { bodyText, getHeader, textBody } from '../../../src/core/sip/message.ts';
import { Network } from './network.ts';

const offer = { body: textBody('v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\n'), contentType: 'application/sdp' };
const answer = { body: textBody('v=0\r\no=b 2 2 IN IP4 10.0.0.2\r\n'), contentType: 'application/sdp' };

function setup(transport: 'UDP' | 'TCP' = 'UDP') {
  const net = new Network();
  const a = net.add('alice', {}, null, transport);
  const b = net.add('bob', {}, null, transport);
  return { net, a, b };
}

/** Alice calls Bob, Bob rings and answers; returns both call handles. */
function establish(s: ReturnType<typeof setup>) {
  const { net, a, b } = s;
  let ca = '';
  net.act((now) => (ca = a.ua.call(b.uri, offer, now)));
  net.run(net.now + 50);
  const incoming = net.of(b, 'incoming-call');
  expect(incoming).toHaveLength(1);
  const cb = incoming[0].call;
  expect(bodyText(incoming[0].request)).toBe(bodyText(offer));
  net.act((now) => b.ua.ringing(cb, now));
  net.run(net.now + 50);
  net.act((now) => b.ua.accept(cb, answer, now));
  net.run(net.now + 50);
  return { ca, cb };
}

describe('two user agents back to back', () => {
  it('sets up a call: 180, 200 with the answer body, end-to-end ACK; then caller hangs up', () => {
    const s = setup();
    const { net, a, b } = s;
    const { ca, cb } = establish(s);
    expect(net.of(a, 'call-progress').map((e) => e.status)).toEqual([180]);
    const answered = net.of(a, 'call-answered');
    expect(answered).toHaveLength(1);
    expect(bodyText(answered[0].message)).toBe(bodyText(answer));
    expect(net.of(b, 'call-answered').map((e) => e.call)).toEqual([cb]);
    const ack = net.sentBy(a, 'ACK');
    expect(ack).toHaveLength(1);
    expect(ack[0].message.type === 'request' && ack[0].message.via[0].params.branch).not.toBe(
      net.sentBy(a, 'INVITE')[0].message.via[0].params.branch,
    );
    // The 200 was not retransmitted after the ACK.
    net.run(net.now + 10_000);
    expect(net.sentBy(b, 200)).toHaveLength(1);
    net.act((now) => a.ua.bye(ca, now));
    net.run(net.now + 50);
    expect(net.of(a, 'call-ended')).toMatchObject([{ call: ca, reason: 'local-bye' }]);
    expect(net.of(b, 'call-ended')).toMatchObject([{ call: cb, reason: 'remote-bye' }]);
    expect(net.sentBy(b, 200).map((x) => x.message.cseq.method)).toEqual(['INVITE', 'BYE']);
    net.run(net.now + 60_000);
    expect(a.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
    expect(b.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
    expect([...a.timers.keys(), ...b.timers.keys()]).toEqual([]);
  });

  it('callee hangs up with BYE carrying the right tags and CSeq', () => {
    const s = setup();
    const { net, a, b } = s;
    const { ca, cb } = establish(s);
    net.act((now) => b.ua.bye(cb, now));
    net.run(net.now + 50);
    const bye = net.sentBy(b, 'BYE')[0].message;
    const invite = net.sentBy(a, 'INVITE')[0].message;
    expect(bye.to.params.tag).toBe(invite.from.params.tag);
    expect(bye.callId).toBe(invite.callId);
    expect(bye.cseq.seq).toBe(1);
    expect(bye.type === 'request' && bye.uri.user).toBe('alice');
    expect(net.of(a, 'call-ended')).toMatchObject([{ call: ca, reason: 'remote-bye' }]);
    expect(net.of(b, 'call-ended')).toMatchObject([{ call: cb, reason: 'local-bye' }]);
  });

  it('re-INVITE in both directions with new bodies; CSeq increases', () => {
    const s = setup();
    const { net, a, b } = s;
    const { ca, cb } = establish(s);
    const hold = { body: textBody('v=0\r\na=sendonly\r\n'), contentType: 'application/sdp' };
    net.act((now) => expect(a.ua.reinvite(ca, hold, now)).toBe(true));
    net.run(net.now + 50);
    const re = net.of(b, 'reinvite');
    expect(re).toHaveLength(1);
    expect(bodyText(re[0].request)).toContain('sendonly');
    expect(re[0].request.cseq.seq).toBe(2);
    net.act((now) => b.ua.answerReinvite(cb, 200, answer, now));
    net.run(net.now + 50);
    expect(net.of(a, 'reinvite-result')).toMatchObject([{ call: ca, status: 200 }]);
    expect(net.sentBy(a, 'ACK').map((x) => x.message.cseq.seq)).toEqual([1, 2]);
    net.act((now) => expect(b.ua.reinvite(cb, offer, now)).toBe(true));
    net.run(net.now + 50);
    const back = net.of(a, 'reinvite');
    expect(back).toHaveLength(1);
    expect(back[0].request.cseq.seq).toBe(1); // Bob's first request in the dialog after his INVITE 200
    net.act((now) => a.ua.answerReinvite(ca, 488, null, now));
    net.run(net.now + 50);
    expect(net.of(b, 'reinvite-result')).toMatchObject([{ status: 488 }]);
    // The call survives a rejected re-INVITE.
    net.run(net.now + 40_000);
    expect(net.of(a, 'call-ended')).toHaveLength(0);
    expect(net.sentBy(b, 200).filter((x) => x.message.cseq.method === 'INVITE')).toHaveLength(2);
  });

  it('CANCEL while ringing: 200 to CANCEL, 487 to INVITE, ACK for the 487', () => {
    const { net, a, b } = setup();
    let ca = '';
    net.act((now) => (ca = a.ua.call(b.uri, offer, now)));
    net.run(50);
    const cb = net.of(b, 'incoming-call')[0].call;
    net.act((now) => b.ua.ringing(cb, now));
    net.run(100);
    net.act((now) => a.ua.cancel(ca, now));
    net.run(200);
    expect(net.sentBy(a, 'CANCEL')).toHaveLength(1);
    expect(net.sentBy(b, 200).map((x) => x.message.cseq.method)).toEqual(['CANCEL']);
    expect(net.sentBy(b, 487)).toHaveLength(1);
    expect(net.sentBy(a, 'ACK')).toHaveLength(1);
    expect(net.of(a, 'call-ended')).toMatchObject([{ call: ca, reason: 'cancelled', status: 487 }]);
    expect(net.of(b, 'call-ended')).toMatchObject([{ call: cb, reason: 'cancelled' }]);
    net.run(60_000);
    expect(a.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
    expect(b.ua.load).toEqual({ calls: 0, transactions: 0, timers: 0 });
  });

  it('CANCEL before any provisional waits for the 100 Trying (9.1)', () => {
    const { net, a, b } = setup();
    let ca = '';
    net.act((now) => (ca = a.ua.call(b.uri, offer, now)));
    net.act((now) => a.ua.cancel(ca, now));
    net.run(150);
    expect(net.sentBy(a, 'CANCEL')).toHaveLength(0);
    net.run(400); // Bob's automatic 100 Trying goes out at 205 ms
    expect(net.sentBy(b, 100)).toHaveLength(1);
    expect(net.sentBy(a, 'CANCEL')).toHaveLength(1);
    expect(net.of(a, 'call-ended')).toMatchObject([{ reason: 'cancelled', status: 487 }]);
  });

  it('rejection: 486 reaches the caller, the transaction ACKs it', () => {
    const { net, a, b } = setup();
    net.act((now) => a.ua.call(b.uri, offer, now));
    net.run(50);
    net.act((now) => b.ua.reject(net.of(b, 'incoming-call')[0].call, 486, now));
    net.run(100);
    expect(net.of(a, 'call-ended')).toMatchObject([
      { reason: 'rejected', status: 486, response: { status: 486 } },
    ]);
    expect(net.of(b, 'call-ended')).toMatchObject([{ reason: 'declined', status: 486 }]);
    const ack = net.sentBy(a, 'ACK')[0].message;
    expect(ack.via[0].params.branch).toBe(net.sentBy(a, 'INVITE')[0].message.via[0].params.branch);
    net.run(40_000);
    expect(net.sentBy(b, 486)).toHaveLength(1); // ACK stopped timer G
  });

  it('a lost 200 is retransmitted until the ACK arrives (13.3.1.4)', () => {
    const s = setup();
    const { net, a, b } = s;
    let lost = 0;
    net.drop = (m) => m.type === 'response' && m.status === 200 && m.cseq.method === 'INVITE' && lost++ < 2;
    establish(s);
    net.run(net.now + 10_000);
    const oks = net.sentBy(b, 200);
    expect(oks).toHaveLength(3);
    expect(oks[1].at - oks[0].at).toBe(500);
    expect(oks[2].at - oks[1].at).toBe(1000);
    expect(net.of(a, 'call-answered')).toHaveLength(1);
    expect(net.of(b, 'call-answered')).toHaveLength(1);
    expect(net.sentBy(a, 'ACK')).toHaveLength(1);
  });

  it('a lost ACK: the 200 is retransmitted and the caller re-ACKs it', () => {
    const s = setup();
    const { net, a, b } = s;
    let lost = 0;
    net.drop = (m) => m.type === 'request' && m.method === 'ACK' && lost++ < 1;
    establish(s);
    net.run(net.now + 10_000);
    expect(net.sentBy(b, 200)).toHaveLength(2);
    expect(net.sentBy(a, 'ACK')).toHaveLength(2);
    expect(net.of(a, 'call-answered')).toHaveLength(1);
    expect(net.of(b, 'call-answered')).toHaveLength(1);
  });

  it('no ACK at all: 200 retransmits double up to T2, then BYE after 64*T1', () => {
    const s = setup();
    const { net, a, b } = s;
    net.drop = (m) => m.type === 'request' && m.method === 'ACK';
    const { cb } = establish(s);
    net.run(net.now + 60_000);
    const times = net
      .sentBy(b, 200)
      .filter((x) => x.message.cseq.method === 'INVITE')
      .map((x) => x.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
    const ended = net.of(b, 'call-ended');
    expect(ended).toMatchObject([{ call: cb, reason: 'no-ack' }]);
    expect(ended[0].at - times[0]).toBe(32_000);
    expect(net.sentBy(b, 'BYE')).toHaveLength(1);
    expect(net.of(a, 'call-ended')).toMatchObject([{ reason: 'remote-bye' }]);
  });

  it('a lost INVITE is recovered by timer A', () => {
    const s = setup();
    const { net, a } = s;
    let lost = 0;
    net.drop = (m) => m.type === 'request' && m.method === 'INVITE' && lost++ < 1;
    net.act((now) => a.ua.call(s.b.uri, offer, now));
    net.run(600);
    expect(net.sentBy(a, 'INVITE').map((x) => x.at)).toEqual([0, 500]);
    expect(net.of(s.b, 'incoming-call')).toHaveLength(1);
  });

  it('works over TCP without any retransmission', () => {
    const s = setup('TCP');
    const { net, a, b } = s;
    const { ca } = establish(s);
    net.run(net.now + 40_000);
    expect(net.sentBy(a, 'INVITE')).toHaveLength(1);
    expect(net.sentBy(b, 200)).toHaveLength(1);
    expect(getHeader(net.sentBy(b, 200)[0].message, 'Contact')).toContain('transport=tcp');
    net.act((now) => a.ua.hangup(ca, now));
    net.run(net.now + 100);
    expect(net.of(b, 'call-ended')).toMatchObject([{ reason: 'remote-bye' }]);
    expect(a.ua.load.transactions).toBe(0);
  });
});

describe('forked answers (13.2.2.4)', () => {
  it('ACKs and BYEs a second 2xx from another fork, keeping the first call', () => {
    const s = setup();
    const { net, a, b } = s;
    establish(s);
    const ok = net.sentBy(b, 200)[0].message as import('../../../src/core/sip/message.ts').SipResponse;
    const fork = structuredClone(ok);
    fork.to.params.tag = 'otherfork';
    net.act((now) => a.ua.receive(fork, b.addr, now));
    net.run(net.now + 100);
    const acks = net.sentBy(a, 'ACK').map((x) => x.message.to.params.tag);
    expect(acks).toEqual([ok.to.params.tag, 'otherfork']);
    expect(net.sentBy(a, 'BYE').map((x) => x.message.to.params.tag)).toEqual(['otherfork']);
    expect(net.of(a, 'call-ended')).toHaveLength(0);
    expect(net.of(b, 'call-ended')).toHaveLength(0);
    expect(net.sentBy(b, 481).map((x) => x.message.cseq.method)).toEqual(['BYE']); // not Bob's dialog
  });
});

describe('INVITE retransmission after the 2xx ended the server transaction', () => {
  it('answers it with the same 2xx instead of offering a second call', () => {
    const { net, a, b } = setup();
    let lost = 0;
    net.drop = (m) => m.type === 'response' && m.status === 200 && lost++ < 1;
    net.act((now) => a.ua.call(b.uri, offer, now));
    net.run(20);
    net.act((now) => b.ua.accept(net.of(b, 'incoming-call')[0].call, answer, now)); // before the 100
    net.run(2_000);
    expect(net.sentBy(a, 'INVITE').map((x) => x.at)).toEqual([0, 500]);
    expect(net.of(b, 'incoming-call')).toHaveLength(1);
    expect(net.of(a, 'call-answered')).toHaveLength(1);
    expect(net.of(b, 'call-answered')).toHaveLength(1);
    net.run(60_000);
    expect(b.ua.load).toEqual({ calls: 1, transactions: 0, timers: 0 });
  });
});

describe('re-INVITE over a lossy network', () => {
  it('recovers a lost 200 and a lost ACK of a re-INVITE', () => {
    const s = setup();
    const { net, a, b } = s;
    const { ca, cb } = establish(s);
    let lostOk = 0;
    let lostAck = 0;
    net.drop = (m) =>
      (m.type === 'response' &&
        m.status === 200 &&
        m.cseq.seq === 2 &&
        m.cseq.method === 'INVITE' &&
        lostOk++ < 1) ||
      (m.type === 'request' && m.method === 'ACK' && m.cseq.seq === 2 && lostAck++ < 1);
    net.act((now) => a.ua.reinvite(ca, offer, now));
    net.run(net.now + 50);
    net.act((now) => b.ua.answerReinvite(cb, 200, answer, now));
    net.run(net.now + 10_000);
    const oks = net.sentBy(b, 200).filter((x) => x.message.cseq.seq === 2);
    expect(oks).toHaveLength(3); // lost, retransmitted (its ACK lost), retransmitted again
    expect(net.sentBy(a, 'ACK').filter((x) => x.message.cseq.seq === 2)).toHaveLength(2);
    expect(net.of(a, 'reinvite-result')).toMatchObject([{ status: 200 }]);
    net.run(net.now + 40_000);
    expect(net.of(a, 'call-ended')).toHaveLength(0);
    expect(net.of(b, 'call-ended')).toHaveLength(0);
    expect(b.ua.load).toEqual({ calls: 1, transactions: 0, timers: 0 });
  });
});

describe('offerless INVITE (offer in the 2xx, answer in the ACK)', () => {
  it('carries the answer from answerOffer in the ACK and hands it to the callee', () => {
    const { net, a, b } = setup();
    let seenOffer = '';
    net.act((now) =>
      a.ua.call(b.uri, null, now, {
        answerOffer: (res) => {
          seenOffer = bodyText(res);
          return answer;
        },
      }),
    );
    net.run(50);
    const incoming = net.of(b, 'incoming-call')[0];
    expect(incoming.request.body.length).toBe(0);
    net.act((now) => b.ua.accept(incoming.call, offer, now));
    net.run(100);
    expect(seenOffer).toBe(bodyText(offer));
    const confirmed = net.of(b, 'call-answered');
    expect(confirmed).toHaveLength(1);
    expect(bodyText(confirmed[0].message)).toBe(bodyText(answer));
    expect(getHeader(confirmed[0].message, 'Content-Type')).toBe('application/sdp');
  });
});
