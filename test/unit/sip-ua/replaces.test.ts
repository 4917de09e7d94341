// RFC 3891 Replaces in the UA core: which dialogs an INVITE with Replaces may take over, the
// refusals (481, 486, 603, 400), and the BYE / CANCEL of the replaced dialog once the new one is up.
import { describe, expect, it } from 'vitest';
import { getHeader, type Header, type SipRequest, textBody } from '../../../src/core/sip/message.ts';
import { serializeUri } from '../../../src/core/sip/serialize.ts';
import {
  parseReplaces,
  referToWithReplaces,
  replacesOfUri,
  serializeReplaces,
  withoutUriHeaders,
} from '../../../src/core/sip/ua/replaces.ts';
import { parseUri } from '../../../src/core/sip/uri.ts';
import { Network, type Node } from './network.ts';

const sdp = { body: textBody('v=0\r\no=x 1 1 IN IP4 10.0.0.9\r\n'), contentType: 'application/sdp' };

function setup() {
  const net = new Network();
  return { net, a: net.add('alice'), b: net.add('bob'), c: net.add('carol') };
}

/** `from` calls `to`, which answers; returns both handles. */
function establish(net: Network, from: Node, to: Node): { caller: string; callee: string } {
  let caller = '';
  net.act((now) => (caller = from.ua.call(to.uri, sdp, now)));
  net.run(net.now + 50);
  const callee = net.of(to, 'incoming-call').at(-1)?.call ?? '';
  net.act((now) => to.ua.accept(callee, sdp, now));
  net.run(net.now + 50);
  return { caller, callee };
}

/** What the transferor A puts in Refer-To for its call `call` with C (RFC 5589 7.1). */
function replacesFor(net: Network, a: Node, c: Node, call: string): string {
  const info = a.ua.dialogInfo(call);
  if (!info) throw new Error('no dialog');
  const uri = parseUri(serializeUri(referToWithReplaces(c.uri, info)));
  if (!uri) throw new Error('Refer-To does not parse');
  expect(serializeUri(withoutUriHeaders(uri))).toBe(serializeUri(c.uri));
  void net;
  return replacesOfUri(uri) ?? '';
}

function inviteWithReplaces(net: Network, b: Node, c: Node, replaces: string, extra: Header[] = []): string {
  let id = '';
  net.act(
    (now) =>
      (id = b.ua.call(c.uri, sdp, now, { headers: [{ name: 'Replaces', value: replaces }, ...extra] })),
  );
  net.run(net.now + 50);
  return id;
}

function lastInviteResponse(net: Network, c: Node): number | undefined {
  const r = net.sent.filter(
    (s) => s.from === c.addr && s.message.type === 'response' && s.message.cseq.method === 'INVITE',
  );
  const last = r.at(-1)?.message;
  return last?.type === 'response' ? last.status : undefined;
}

describe('Replaces header', () => {
  it('parses and serializes callid;to-tag;from-tag[;early-only]; rejects what lacks a tag', () => {
    const p = parseReplaces('abc@10.0.0.1 ; to-tag=x1;from-tag=y2;early-only');
    expect(p).toEqual({
      ok: true,
      value: { callId: 'abc@10.0.0.1', toTag: 'x1', fromTag: 'y2', earlyOnly: true },
    });
    if (p.ok) expect(serializeReplaces(p.value)).toBe('abc@10.0.0.1;to-tag=x1;from-tag=y2;early-only');
    expect(parseReplaces('abc;to-tag=x').ok).toBe(false);
    expect(parseReplaces(';to-tag=x;from-tag=y').ok).toBe(false);
    expect(parseReplaces('a b;to-tag=x;from-tag=y').ok).toBe(false);
    expect(parseReplaces('abc;to-tag=;from-tag=y').ok).toBe(false);
  });

  it('the Refer-To URI escapes the embedded Replaces and swaps the tags to the target view', () => {
    const target = parseUri('sip:103@10.0.0.3:5070');
    if (!target) throw new Error('uri');
    const uri = referToWithReplaces(target, { callId: 'k9@h', localTag: 'mine', remoteTag: 'theirs' });
    const text = serializeUri(uri);
    expect(text).toBe('sip:103@10.0.0.3:5070?Replaces=k9%40h%3Bto-tag%3Dtheirs%3Bfrom-tag%3Dmine');
    const back = parseUri(text);
    expect(back && replacesOfUri(back)).toBe('k9@h;to-tag=theirs;from-tag=mine');
  });
});

