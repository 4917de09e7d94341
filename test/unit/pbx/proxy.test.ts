import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { type LookupResult, PbxProxy, type ProxyConfig } from '../../../src/core/pbx/proxy.ts';
import { loopHash, makeBranch } from '../../../src/core/pbx/proxy-routing.ts';
import { Registrar } from '../../../src/core/pbx/registrar.ts';
import { createResponse } from '../../../src/core/sip/build.ts';
import { buildAuthorization, createChallenge, verifyAuthorization } from '../../../src/core/sip/digest.ts';
import { createNonce, nonceChecker } from '../../../src/core/sip/digest-nonce.ts';
import {
  getHeader,
  getHeaders,
  type SipRequest,
  type SipResponse,
  type SipUri,
  topBranch,
} from '../../../src/core/sip/message.ts';
import { parseMessage } from '../../../src/core/sip/parse.ts';
import { serializeMessage } from '../../../src/core/sip/serialize.ts';
import type { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import { Sim, type SimNode } from './sim.ts';

const PROXY_ADDR: Address = { transport: 'UDP', host: '10.0.0.1', port: 5060 };
const NODE_ID = 'c'.repeat(32);

type Phone = SimNode<UserAgentCore> & { uri: SipUri };
type LookupHandler = (e: {
  id: string;
  user: string;
  fromDeskPhone?: string;
  previous?: { status: number; outcome: string };
}) => LookupResult | null;

function setup(opts: { cfg?: Partial<ProxyConfig>; registrar?: boolean; lookup?: LookupHandler } = {}) {
  const sim = new Sim();
  let n = 0;
  const registrar = opts.registrar
    ? new Registrar({
        realm: 'office',
        nonceSecret: 'k',
        accounts: (ext) => (ext === '201' ? { extension: '201', password: 'pw' } : undefined),
        gateway: { nodeId: NODE_ID, host: '10.0.0.1', port: 5060, transport: 'UDP' },
      })
    : null;
  const proxy = new PbxProxy(
    { host: '10.0.0.1', port: 5060, transport: 'UDP', timerC: 180_000, ...opts.cfg },
    () => `px${(++n).toString(16).padStart(6, '0')}`,
    registrar,
  );
  const px = sim.add('proxy', proxy, PROXY_ADDR);
  const lookups: Array<{
    id: string;
    user: string;
    fromDeskPhone?: string;
    previous?: { status: number; outcome: string };
  }> = [];
  px.onEvent = (e) => {
    if (e.type !== 'need-lookup') return;
    const ev = e as unknown as (typeof lookups)[number];
    lookups.push(ev);
    const r = opts.lookup?.(ev);
    if (r) proxy.lookupResult(ev.id, r, sim.now);
  };
  return { sim, proxy, px, lookups };
}

function target(p: Phone): { uri: SipUri } {
  return { uri: p.uri };
}

function proxyUri(user: string): SipUri {
  return { scheme: 'sip', user, password: null, host: '10.0.0.1', port: 5060, params: {}, headers: {} };
}

/** Callee behaviour: ring at once, then answer / reject / nothing after `after` ms. */
function callee(sim: Sim, p: Phone, action: 'answer' | 'ring' | number, after = 1000): void {
  p.onEvent = (e) => {
    if (e.type !== 'incoming-call') return;
    const call = e.call as string;
    p.machine.ringing(call, sim.now);
    if (action === 'ring') return;
    sim.at(sim.now + after, (now) => {
      if (action === 'answer') p.machine.accept(call, null, now);
      else p.machine.reject(call, action, now);
      sim.collect();
    });
  };
}

function finals(sim: Sim, from: string, toHost: string): SipResponse[] {
  return sim.sent
    .filter(
      (s) =>
        s.from === from && s.to.host === toHost && s.message.type === 'response' && s.message.status >= 200,
    )
    .map((s) => s.message as SipResponse);
}

function threeCallees(sim: Sim) {
  return [sim.phone('b1', 21), sim.phone('b2', 22), sim.phone('b3', 23)] as Phone[];
}

describe('proxy: forking', () => {
  it('rings three contacts in parallel; the first to answer wins, the others get CANCEL (487s absorbed)', () => {
    let bs: Phone[] = [];
    const { sim, proxy, px, lookups } = setup({ lookup: () => ({ type: 'fork', targets: bs.map(target) }) });
    const a = sim.phone('a', 10) as Phone;
    bs = threeCallees(sim);
    callee(sim, bs[0], 'ring');
    callee(sim, bs[1], 'answer', 1500);
    callee(sim, bs[2], 'ring');
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(5_000);

    expect(lookups.map((l) => l.user)).toEqual(['101']);
    expect(sim.sentBy(px, 'INVITE')).toHaveLength(3);
    expect(sim.eventsOf(a, 'call-answered')).toHaveLength(1);
    // Ringing went upstream.
    expect(
      sim.sent.some(
        (s) =>
          s.from === 'proxy' &&
          s.to.host === '10.0.0.10' &&
          s.message.type === 'response' &&
          s.message.status === 180,
      ),
    ).toBe(true);
    // The losers were cancelled; their 487s never reached the caller.
    const cancels = sim
      .sentBy(px, 'CANCEL')
      .map((s) => s.to.host)
      .sort();
    expect(cancels).toEqual(['10.0.0.21', '10.0.0.23']);
    expect(sim.eventsOf(bs[0], 'call-ended')[0]).toMatchObject({ reason: 'cancelled' });
    expect(sim.eventsOf(bs[2], 'call-ended')[0]).toMatchObject({ reason: 'cancelled' });
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([200]);
    expect(sim.eventsOf(px, 'final')).toMatchObject([{ status: 200, method: 'INVITE' }]);

    // Record-Route was added, so the dialog's BYE comes through the proxy.
    const fwdInvite = sim.sentBy(px, 'INVITE')[0].message as SipRequest;
    expect(getHeaders(fwdInvite, 'Record-Route')[0]).toBe('<sip:10.0.0.1:5060;lr>');
    const ackThroughProxy = sim.sentBy(px, 'ACK').filter((s) => s.to.host === '10.0.0.22');
    expect(ackThroughProxy).toHaveLength(1);
    const call = sim.eventsOf(a, 'call-answered')[0].call as string;
    sim.act((now) => a.machine.bye(call, now));
    sim.run(10_000);
    const bye = sim.sentBy(a, 'BYE')[0];
    expect(bye.to).toEqual(PROXY_ADDR);
    expect(getHeader(bye.message, 'Route')).toBe('<sip:10.0.0.1:5060;lr>');
    const fwdBye = sim.sentBy(px, 'BYE')[0];
    expect(fwdBye.to.host).toBe('10.0.0.22');
    expect(getHeader(fwdBye.message, 'Route')).toBeUndefined();
    expect(sim.eventsOf(bs[1], 'call-ended')[0]).toMatchObject({ reason: 'remote-bye' });
    expect(sim.eventsOf(a, 'call-ended')[0]).toMatchObject({ reason: 'local-bye' });

    sim.run(120_000);
    expect(proxy.load).toEqual({ contexts: 0, transactions: 0 });
    expect(px.timers.size).toBe(0);
  });

  it('all contacts busy: one 486 goes upstream', () => {
    let bs: Phone[] = [];
    const { sim, px } = setup({ lookup: () => ({ type: 'fork', targets: bs.map(target) }) });
    const a = sim.phone('a', 10) as Phone;
    bs = threeCallees(sim);
    for (const [i, b] of bs.entries()) callee(sim, b, 486, 200 * (i + 1));
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(5_000);
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([486]);
    expect(sim.eventsOf(a, 'call-ended')[0]).toMatchObject({ reason: 'rejected', status: 486 });
    expect(sim.sentBy(px, 'CANCEL')).toHaveLength(0);
  });

  it('a 6xx cancels the other branches and is the answer', () => {
    let bs: Phone[] = [];
    const { sim, px } = setup({ lookup: () => ({ type: 'fork', targets: bs.map(target) }) });
    const a = sim.phone('a', 10) as Phone;
    bs = threeCallees(sim);
    callee(sim, bs[0], 'ring');
    callee(sim, bs[1], 603, 500);
    callee(sim, bs[2], 486, 100);
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(5_000);
    expect(sim.sentBy(px, 'CANCEL').map((s) => s.to.host)).toEqual(['10.0.0.21']);
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([603]);
  });

  it('Timer C: a branch ringing too long is cancelled and the caller gets 408', () => {
    let bs: Phone[] = [];
    const { sim, px, proxy } = setup({
      cfg: { timerC: 181_000 },
      lookup: () => ({ type: 'fork', targets: bs.map(target) }),
    });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone];
    callee(sim, bs[0], 'ring');
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(150_000);
    expect(sim.sentBy(px, 'CANCEL')).toHaveLength(0);
    sim.run(190_000);
    expect(sim.sentBy(px, 'CANCEL')).toHaveLength(1);
    expect(sim.sentBy(px, 'CANCEL')[0].at).toBeGreaterThanOrEqual(181_000);
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([408]);
    sim.run(300_000);
    expect(proxy.load.contexts).toBe(0);
  });

  it('a contact that never answers at all times out as 408 (Timer B) while another is busy', () => {
    let bs: Phone[] = [];
    const { sim } = setup({
      lookup: () => ({
        type: 'fork',
        targets: [
          ...bs.map(target),
          { uri: proxyUri('x'), address: { transport: 'UDP', host: '10.9.9.9', port: 5060 } },
        ],
      }),
    });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone];
    callee(sim, bs[0], 486, 100);
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(60_000);
    // The received 486 beats the synthesized 408.
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([486]);
  });

  it('CANCEL from the caller is propagated to every ringing branch; the caller gets 487', () => {
    let bs: Phone[] = [];
    const { sim, px } = setup({ lookup: () => ({ type: 'fork', targets: bs.map(target) }) });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone, sim.phone('b2', 22) as Phone];
    for (const b of bs) callee(sim, b, 'ring');
    const call = (() => {
      let id = '';
      sim.act((now) => {
        id = a.machine.call(proxyUri('101'), null, now);
      });
      return id;
    })();
    sim.run(2_000);
    sim.act((now) => a.machine.cancel(call, now));
    sim.run(5_000);
    expect(
      sim
        .sentBy(px, 'CANCEL')
        .map((s) => s.to.host)
        .sort(),
    ).toEqual(['10.0.0.21', '10.0.0.22']);
    expect(sim.sentBy(px, 200).some((s) => (s.message as SipResponse).cseq.method === 'CANCEL')).toBe(true);
    expect(
      finals(sim, 'proxy', '10.0.0.10')
        .filter((r) => r.cseq.method === 'INVITE')
        .map((r) => r.status),
    ).toEqual([487]);
    expect(sim.eventsOf(a, 'call-ended')[0]).toMatchObject({ reason: 'cancelled' });
    for (const b of bs) expect(sim.eventsOf(b, 'call-ended')[0]).toMatchObject({ reason: 'cancelled' });
  });

  it('no contacts: 480; reject result: its status; an unanswered lookup: 504', () => {
    const results: Array<LookupResult | null> = [
      { type: 'fork', targets: [] },
      { type: 'reject', status: 404 },
      null,
    ];
    const { sim } = setup({ lookup: () => results.shift() ?? null });
    const a = sim.phone('a', 10) as Phone;
    for (let i = 0; i < 3; i++) sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(20_000);
    expect(
      finals(sim, 'proxy', '10.0.0.10')
        .map((r) => r.status)
        .sort(),
    ).toEqual([404, 480, 504]);
  });

  it('fallback: no answer within the ring time asks again, then rings voicemail', () => {
    let bs: Phone[] = [];
    const { sim, lookups, px } = setup({
      lookup: (e) =>
        e.previous
          ? { type: 'fork', targets: [target(bs[1])] }
          : { type: 'fork', targets: [target(bs[0])], timeoutMs: 20_000, fallback: true },
    });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone, sim.phone('vm', 30) as Phone];
    callee(sim, bs[0], 'ring');
    callee(sim, bs[1], 'answer', 100);
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(30_000);
    expect(lookups).toHaveLength(2);
    expect(lookups[1].previous).toEqual({ status: 408, outcome: 'no-answer' });
    expect(sim.sentBy(px, 'CANCEL').map((s) => s.to.host)).toEqual(['10.0.0.21']);
    expect(sim.eventsOf(a, 'call-answered')).toHaveLength(1);
    expect(finals(sim, 'proxy', '10.0.0.10').map((r) => r.status)).toEqual([200]);
  });

  it('fallback on busy reports the busy outcome', () => {
    let bs: Phone[] = [];
    const { sim, lookups } = setup({
      lookup: (e) =>
        e.previous
          ? { type: 'reject', status: 486 }
          : { type: 'fork', targets: [target(bs[0])], fallback: true },
    });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone];
    callee(sim, bs[0], 486, 50);
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(5_000);
    expect(lookups[1].previous).toEqual({ status: 486, outcome: 'busy' });
  });

  it('forwards 2xx retransmissions when the ACK was lost', () => {
    let bs: Phone[] = [];
    const { sim, px } = setup({ lookup: () => ({ type: 'fork', targets: bs.map(target) }) });
    const a = sim.phone('a', 10) as Phone;
    bs = [sim.phone('b1', 21) as Phone];
    callee(sim, bs[0], 'answer', 100);
    let dropped = 0;
    sim.drop = (m, from) =>
      m.type === 'request' && m.method === 'ACK' && from.host === '10.0.0.10' && dropped++ === 0;
    sim.act((now) => a.machine.call(proxyUri('101'), null, now));
    sim.run(10_000);
    const oks = sim.sent.filter(
      (s) =>
        s.from === 'proxy' &&
        s.message.type === 'response' &&
        s.message.status === 200 &&
        s.message.cseq.method === 'INVITE',
    );
    expect(oks.length).toBeGreaterThanOrEqual(2);
    expect(sim.sentBy(px, 'ACK')).toHaveLength(1);
    expect(sim.eventsOf(bs[0], 'call-answered')).toHaveLength(1);
  });
});