describe('INVITE with Replaces at the UAS (RFC 3891 section 3)', () => {
  it('replaces a confirmed dialog: the new call is offered with `replaces`, the old one gets BYE after the ACK', () => {
    const { net, a, b, c } = setup();
    const ac = establish(net, a, c);
    const replaces = replacesFor(net, a, c, ac.caller);
    const bc = inviteWithReplaces(net, b, c, replaces, [{ name: 'Require', value: 'replaces' }]);
    const offered = net.of(c, 'incoming-call').at(-1);
    expect(offered?.replaces).toBe(ac.callee);
    // Nothing happens to the old call before the new one is answered.
    expect(net.of(a, 'call-ended')).toHaveLength(0);
    net.act((now) => c.ua.accept(offered?.call ?? '', sdp, now));
    net.run(net.now + 100);
    expect(net.of(b, 'call-answered').map((e) => e.call)).toEqual([bc]);
    expect(net.of(c, 'call-ended')).toMatchObject([
      { call: ac.callee, reason: 'local-bye', replacedBy: offered?.call },
    ]);
    expect(net.of(a, 'call-ended')).toMatchObject([{ call: ac.caller, reason: 'remote-bye' }]);
    expect(c.ua.load.calls).toBe(1);
  });

  it('an unknown dialog gets 481 and nothing rings', () => {
    const { net, b, c } = setup();
    inviteWithReplaces(net, b, c, 'nosuch@x;to-tag=a;from-tag=b');
    expect(lastInviteResponse(net, c)).toBe(481);
    expect(net.of(c, 'incoming-call')).toHaveLength(0);
    expect(net.of(b, 'call-ended')).toMatchObject([{ reason: 'rejected', status: 481 }]);
  });

  it('an early dialog this UA is answering (not initiated by it) gets 481', () => {
    const { net, a, b, c } = setup();
    net.act((now) => a.ua.call(c.uri, sdp, now));
    net.run(net.now + 50);
    const ringing = net.of(c, 'incoming-call')[0].call;
    net.act((now) => c.ua.ringing(ringing, now));
    net.run(net.now + 50);
    const invite = net.of(c, 'incoming-call')[0].request as SipRequest;
    const localTag = net.sentBy(c, 180)[0].message.to.params.tag as string;
    inviteWithReplaces(net, b, c, `${invite.callId};to-tag=${localTag};from-tag=${invite.from.params.tag}`);
    expect(lastInviteResponse(net, c)).toBe(481);
    expect(net.of(c, 'incoming-call')).toHaveLength(1);
  });

  it('early-only naming a confirmed dialog gets 486; two Replaces headers get 400', () => {
    const { net, a, b, c } = setup();
    const ac = establish(net, a, c);
    const replaces = replacesFor(net, a, c, ac.caller);
    inviteWithReplaces(net, b, c, `${replaces};early-only`);
    expect(lastInviteResponse(net, c)).toBe(486);
    inviteWithReplaces(net, b, c, replaces, [{ name: 'Replaces', value: replaces }]);
    expect(lastInviteResponse(net, c)).toBe(400);
    expect(net.of(c, 'incoming-call')).toHaveLength(1);
    expect(net.of(a, 'call-ended')).toHaveLength(0);
  });

  it('a dialog that already ended gets 603 Declined', () => {
    const { net, a, b, c } = setup();
    const ac = establish(net, a, c);
    const replaces = replacesFor(net, a, c, ac.caller);
    net.act((now) => a.ua.bye(ac.caller, now));
    net.run(net.now + 50);
    inviteWithReplaces(net, b, c, replaces);
    expect(lastInviteResponse(net, c)).toBe(603);
  });

  it('replaces an early dialog this UA initiated: the old INVITE is cancelled once the new call is up', () => {
    const { net, a, b, c } = setup();
    // C calls A (call pickup shape): A rings; B takes the call over with Replaces at C.
    let cOut = '';
    net.act((now) => (cOut = c.ua.call(a.uri, sdp, now)));
    net.run(net.now + 50);
    const aIn = net.of(a, 'incoming-call')[0].call;
    net.act((now) => a.ua.ringing(aIn, now));
    net.run(net.now + 50);
    const aTag = net.sentBy(a, 180)[0].message.to.params.tag as string;
    const info = c.ua.dialogInfo(cOut);
    expect(info).toBeNull(); // no dialog before a 2xx: the Replaces names the early dialog by tags
    const invite = net.sentBy(c, 'INVITE')[0].message as SipRequest;
    inviteWithReplaces(net, b, c, `${invite.callId};to-tag=${invite.from.params.tag};from-tag=${aTag}`);
    const offered = net.of(c, 'incoming-call').at(-1);
    expect(offered?.replaces).toBe(cOut);
    net.act((now) => c.ua.accept(offered?.call ?? '', sdp, now));
    net.run(net.now + 200);
    expect(net.sentBy(c, 'CANCEL')).toHaveLength(1);
    expect(net.of(c, 'call-ended')).toMatchObject([
      { call: cOut, reason: 'cancelled', replacedBy: offered?.call },
    ]);
    expect(net.of(a, 'call-ended')).toMatchObject([{ call: aIn, reason: 'cancelled' }]);
  });

  it('Require: replaces is accepted, an unknown option tag gets 420 naming only it; INVITEs say Supported', () => {
    const { net, b, c } = setup();
    let id = '';
    net.act(
      (now) =>
        (id = b.ua.call(c.uri, sdp, now, { headers: [{ name: 'Require', value: 'replaces, 100rel' }] })),
    );
    net.run(net.now + 50);
    const res = net.sentBy(c, 420)[0]?.message;
    expect(res && getHeader(res, 'Unsupported')).toBe('100rel');
    expect(net.of(b, 'call-ended')).toMatchObject([{ call: id, status: 420 }]);
    const invite = net.sentBy(b, 'INVITE')[0].message;
    expect(getHeader(invite, 'Supported')).toBe('replaces');
  });

  it('dialogInfo exposes the tags and the remote target of a confirmed call', () => {
    const { net, a, c } = setup();
    const ac = establish(net, a, c);
    const fromA = a.ua.dialogInfo(ac.caller);
    const fromC = c.ua.dialogInfo(ac.callee);
    expect(fromA?.state).toBe('confirmed');
    expect(fromA?.localTag).toBe(fromC?.remoteTag);
    expect(fromA?.remoteTag).toBe(fromC?.localTag);
    expect(fromA && serializeUri(fromA.remoteTarget)).toBe('sip:carol@10.0.0.3:5060');
    expect(a.ua.dialogInfo('nope')).toBeNull();
  });
});