describe('proxy: request validation', () => {
  function inviteBytes(maxForwards: number, extraVia = ''): string {
    return [
      'INVITE sip:101@10.0.0.1:5060 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.10:5060;branch=z9hG4bKcaller1',
      ...(extraVia ? [`Via: ${extraVia}`] : []),
      `Max-Forwards: ${maxForwards}`,
      'From: <sip:a@10.0.0.10>;tag=ft1',
      'To: <sip:101@10.0.0.1>',
      'Call-ID: loop-1@10.0.0.10',
      'CSeq: 1 INVITE',
      'Contact: <sip:a@10.0.0.10>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  let lastEffects: ReturnType<PbxProxy['drain']> = [];
  function send(proxy: PbxProxy, raw: string): SipResponse[] {
    const parsed = parseMessage(new TextEncoder().encode(raw));
    if (!parsed.ok) throw new Error(parsed.error.reason);
    proxy.receive(parsed.message, { transport: 'UDP', host: '10.0.0.10', port: 5060 }, 0);
    lastEffects = proxy.drain();
    return lastEffects
      .flatMap((e) => (e.type === 'transmit' && e.message.type === 'response' ? [e.message] : []))
      .map((m) => {
        // Back through the wire, as the caller would see it.
        const again = parseMessage(serializeMessage(m));
        if (!again.ok) throw new Error('unparsable response');
        return again.message as SipResponse;
      });
  }

  it('Max-Forwards 0 -> 483', () => {
    const { proxy, lookups } = setup();
    expect(send(proxy, inviteBytes(0)).map((r) => r.status)).toEqual([483]);
    expect(lookups).toHaveLength(0);
  });

  it('a request that looped back -> 482; a spiral (other Request-URI) is proxied', () => {
    const { proxy, lookups } = setup();
    const parsed = parseMessage(inviteBytes(69));
    if (!parsed.ok) throw new Error('parse');
    const branch = makeBranch(loopHash(parsed.message as SipRequest), 'k9', 0);
    expect(
      send(proxy, inviteBytes(69, `SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}`)).map((r) => r.status),
    ).toEqual([482]);
    const spiral = makeBranch('0123456789abcdef', 'k9', 0);
    const spiralled = inviteBytes(69, `SIP/2.0/UDP 10.0.0.1:5060;branch=${spiral}`).replace(
      'z9hG4bKcaller1',
      'z9hG4bKcaller3',
    );
    expect(send(proxy, spiralled).map((r) => r.status)).toEqual([]);
    expect(lastEffects.filter((e) => e.type === 'need-lookup')).toMatchObject([{ user: '101' }]);
    expect(lookups).toHaveLength(0);
  });

  it('Proxy-Require -> 420 with Unsupported; unknown scheme -> 416', () => {
    const { proxy } = setup();
    const withReq = inviteBytes(70).replace('CSeq: 1 INVITE', 'CSeq: 1 INVITE\r\nProxy-Require: foo');
    const r = send(proxy, withReq);
    expect(r.map((x) => x.status)).toEqual([420]);
    expect(getHeader(r[0], 'Unsupported')).toBe('foo');
    const mailto = inviteBytes(70)
      .replace('INVITE sip:101@10.0.0.1:5060', 'INVITE mailto:x@y')
      .replace('branch=z9hG4bKcaller1', 'branch=z9hG4bKcaller2');
    expect(send(proxy, mailto).map((x) => x.status)).toEqual([416]);
  });
});

describe('proxy: raw wire exchanges', () => {
  const CALLER: Address = { transport: 'UDP', host: '10.0.0.10', port: 5060 };
  const CALLEE: Address = { transport: 'UDP', host: '10.0.0.21', port: 5060 };

  function raw(
    method: string,
    uri: string,
    opts: { branch?: string; toTag?: string; extra?: string[] } = {},
  ): string {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 10.0.0.10:5060;branch=${opts.branch ?? 'z9hG4bKraw1'}`,
      'Max-Forwards: 70',
      'From: <sip:a@10.0.0.10>;tag=ft1',
      `To: <${uri}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      'Call-ID: raw-1@10.0.0.10',
      `CSeq: 1 ${method}`,
      'Contact: <sip:a@10.0.0.10>',
      ...(opts.extra ?? []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** Feeds wire bytes to the proxy and returns its effects (transmissions re-parsed from bytes). */
  function feed(proxy: PbxProxy, bytes: string | Uint8Array, from: Address, now = 0) {
    const parsed = parseMessage(bytes);
    if (!parsed.ok) throw new Error(parsed.error.reason);
    proxy.receive(parsed.message, from, now);
    return proxy.drain().map((e) => {
      if (e.type !== 'transmit') return e;
      const again = parseMessage(serializeMessage(e.message));
      if (!again.ok) throw new Error('proxy sent unparsable bytes');
      return { ...e, message: again.message };
    });
  }

  function withRegistrar(trusted?: (a: Address) => boolean): PbxProxy {
    const registrar = new Registrar({
      realm: 'office',
      nonceSecret: 'k',
      accounts: (ext) => (ext === '201' ? { extension: '201', password: 'pw' } : undefined),
      gateway: { nodeId: NODE_ID, host: '10.0.0.1', port: 5060, transport: 'UDP' },
    });
    let n = 0;
    return new PbxProxy(
      { host: '10.0.0.1', port: 5060, transport: 'UDP', trusted },
      () => `r${++n}`,
      registrar,
    );
  }

  it('an unauthenticated caller gets 407 and no lookup; a trusted source is routed without digest', () => {
    const untrusted = withRegistrar();
    const out = feed(untrusted, raw('INVITE', 'sip:9123@10.0.0.1:5060'), CALLER);
    const res = out.filter((e) => e.type === 'transmit').map((e) => e.type === 'transmit' && e.message);
    expect(res).toHaveLength(1);
    expect(res[0] && res[0].type === 'response' && res[0].status).toBe(407);
    expect(res[0] && getHeader(res[0], 'Proxy-Authenticate')).toMatch(/^Digest /);
    expect(out.some((e) => e.type === 'need-lookup')).toBe(false);

    const trusting = withRegistrar((a) => a.host === '10.0.0.10');
    const out2 = feed(trusting, raw('INVITE', 'sip:9123@10.0.0.1:5060'), CALLER);
    expect(out2.filter((e) => e.type === 'need-lookup')).toMatchObject([{ user: '9123' }]);
  });

  it('answers an OPTIONS keepalive to itself with 200 and Allow', () => {
    const proxy = withRegistrar();
    const out = feed(proxy, raw('OPTIONS', 'sip:10.0.0.1:5060'), CALLER);
    const r = out.find((e) => e.type === 'transmit');
    expect(r?.type === 'transmit' && r.message.type === 'response' && r.message.status).toBe(200);
    expect(r?.type === 'transmit' && getHeader(r.message, 'Allow')).toContain('INVITE');
  });

  it('requests to a configured office domain are for the proxy, whatever the port', () => {
    let n = 0;
    const proxy = new PbxProxy(
      { host: '10.0.0.1', port: 5062, transport: 'UDP', domains: ['office.lan'] },
      () => `r${++n}`,
    );
    const out = feed(proxy, raw('INVITE', 'sip:101@office.lan'), CALLER);
    expect(out.filter((e) => e.type === 'need-lookup')).toMatchObject([{ user: '101' }]);
    // Another domain is forwarded to its Request-URI, not looked up.
    const other = feed(proxy, raw('INVITE', 'sip:bob@192.0.2.77', { branch: 'z9hG4bKother' }), CALLER);
    const fwd = other.find((e) => e.type === 'transmit' && e.message.type === 'request');
    expect(fwd?.type === 'transmit' && fwd.to).toEqual({ transport: 'UDP', host: '192.0.2.77', port: 5060 });
  });

  it('an in-dialog request addressed to the proxy itself gets 481', () => {
    const proxy = withRegistrar(() => true);
    const out = feed(proxy, raw('BYE', 'sip:101@10.0.0.1:5060', { toTag: 'tt' }), CALLER);
    const r = out.find((e) => e.type === 'transmit');
    expect(r?.type === 'transmit' && r.message.type === 'response' && r.message.status).toBe(481);
  });

  it('answers a trunk challenge with the target credentials on a new branch (once)', () => {
    let n = 0;
    const proxy = new PbxProxy({ host: '10.0.0.1', port: 5060, transport: 'UDP' }, () => `r${++n}`);
    const TRUNK: Address = { transport: 'UDP', host: '192.0.2.50', port: 5080 };
    const first = feed(proxy, raw('INVITE', 'sip:90123@10.0.0.1:5060', { branch: 'z9hG4bKtrunk1' }), CALLER);
    const need = first.find((e) => e.type === 'need-lookup');
    if (need?.type !== 'need-lookup') throw new Error('no lookup');
    const uri: SipUri = {
      scheme: 'sip',
      user: '0123',
      password: null,
      host: '192.0.2.50',
      port: 5080,
      params: {},
      headers: {},
    };
    proxy.lookupResult(
      need.id,
      {
        type: 'fork',
        targets: [{ uri, address: TRUNK, credentials: { username: 'office', password: 's3cret' } }],
      },
      0,
    );
    const inv1 = proxy.drain().find((e) => e.type === 'transmit' && e.message.type === 'request');
    if (inv1?.type !== 'transmit' || inv1.message.type !== 'request') throw new Error('not forwarded');
    const secret = 'trunk-secret';
    const nonce = createNonce({ secret }, 0, new Uint8Array(8));
    const challenge = createResponse(inv1.message, 407, undefined, {
      toTag: 'kam1',
      headers: [
        { name: 'Proxy-Authenticate', value: createChallenge({ realm: 'trunk', nonce, algorithm: 'MD5' }) },
      ],
    });
    const out = feed(proxy, serializeMessage(challenge), TRUNK, 10);
    const sent = out
      .filter((e) => e.type === 'transmit')
      .map((e) => (e.type === 'transmit' ? e.message : null));
    // The 407 was ACKed (transaction layer), not forwarded; a new INVITE carries credentials.
    expect(sent.some((m) => m?.type === 'response')).toBe(false);
    const inv2 = sent.find((m) => m?.type === 'request' && m.method === 'INVITE') as SipRequest;
    expect(inv2.cseq.seq).toBe(1);
    expect(topBranch(inv2)).not.toBe(topBranch(inv1.message));
    const creds = getHeader(inv2, 'Proxy-Authorization') as string;
    const verdict = verifyAuthorization(
      creds,
      { method: 'INVITE', realm: 'trunk', lookupPassword: (u) => (u === 'office' ? 's3cret' : undefined) },
      nonceChecker({ secret }, 10, 60_000),
    );
    expect(verdict.ok).toBe(true);
    // A second challenge is final: it goes upstream as the best response.
    const again = createResponse(inv2, 407, undefined, {
      toTag: 'kam2',
      headers: [
        { name: 'Proxy-Authenticate', value: createChallenge({ realm: 'trunk', nonce, algorithm: 'MD5' }) },
      ],
    });
    const up = feed(proxy, serializeMessage(again), TRUNK, 20).filter(
      (e) => e.type === 'transmit' && e.message.type === 'response',
    );
    expect(up.map((e) => e.type === 'transmit' && e.message.type === 'response' && e.message.status)).toEqual(
      [407],
    );
  });

  it('absorbs an INVITE retransmitted after the 2xx and forwards the 2xx retransmission', () => {
    let n = 0;
    const proxy = new PbxProxy({ host: '10.0.0.1', port: 5060, transport: 'UDP' }, () => `r${++n}`);
    const invite = raw('INVITE', 'sip:101@10.0.0.1:5060');
    const first = feed(proxy, invite, CALLER);
    const need = first.find((e) => e.type === 'need-lookup');
    if (need?.type !== 'need-lookup') throw new Error('no lookup');
    proxy.lookupResult(need.id, { type: 'fork', targets: [{ uri: proxyUri('b1'), address: CALLEE }] }, 10);
    const fwd = proxy.drain().find((e) => e.type === 'transmit' && e.message.type === 'request');
    if (fwd?.type !== 'transmit' || fwd.message.type !== 'request') throw new Error('not forwarded');
    expect(fwd.to).toEqual(CALLEE);
    expect(fwd.message.maxForwards).toBe(69);
    expect(fwd.message.via).toHaveLength(2);
    const ok = serializeMessage(createResponse(fwd.message, 200, undefined, { toTag: 'callee1' }));
    const up = feed(proxy, ok, CALLEE, 20).filter((e) => e.type === 'transmit');
    expect(up).toHaveLength(1);
    expect(up[0].type === 'transmit' && up[0].to).toEqual(CALLER);
    expect(up[0].type === 'transmit' && up[0].message.via).toHaveLength(1);

    // The caller did not see the 200 yet and retransmits its INVITE: not forked again.
    const again = feed(proxy, invite, CALLER, 500);
    expect(again.filter((e) => e.type === 'need-lookup' || e.type === 'transmit')).toEqual([]);
    // The callee retransmits its 200: forwarded statelessly to the caller.
    const re = feed(proxy, ok, CALLEE, 520).filter((e) => e.type === 'transmit');
    expect(re).toHaveLength(1);
    expect(re[0].type === 'transmit' && re[0].message.type === 'response' && re[0].message.status).toBe(200);
    expect(proxy.load.transactions).toBe(0);
  });
});

describe('proxy: desk phones through the gateway', () => {
  it('a desk phone registers with digest, is called from the office and calls the office', () => {
    let office: Phone | null = null;
    const { sim, px, lookups } = setup({
      registrar: true,
      lookup: (e) =>
        e.user === '101' && office
          ? { type: 'fork', targets: [target(office)] }
          : { type: 'reject', status: 404 },
    });
    // The desk phone's UA answers the digest challenges (401 for REGISTER, 407 for calls).
    const desk = sim.phone('201', 50, {}, (res: SipResponse, req: SipRequest) => {
      const proxyAuth = res.status === 407;
      const challenge = getHeader(res, proxyAuth ? 'Proxy-Authenticate' : 'WWW-Authenticate');
      if (!challenge) return null;
      const uri = req.method === 'REGISTER' ? 'sip:10.0.0.1:5060' : 'sip:101@10.0.0.1:5060';
      const a = buildAuthorization(
        challenge,
        { username: '201', password: 'pw', method: req.method, uri },
        'cn',
        1,
      );
      return a.ok ? { name: proxyAuth ? 'Proxy-Authorization' : 'Authorization', value: a.value } : null;
    }) as Phone;
    office = sim.phone('101', 60) as Phone;
    sim.act((now) =>
      desk.machine.sendRequest(
        'REGISTER',
        proxyUri('201'),
        now,
        {
          headers: [
            { name: 'Contact', value: '<sip:201@10.0.0.50:5060>' },
            { name: 'Expires', value: '300' },
          ],
        },
        PROXY_ADDR,
      ),
    );
    sim.run(1_000);
    expect(sim.sentBy(px, 401)).toHaveLength(1);
    expect(sim.sentBy(px, 200)).toHaveLength(1);
    const pub = sim.eventsOf(px, 'publish');
    expect(pub).toHaveLength(1);
    expect(pub[0]).toMatchObject({
      aor: '201',
      contacts: [{ uri: 'sip:201@10.0.0.1:5060', deskPhone: true }],
    });

    // Office -> desk phone: the caller's peer resolved 201 to the gateway; the gateway rings the phone.
    callee(sim, desk, 'answer', 300);
    sim.act((now) => office?.machine.call(proxyUri('201'), null, now));
    sim.run(3_000);
    expect(lookups).toHaveLength(0);
    expect(sim.sentBy(px, 'INVITE').map((s) => s.to.host)).toEqual(['10.0.0.50']);
    expect(sim.eventsOf(office, 'call-answered')).toHaveLength(1);
    const c1 = sim.eventsOf(office, 'call-answered')[0].call as string;
    sim.act((now) => office?.machine.bye(c1, now));
    sim.run(6_000);
    expect(sim.eventsOf(desk, 'call-ended')[0]).toMatchObject({ reason: 'remote-bye' });

    // Desk phone -> office: planned by the coordinator (need-lookup says which phone called).
    callee(sim, office, 'answer', 300);
    sim.act((now) => desk.machine.call(proxyUri('101'), null, now, { destination: PROXY_ADDR }));
    sim.run(10_000);
    // The phone had to prove it is 201 (407) before the gateway would route its call.
    expect(sim.sentBy(px, 407)).toHaveLength(1);
    expect(lookups).toMatchObject([{ user: '101', fromDeskPhone: '201', source: { host: '10.0.0.50' } }]);
    // (the first call-answered at the desk phone was the ACK of the office's call)
    expect(sim.eventsOf(desk, 'call-answered')).toHaveLength(2);
    expect(sim.eventsOf(office, 'call-answered')).toHaveLength(2);
    // The office side hangs up: its BYE goes through the gateway to the phone.
    const c2 = sim.eventsOf(office, 'call-answered')[1].call as string;
    sim.act((now) => office?.machine.bye(c2, now));
    sim.run(14_000);
    const byes = sim.sentBy(px, 'BYE');
    expect(byes[byes.length - 1].to.host).toBe('10.0.0.50');
    expect(sim.eventsOf(desk, 'call-ended')).toHaveLength(2);

    // Registration expiry is reaped by the timer and unpublished.
    sim.run(400_000);
    expect(sim.eventsOf(px, 'unpublish')).toMatchObject([{ aor: '201' }]);
  });
});
